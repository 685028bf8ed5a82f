"""The provider and model catalogue Bambi starts with.

Called by the data migration and by the test fixtures (a test run may skip migrations), so
there is one copy. Operators edit everything afterwards in the admin; `seed_catalogue` only
creates what is missing and never overwrites an operator's change.

`capabilities` keys (all optional except max_images / max_prompt_length / price_per_image):
  sizes            allowed "WxH" values (OpenAI)            -> option `size`
  aspect_ratios    allowed ratios (Google, xAI)             -> option `aspect_ratio`
  qualities        allowed qualities                        -> option `quality`
  styles           allowed styles (DALL·E 3)                -> option `style`
  resolutions      allowed resolutions (xAI 1k/2k, Imagen 1K/2K) -> option `resolution`
  output_formats   gpt-image output formats                 -> option `output_format`
  backgrounds      gpt-image backgrounds                    -> option `background`
  max_images       largest `count` in one request
  max_prompt_length  in characters
  price_per_image  USD as a string, or {quality: price} when the price depends on quality
  token_prices     optional, USD per million tokens for models billed by tokens (gpt-image):
                   {"text_input", "image_input", "image_output"} as strings; a generation's
                   cost is then computed from the `usage` its answer reports. Not seeded:
                   the per-image prices are OpenAI's own figures for these images, and they
                   keep a budget's count exact (what is reserved is what is settled)
  defaults         {option: value} used when the request leaves an option out
"""

from decimal import Decimal, InvalidOperation


def price_per_image(capabilities: dict, quality: str | None) -> Decimal | None:
    """The catalogue price of one image (USD), by quality when the price depends on it."""
    price = capabilities.get("price_per_image")
    if isinstance(price, dict):
        price = price.get(quality or "") or price.get("auto") or next(iter(price.values()), None)
    try:
        return Decimal(str(price)) if price is not None else None
    except InvalidOperation:
        return None


def cost_from_usage(capabilities: dict, usage: dict | None) -> Decimal | None:
    """The cost of a call from the token `usage` its answer reported (gpt-image:
    `input_tokens_details.text_tokens` / `image_tokens`, `output_tokens`), priced with the
    model's `token_prices`; None when either is missing or malformed (the catalogue price
    is used instead)."""
    prices = capabilities.get("token_prices")
    if not isinstance(prices, dict) or not isinstance(usage, dict):
        return None
    details = usage.get("input_tokens_details")
    details = details if isinstance(details, dict) else {}
    counts = {
        "text_input": details.get("text_tokens", usage.get("input_tokens", 0)),
        "image_input": details.get("image_tokens", 0),
        "image_output": usage.get("output_tokens"),
    }
    total = Decimal(0)
    try:
        for kind, tokens in counts.items():
            if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 0:
                return None
            total += Decimal(str(prices[kind])) * tokens
    except (KeyError, InvalidOperation):
        return None
    return total / 1_000_000


def estimate_cost(capabilities: dict, options: dict) -> Decimal | None:
    """count × price per image, from the catalogue (the provider's bill is the authority)."""
    unit = price_per_image(capabilities, options.get("quality"))
    return None if unit is None else unit * int(options.get("count") or 1)


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


def seed_catalogue(provider_model, image_model_model) -> None:
    """Create the missing providers and models; leave existing rows as operators left them.

    Takes the model classes so the data migration can pass its historical models.
    """
    for spec in PROVIDERS:
        fields = {k: v for k, v in spec.items() if k not in ("slug", "models")}
        provider, _ = provider_model.objects.get_or_create(slug=spec["slug"], defaults=fields)
        for model_spec in spec["models"]:
            image_model_model.objects.get_or_create(
                provider=provider,
                model_id=model_spec["model_id"],
                defaults={k: v for k, v in model_spec.items() if k != "model_id"},
            )
