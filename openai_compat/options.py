"""OpenAI's request fields -> the generation form's options, honestly for every provider.

`size` is OpenAI's "WxH". A model that lists `sizes` (OpenAI's own) takes them as they are.
A model of aspect ratios (Imagen, Gemini, xAI) takes the OpenAI sizes whose ratio it offers,
as that ratio (1024x1024 -> 1:1, 1536x1024 -> 3:2, 1024x1536 -> 2:3, 1792x1024 -> 16:9,
1024x1792 -> 9:16); any other size is a 400 naming the sizes the model takes, never a silent
square. `auto` (OpenAI's default) leaves the choice to the model's default.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from byok.models import ImageModel
from openai_compat.errors import OpenAIError

SIZE_RATIOS = {
    "1024x1024": "1:1",
    "1536x1024": "3:2",
    "1024x1536": "2:3",
    "1792x1024": "16:9",
    "1024x1792": "9:16",
}
AUTO = "auto"
# The request's fields that are the form's options under the same name.
SAME_NAME = ("quality", "background", "output_format", "output_compression", "style")
# Bambi's own fields for what OpenAI has no name for (sent with the SDK's extra_body).
EXTENSIONS = ("aspect_ratio", "resolution")
# An edit's own: how closely to keep the input (OpenAI), the images and the mask (read by
# generations.inputs from the uploaded files).
EDIT_FIELDS = ("input_fidelity", "input_images", "mask")


def sizes_for(model: ImageModel) -> list[str]:
    """The `size` values `model` takes."""
    capabilities = model.capabilities or {}
    if capabilities.get("sizes"):
        return list(capabilities["sizes"])
    ratios = capabilities.get("aspect_ratios") or []
    return [size for size, ratio in SIZE_RATIOS.items() if ratio in ratios] + [AUTO]


def size_option(model: ImageModel, size: str | None) -> dict:
    """`size` as the form's option for `model`: {"size": …}, {"aspect_ratio": …} or {}."""
    if size is None:
        return {}
    capabilities = model.capabilities or {}
    allowed = sizes_for(model)
    if size not in allowed:
        raise OpenAIError(
            _("%(model)s does not take the size “%(size)s”; it takes: %(allowed)s.")
            % {"model": model.model_id, "size": size[:40], "allowed": ", ".join(allowed)},
            param="size",
            code="invalid_size",
        )
    if capabilities.get("sizes"):
        return {"size": size}
    if size == AUTO:
        return {}
    return {"aspect_ratio": SIZE_RATIOS[size]}


def form_data(*, model: ImageModel, configuration, prompt: str, fields: dict) -> dict:
    """GenerationForm's data for a /v1/ call (`fields`: the request's other fields given)."""
    data = {
        "configuration": str(configuration.pk),
        "model": str(model.pk),
        "prompt": prompt,
    }
    if fields.get("n") is not None:
        data["count"] = fields["n"]
    if fields.get("size") is not None and fields.get("aspect_ratio") is not None:
        raise OpenAIError(_("Send either size or aspect_ratio, not both."), param="aspect_ratio")
    data.update(size_option(model, fields.get("size")))
    for name in (*SAME_NAME, *EXTENSIONS, *EDIT_FIELDS):
        if fields.get(name) is not None:
            data[name] = fields[name]
    if data.get("quality") == AUTO and AUTO not in (model.capabilities or {}).get("qualities", ()):
        del data["quality"]  # OpenAI's default; the model's own default applies
    return data


# Form field -> the request field a client sent it as (for `param` in a 400).
FORM_TO_REQUEST = {
    "count": "n",
    "aspect_ratio": "size",
    "configuration": None,
    "input_images": "image",
}


def request_param(form_field: str, fields: dict) -> str | None:
    """The request field to name in a 400 about the form's `form_field`."""
    if form_field == "aspect_ratio" and fields.get("aspect_ratio") is not None:
        return "aspect_ratio"
    if form_field == "__all__":
        return None
    return FORM_TO_REQUEST.get(form_field, form_field)
