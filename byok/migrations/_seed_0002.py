"""The catalogue as migration 0002 seeded it (byok/catalogue.py at that time), frozen.

0004_catalogue_refresh compares each model row with its entry here: a row still equal to what
was seeded is refreshed, a row an operator edited is left alone. Never edit this file (the
leading underscore keeps Django's migration loader from reading it as a migration).
"""

# ruff: noqa: E501

OPENAI_GPT_IMAGE = {
    "sizes": ["1024x1024", "1536x1024", "1024x1536", "auto"],
    "qualities": ["low", "medium", "high", "auto"],
    "output_formats": ["png", "jpeg", "webp"],
    "backgrounds": ["auto", "opaque", "transparent"],
    "max_images": 10,
    "max_prompt_length": 32000,
}
IMAGEN_RATIOS = ["1:1", "3:4", "4:3", "9:16", "16:9"]
XAI_RATIOS = ["1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2", "auto"]

PROVIDERS = [
    {
        "slug": "openai",
        "name": "OpenAI",
        "description": "OpenAI image models: GPT Image and DALL·E.",
        "website_url": "https://openai.com",
        "api_base_url": "https://api.openai.com",
        "models": [
            {
                "model_id": "gpt-image-1.5",
                "name": "GPT Image 1.5",
                "description": "OpenAI's current image model.",
                "capabilities": {
                    **OPENAI_GPT_IMAGE,
                    "price_per_image": {
                        "low": "0.009",
                        "medium": "0.034",
                        "high": "0.133",
                        "auto": "0.034",
                    },
                    "defaults": {"size": "1024x1024", "quality": "auto"},
                },
            },
            {
                "model_id": "gpt-image-1-mini",
                "name": "GPT Image 1 mini",
                "description": "Cheaper, faster GPT Image.",
                "capabilities": {
                    **OPENAI_GPT_IMAGE,
                    "price_per_image": {
                        "low": "0.005",
                        "medium": "0.011",
                        "high": "0.036",
                        "auto": "0.011",
                    },
                    "defaults": {"size": "1024x1024", "quality": "auto"},
                },
            },
            {
                "model_id": "dall-e-3",
                "name": "DALL·E 3",
                "description": "DALL·E 3 (announced as retired in 2026).",
                "capabilities": {
                    "sizes": ["1024x1024", "1792x1024", "1024x1792"],
                    "qualities": ["standard", "hd"],
                    "styles": ["vivid", "natural"],
                    "max_images": 1,
                    "max_prompt_length": 4000,
                    "price_per_image": {"standard": "0.04", "hd": "0.08"},
                    "defaults": {"size": "1024x1024", "quality": "standard", "style": "vivid"},
                },
            },
            {
                "model_id": "dall-e-2",
                "name": "DALL·E 2",
                "description": "DALL·E 2 (announced as retired in 2026).",
                "capabilities": {
                    "sizes": ["256x256", "512x512", "1024x1024"],
                    "max_images": 10,
                    "max_prompt_length": 1000,
                    "price_per_image": "0.020",
                    "defaults": {"size": "1024x1024"},
                },
            },
        ],
    },
    {
        "slug": "google",
        "name": "Google",
        "description": "Google Imagen and Gemini image models through the Gemini API.",
        "website_url": "https://ai.google.dev",
        "api_base_url": "https://generativelanguage.googleapis.com",
        "models": [
            {
                "model_id": "imagen-4.0-generate-001",
                "name": "Imagen 4",
                "description": "Imagen 4 Standard.",
                "capabilities": {
                    "aspect_ratios": IMAGEN_RATIOS,
                    "resolutions": ["1K", "2K"],
                    "max_images": 4,
                    "max_prompt_length": 1900,
                    "price_per_image": "0.04",
                    "defaults": {"aspect_ratio": "1:1"},
                },
            },
            {
                "model_id": "imagen-3.0-generate-002",
                "name": "Imagen 3",
                "description": "Imagen 3 (the seed's Imagen).",
                "capabilities": {
                    "aspect_ratios": IMAGEN_RATIOS,
                    "max_images": 4,
                    "max_prompt_length": 1900,
                    "price_per_image": "0.03",
                    "defaults": {"aspect_ratio": "1:1"},
                },
            },
            {
                "model_id": "gemini-2.5-flash-image",
                "name": "Gemini 2.5 Flash Image",
                "description": "Nano Banana: Gemini's native image generation.",
                "capabilities": {
                    "aspect_ratios": [
                        "1:1",
                        "2:3",
                        "3:2",
                        "3:4",
                        "4:3",
                        "4:5",
                        "5:4",
                        "9:16",
                        "16:9",
                        "21:9",
                    ],
                    "max_images": 1,
                    "max_prompt_length": 8000,
                    "price_per_image": "0.039",
                    "defaults": {"aspect_ratio": "1:1"},
                },
            },
        ],
    },
    {
        "slug": "xai",
        "name": "xAI",
        "description": "xAI Grok image generation.",
        "website_url": "https://x.ai",
        "api_base_url": "https://api.x.ai",
        "models": [
            {
                "model_id": "grok-imagine-image",
                "name": "Grok Imagine",
                "description": "xAI's current image model.",
                "capabilities": {
                    "aspect_ratios": XAI_RATIOS,
                    "resolutions": ["1k", "2k"],
                    "max_images": 10,
                    "max_prompt_length": 8000,
                    "price_per_image": "0.02",
                    "defaults": {"aspect_ratio": "1:1"},
                },
            },
            {
                "model_id": "grok-2-image-1212",
                "name": "Grok 2 Image",
                "description": "The seed's Grok image model.",
                "capabilities": {
                    "max_images": 10,
                    "max_prompt_length": 1024,
                    "price_per_image": "0.07",
                },
            },
        ],
    },
]
