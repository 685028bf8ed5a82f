"""The provider and model catalogue: what Bambi starts with, and prices read from it.

`PROVIDERS` (byok/catalogue_data.py) is called by the data migrations and by the test fixtures
(a test run may skip migrations), so there is one copy. Operators edit everything afterwards in
the admin; `seed_catalogue` only creates what is missing and `catalogue_refresh` only changes a
row still equal to what an earlier migration seeded: neither overwrites an operator's change.

`capabilities` keys (all optional except max_images / max_prompt_length / price_per_image),
with the option each list of allowed values stands for:
  sizes              "WxH" values (OpenAI)                        -> `size`
  aspect_ratios      ratios (Google, xAI)                         -> `aspect_ratio`
  qualities          qualities                                    -> `quality`
  styles             styles (DALL·E 3)                            -> `style`
  resolutions        xAI 1k/2k, Imagen 1K/2K (sampleImageSize),
                     Gemini 1K…4K (imageSize)                     -> `resolution`
  output_formats     gpt-image output formats                     -> `output_format`
  output_compression true: 0-100 for JPEG/WebP output             -> `output_compression`
  backgrounds        gpt-image backgrounds                        -> `background`
  moderations        gpt-image moderation (generations only)      -> `moderation`
  input_fidelities   gpt-image input fidelity (edits only)        -> `input_fidelity`
  person_generations Imagen's personGeneration values             -> `person_generation`
  max_images         largest `count` in one request
  max_prompt_length  in characters
  max_input_images   input images an edit takes (0 or absent: text only)
  mask               true when the model takes a mask (PNG, transparent = change)
  price_per_image    USD as a string, or {quality or resolution: price}
  price_per_input_image  USD per input image: a string, or {input fidelity: price}
  token_prices       USD per 1M tokens {text_input, image_input, output}: the recorded cost is
                     the answer's usage times these when the provider reports tokens
  shutdown_date      ISO date the provider announced for the model's shutdown (shown, never
                     acted on: operators switch models off)
  defaults           {option: value} used when the request leaves an option out
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from byok.catalogue_data import PROVIDERS

__all__ = [
    "PROVIDERS",
    "catalogue_refresh",
    "cost_from_usage",
    "estimate_cost",
    "price_per_image",
    "seed_catalogue",
]

MILLION = Decimal(1_000_000)


def _price(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _lookup(price, *keys: str | None):
    """A price, or the entry of a {key: price} table for the first of `keys` it has."""
    if not isinstance(price, dict):
        return price
    for key in keys:
        if key and key in price:
            return price[key]
    return price.get("auto") or next(iter(price.values()), None)


def price_per_image(capabilities: dict, options: dict) -> Decimal | None:
    """The catalogue price of one image (USD), by quality or resolution where it depends."""
    price = capabilities.get("price_per_image")
    return _price(_lookup(price, options.get("quality"), options.get("resolution")))


def price_per_input_image(capabilities: dict, options: dict) -> Decimal:
    """What the provider charges for one input image of an edit (0 when it does not say)."""
    price = capabilities.get("price_per_input_image")
    return _price(_lookup(price, options.get("input_fidelity"), "low")) or Decimal(0)


def estimate_cost(capabilities: dict, options: dict, *, inputs: int = 0) -> Decimal | None:
    """count × price per image, plus the input images of an edit, from the catalogue. An
    estimate: the provider's bill is the authority."""
    unit = price_per_image(capabilities, options)
    if unit is None:
        return None
    return unit * int(options.get("count") or 1) + inputs * price_per_input_image(
        capabilities, options
    )


def cost_from_usage(capabilities: dict, usage: dict) -> Decimal | None:
    """The cost of a call from the tokens its answer reports, at the model's `token_prices`.

    OpenAI's gpt-image `usage` (input_tokens_details: text/image; output_tokens) and Gemini's
    `usageMetadata` (promptTokensDetails / candidatesTokensDetails by modality). None when the
    model has no token prices or the answer no token counts (the caller then estimates)."""
    rates = capabilities.get("token_prices")
    if not isinstance(rates, dict) or not isinstance(usage, dict):
        return None
    text_in, image_in, out = (
        _price(rates.get(name)) for name in ("text_input", "image_input", "output")
    )
    if None in (text_in, image_in, out):
        return None
    if _is_count(usage.get("output_tokens")):  # OpenAI
        details = usage.get("input_tokens_details") or {}
        image_tokens = _count(details.get("image_tokens"))
        text_tokens = (
            _count(details.get("text_tokens"))
            if "text_tokens" in details
            else _count(usage.get("input_tokens")) - image_tokens
        )
        output_tokens = _count(usage["output_tokens"])
    elif _is_count(usage.get("candidatesTokenCount")):  # Gemini
        prompt = _by_modality(usage.get("promptTokensDetails"))
        image_tokens = prompt.get("IMAGE", 0)
        text_tokens = _count(usage.get("promptTokenCount")) - image_tokens
        # Thinking tokens are billed as output too.
        output_tokens = _count(usage["candidatesTokenCount"]) + _count(
            usage.get("thoughtsTokenCount")
        )
    else:
        return None
    total = text_tokens * text_in + image_tokens * image_in + output_tokens * out
    return max(total, Decimal(0)) / MILLION


def _is_count(value) -> bool:
    """A token count as the providers write it; anything else (text, a negative number, a
    boolean) means the answer cannot be priced by tokens and the catalogue price is used."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _by_modality(details) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in details if isinstance(details, list) else []:
        if isinstance(entry, dict):
            modality = str(entry.get("modality") or "")
            counts[modality] = counts.get(modality, 0) + _count(entry.get("tokenCount"))
    return counts


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


MODEL_FIELDS = ("name", "description", "capabilities", "is_active")


def catalogue_refresh(provider_model, image_model_model, *, seeded: list) -> dict[str, list]:
    """Bring the catalogue up to `PROVIDERS`, changing only what nobody edited.

    `seeded` is the catalogue as an earlier migration wrote it. A model row whose name,
    description, capabilities and active flag all still equal that seed gets the current
    values; a row that differs in any of them is an operator's and stays as it is; a model
    missing from the database is created (unless its provider row is gone). Returns what it
    did, by model id: {"refreshed": [...], "created": [...], "kept": [...]}.
    """
    before = {
        (spec["slug"], model["model_id"]): model for spec in seeded for model in spec["models"]
    }
    done: dict[str, list] = {"refreshed": [], "created": [], "kept": []}
    for spec in PROVIDERS:
        provider = provider_model.objects.filter(slug=spec["slug"]).first()
        if provider is None:
            continue  # an operator removed the provider: not brought back
        for model_spec in spec["models"]:
            wanted = _model_fields(model_spec)
            row = image_model_model.objects.filter(
                provider=provider, model_id=model_spec["model_id"]
            ).first()
            if row is None:
                image_model_model.objects.create(
                    provider=provider, model_id=model_spec["model_id"], **wanted
                )
                done["created"].append(model_spec["model_id"])
                continue
            old = before.get((spec["slug"], model_spec["model_id"]))
            current = {field: getattr(row, field) for field in MODEL_FIELDS}
            if current == wanted:
                continue
            if old is None or current != _model_fields(old):
                done["kept"].append(model_spec["model_id"])
                continue
            for field, value in wanted.items():
                setattr(row, field, value)
            row.save(update_fields=[*MODEL_FIELDS, "updated_at"])
            done["refreshed"].append(model_spec["model_id"])
    return done


def _model_fields(spec: dict) -> dict:
    return {
        "name": spec["name"],
        "description": spec.get("description", ""),
        "capabilities": spec.get("capabilities", {}),
        "is_active": spec.get("is_active", True),
    }
