"""The providers and models Bambi starts with, and what each model can do (its `capabilities`).

Data only; byok/catalogue.py seeds it and reads prices from it. Sources, checked 2026-11-30
(docs/catalogue.md keeps the list): OpenAI's deprecations page and the openai-python SDK 3.57
(models, edit fields, limits), OpenAI's model pages (token prices); Google's Gemini API
changelog, deprecations and pricing pages; docs.x.ai (image generation and editing, the
May 15 and Nov 2 migrations). A price marked "estimate" below was not published per image by
the provider: the recorded cost of a call then comes from the answer's own usage.
"""

# OpenAI gpt-image: what every model of the family takes. Edits (`/v1/images/edits`) take up to
# 16 input images and a mask (a PNG, same size as the first image); `moderation` exists on
# generations only; `output_compression` (0-100) applies to JPEG and WebP output.
GPT_IMAGE = {
    "sizes": ["1024x1024", "1536x1024", "1024x1536", "auto"],
    "qualities": ["low", "medium", "high", "auto"],
    "output_formats": ["png", "jpeg", "webp"],
    "output_compression": True,
    "backgrounds": ["auto", "opaque", "transparent"],
    "moderations": ["auto", "low"],
    "max_images": 10,
    "max_prompt_length": 32000,
    "max_input_images": 16,
    "mask": True,
    "defaults": {"size": "1024x1024", "quality": "auto"},
}
GEMINI_RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
IMAGEN_RATIOS = ["1:1", "3:4", "4:3", "9:16", "16:9"]
XAI_RATIOS = [
    *["1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2"],
    *["9:19.5", "19.5:9", "9:20", "20:9", "1:2", "2:1", "auto"],
]
TEXT_ONLY = {"max_input_images": 0, "mask": False}


def tokens(text_input: str, image_input: str, output: str) -> dict:
    """`token_prices`: USD per 1M tokens of text in, image in and (image) out."""
    return {"text_input": text_input, "image_input": image_input, "output": output}


PROVIDERS = [
    {
        "slug": "openai",
        "name": "OpenAI",
        "description": "OpenAI image models: GPT Image and DALL·E.",
        "website_url": "https://openai.com",
        "api_base_url": "https://api.openai.com",
        "models": [
            {
                "model_id": "gpt-image-2",
                "name": "GPT Image 2",
                "description": "OpenAI's current image model: larger sizes, edits with up to 16 "
                "images.",
                "capabilities": {
                    **GPT_IMAGE,
                    "sizes": [
                        *["1024x1024", "1536x1024", "1024x1536", "2048x2048"],
                        *["2048x1152", "1152x2048", "3840x2160", "2160x3840", "auto"],
                    ],
                    # No transparent background on gpt-image-2 (OpenAI's model page).
                    "backgrounds": ["auto", "opaque"],
                    # USD per 1M tokens (model page); the cost is read from the answer's usage.
                    "token_prices": tokens("5.00", "8.00", "30.00"),
                    # Estimate: 1024² output tokens × the output rate.
                    "price_per_image": {"low": "0.006", "medium": "0.053", "high": "0.211"},
                    "price_per_input_image": "0.004",  # estimate
                },
            },
            {
                "model_id": "gpt-image-1.5",
                "name": "GPT Image 1.5",
                "description": "OpenAI announced its shutdown for 1 December 2026 (replacement: "
                "GPT Image 2).",
                "capabilities": {
                    **GPT_IMAGE,
                    "input_fidelities": ["low", "high"],
                    "token_prices": tokens("5.00", "8.00", "32.00"),
                    "price_per_image": {
                        "low": "0.009",
                        "medium": "0.034",
                        "high": "0.133",
                        "auto": "0.034",
                    },
                    # Estimate: an input image in tokens (about 4,000 more at high fidelity).
                    "price_per_input_image": {"low": "0.003", "high": "0.036"},
                    "shutdown_date": "2026-12-01",
                },
            },
            {
                "model_id": "gpt-image-1-mini",
                "name": "GPT Image 1 mini",
                "description": "Cheaper, faster GPT Image. OpenAI announced its shutdown for "
                "1 December 2026.",
                "capabilities": {
                    **GPT_IMAGE,
                    # input_fidelity: "low" only on mini, OpenAI's default: not offered.
                    "token_prices": tokens("2.00", "2.50", "8.00"),
                    "price_per_image": {
                        "low": "0.005",
                        "medium": "0.011",
                        "high": "0.036",
                        "auto": "0.011",
                    },
                    "price_per_input_image": "0.001",  # estimate
                    "shutdown_date": "2026-12-01",
                },
            },
            {
                "model_id": "dall-e-3",
                "name": "DALL·E 3",
                "description": "Retired by OpenAI on 12 May 2026.",
                "is_active": False,
                "capabilities": {
                    "sizes": ["1024x1024", "1792x1024", "1024x1792"],
                    "qualities": ["standard", "hd"],
                    "styles": ["vivid", "natural"],
                    "max_images": 1,
                    "max_prompt_length": 4000,
                    **TEXT_ONLY,
                    "price_per_image": {"standard": "0.04", "hd": "0.08"},
                    "defaults": {"size": "1024x1024", "quality": "standard", "style": "vivid"},
                    "shutdown_date": "2026-05-12",
                },
            },
            {
                "model_id": "dall-e-2",
                "name": "DALL·E 2",
                "description": "Retired by OpenAI on 12 May 2026.",
                "is_active": False,
                "capabilities": {
                    "sizes": ["256x256", "512x512", "1024x1024"],
                    "max_images": 10,
                    "max_prompt_length": 1000,
                    **TEXT_ONLY,
                    "price_per_image": "0.020",
                    "defaults": {"size": "1024x1024"},
                    "shutdown_date": "2026-05-12",
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
                "model_id": "gemini-nano-banana-2.1",
                "name": "Nano Banana 2.1",
                "description": "Gemini's fast image model: edits with up to 14 reference images, "
                "up to 4K.",
                "capabilities": {
                    "aspect_ratios": [*GEMINI_RATIOS, "1:4", "4:1", "1:8", "8:1"],
                    "resolutions": ["1K", "2K", "4K"],
                    "max_images": 1,
                    "max_prompt_length": 8000,
                    "max_input_images": 14,
                    "mask": False,
                    "token_prices": tokens("1.50", "1.50", "30.00"),
                    # Estimates from third-party price lists; Google bills tokens.
                    "price_per_image": {"1K": "0.0336", "2K": "0.0504", "4K": "0.1134"},
                    "price_per_input_image": "0.0008",
                    "defaults": {"aspect_ratio": "1:1", "resolution": "1K"},
                },
            },
            {
                "model_id": "gemini-3-pro-image",
                "name": "Gemini 3 Pro Image",
                "description": "Nano Banana Pro: edits and composes up to 14 reference images, "
                "up to 4K.",
                "capabilities": {
                    "aspect_ratios": GEMINI_RATIOS,
                    "resolutions": ["1K", "2K", "4K"],  # sent as imageSize
                    "max_images": 1,
                    "max_prompt_length": 8000,
                    "max_input_images": 14,
                    "mask": False,
                    "token_prices": tokens("2.00", "2.00", "120.00"),
                    "price_per_image": {"1K": "0.134", "2K": "0.134", "4K": "0.24"},
                    "price_per_input_image": "0.0011",
                    "defaults": {"aspect_ratio": "1:1", "resolution": "1K"},
                },
            },
            {
                "model_id": "gemini-2.5-flash-image",
                "name": "Gemini 2.5 Flash Image",
                "description": "Nano Banana: Gemini's native image generation and editing. Google "
                "announced its shutdown for 2 October 2026.",
                "capabilities": {
                    "aspect_ratios": GEMINI_RATIOS,
                    "max_images": 1,
                    "max_prompt_length": 8000,
                    "max_input_images": 3,  # Google: "works best with up to 3 images"
                    "mask": False,
                    "token_prices": tokens("0.30", "0.30", "30.00"),
                    "price_per_image": "0.039",
                    "price_per_input_image": "0.0003",
                    "defaults": {"aspect_ratio": "1:1"},
                    "shutdown_date": "2026-10-02",
                },
            },
            {
                "model_id": "imagen-4.0-generate-001",
                "name": "Imagen 4",
                "description": "Imagen 4 Standard (text only). Google announced its shutdown for "
                "17 August 2026.",
                "capabilities": {
                    "aspect_ratios": IMAGEN_RATIOS,
                    "resolutions": ["1K", "2K"],  # sent as sampleImageSize
                    "person_generations": ["dont_allow", "allow_adult", "allow_all"],
                    "max_images": 4,
                    "max_prompt_length": 1900,
                    **TEXT_ONLY,
                    "price_per_image": "0.04",
                    "defaults": {"aspect_ratio": "1:1"},
                    "shutdown_date": "2026-08-17",
                },
            },
            {
                "model_id": "imagen-3.0-generate-002",
                "name": "Imagen 3",
                "description": "Shut down by Google on 10 November 2025.",
                "is_active": False,
                "capabilities": {
                    "aspect_ratios": IMAGEN_RATIOS,
                    "max_images": 4,
                    "max_prompt_length": 1900,
                    **TEXT_ONLY,
                    "price_per_image": "0.03",
                    "defaults": {"aspect_ratio": "1:1"},
                    "shutdown_date": "2025-11-10",
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
                "model_id": "grok-imagine-image-2.0",
                "name": "Grok Imagine 2.0",
                "description": "xAI's current image model: quality tiers, edits with up to 5 "
                "images.",
                "capabilities": {
                    "aspect_ratios": [*XAI_RATIOS[:-1], "21:9", "5:2", "auto"],
                    "resolutions": ["1k", "2k"],
                    "qualities": ["low", "medium"],
                    "max_images": 10,
                    "max_prompt_length": 8000,
                    "max_input_images": 5,
                    "mask": False,
                    "price_per_image": "0.05",  # estimate; the answer states the exact cost
                    "price_per_input_image": "0.002",
                    "defaults": {"aspect_ratio": "1:1"},
                },
            },
            {
                "model_id": "grok-imagine-image",
                "name": "Grok Imagine",
                "description": "xAI's image model: generates and edits (up to 3 images).",
                "capabilities": {
                    "aspect_ratios": XAI_RATIOS,
                    "resolutions": ["1k", "2k"],
                    "max_images": 10,
                    "max_prompt_length": 8000,
                    "max_input_images": 3,
                    "mask": False,
                    "price_per_image": "0.02",
                    # xAI bills an edit's input images too; the answer states the exact cost.
                    "price_per_input_image": "0.002",
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
