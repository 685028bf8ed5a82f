"""OpenAI's request and answer shapes for /v1/ (openai-python's `types/`, as far as images go).

A request field is checked for its JSON type here (a wrong type or an unknown field is a 400
naming it, as OpenAI answers); what a value may be for a given model is the generation form's
rule, the same as the dashboard's (openai_compat/options.py maps one onto the other).
"""

from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

# --- requests ------------------------------------------------------------------------------------


class ImageGenerationRequest(BaseModel):
    """POST /v1/images/generations: OpenAI's body. Null is the same as leaving a field out."""

    model_config = ConfigDict(extra="forbid")

    model: StrictStr = Field(
        description="A model id from GET /v1/models (`gpt-image-1.5`, `imagen-4.0-generate-001`, "
        "`gemini-2.5-flash-image`, `grok-imagine-image`…), or `provider/model`.",
        examples=["gpt-image-1.5"],
    )
    prompt: StrictStr = Field(description="What to draw; the model's own length limit applies.")
    n: StrictInt | None = Field(None, ge=1, description="Images to make (up to the model's max).")
    size: StrictStr | None = Field(
        None,
        description="OpenAI models: their own sizes. Imagen, Gemini and xAI: 1024x1024 (1:1), "
        "1536x1024 (3:2), 1024x1536 (2:3), 1792x1024 (16:9), 1024x1792 (9:16) where the model "
        "has that aspect ratio. `auto`: the model's default. Anything else: 400.",
        examples=["1024x1024"],
    )
    quality: StrictStr | None = Field(None, description="The model's own qualities; `auto`.")
    background: StrictStr | None = Field(None, description="`transparent`, `opaque`, `auto`.")
    output_format: StrictStr | None = Field(None, description="`png`, `jpeg`, `webp`.")
    output_compression: StrictInt | None = Field(
        None, ge=0, le=100, description="0-100, with `jpeg` or `webp` output."
    )
    response_format: Literal["b64_json", "url"] | None = Field(
        None,
        description="`b64_json` (the default): the image in the answer. `url`: a Bambi URL "
        "that answers to this token (and to the owner's session).",
    )
    user: StrictStr | None = Field(
        None, max_length=256, description="Your end user's id. Accepted; not sent on."
    )
    moderation: Literal["auto"] | None = Field(None, description="Only `auto` (the default).")
    style: StrictStr | None = Field(None, description="DALL·E 3 only: `vivid` or `natural`.")
    stream: StrictBool | None = Field(None, description="Only false: Bambi does not stream.")
    aspect_ratio: StrictStr | None = Field(
        None,
        description="Bambi's extension (the SDKs' `extra_body`): any aspect ratio the model "
        "lists (e.g. `21:9`), instead of `size`.",
    )
    resolution: StrictStr | None = Field(
        None, description="Bambi's extension: a resolution the model lists (`2K`, `2k`)."
    )


class ImageEditRequest(BaseModel):
    """POST /v1/images/edits: OpenAI's multipart form, text fields only (the files are read
    apart: openai_compat/multipart.py). Every value arrives as text, so numbers and booleans
    are read from it ("2", "false"), as OpenAI does."""

    model_config = ConfigDict(extra="forbid")

    model: StrictStr = Field(
        description="A model id from GET /v1/models that takes input images "
        "(`gpt-image-1.5`, `gemini-2.5-flash-image`, `grok-imagine-image`…), or `provider/model`.",
        examples=["gpt-image-1.5"],
    )
    prompt: StrictStr = Field(description="The change to make; the model's own length limit.")
    n: int | None = Field(None, ge=1, description="Images to make (up to the model's max).")
    size: StrictStr | None = Field(
        None,
        description="As for generations; left out (or `auto`), the result keeps the shape the "
        "model gives it (for most, the first image's).",
    )
    quality: StrictStr | None = Field(None, description="The model's own qualities; `auto`.")
    background: StrictStr | None = Field(None, description="`transparent`, `opaque`, `auto`.")
    output_format: StrictStr | None = Field(None, description="`png`, `jpeg`, `webp`.")
    output_compression: int | None = Field(
        None, ge=0, le=100, description="0-100, with `jpeg` or `webp` output."
    )
    input_fidelity: StrictStr | None = Field(
        None, description="`high` or `low`, on the models that list it (gpt-image-1.5)."
    )
    response_format: Literal["b64_json", "url"] | None = Field(
        None, description="`b64_json` (the default) or `url` (a Bambi URL for this token)."
    )
    user: StrictStr | None = Field(
        None, max_length=256, description="Your end user's id. Accepted; not sent on."
    )
    safety_identifier: StrictStr | None = Field(
        None, max_length=256, description="The newer name of `user`. Accepted; not sent on."
    )
    stream: bool | None = Field(None, description="Only false: Bambi does not stream.")
    aspect_ratio: StrictStr | None = Field(
        None, description="Bambi's extension: an aspect ratio the model lists, instead of `size`."
    )
    resolution: StrictStr | None = Field(
        None, description="Bambi's extension: a resolution the model lists."
    )


# The multipart body as the OpenAPI document shows it (the view reads the form itself).
IMAGE_EDIT_FORM_SCHEMA = {
    "type": "object",
    "required": ["image", "prompt", "model"],
    "properties": {
        "image": {
            "type": "string",
            "format": "binary",
            "description": "One PNG, JPEG or WebP image (what the SDKs send for one file). "
            "Several: repeat the part as `image[]`. The model's `max_input_images` applies, "
            "and INPUT_IMAGE_MAX_BYTES (20 MB by default) to each file.",
        },
        "image[]": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "Several images (what the SDKs send for a list of files).",
        },
        "mask": {
            "type": "string",
            "format": "binary",
            "description": "A PNG the size of the first image whose transparent pixels mark "
            "what to change (4 MB at most); only for models that take a mask (gpt-image).",
        },
        **{
            name: {"type": "string", "description": info.description or ""}
            for name, info in ImageEditRequest.model_fields.items()
            if name not in ("n", "output_compression", "stream")
        },
        "n": {"type": "integer", "minimum": 1},
        "output_compression": {"type": "integer", "minimum": 0, "maximum": 100},
        "stream": {"type": "boolean", "description": "Only false."},
    },
}


# --- answers -------------------------------------------------------------------------------------


class ImageOut(Schema):
    b64_json: str | None = Field(None, description="The image file, base64.")
    url: str | None = Field(
        None, description="With `response_format=url`: fetch it with the same token."
    )
    revised_prompt: str | None = None


class ImagesResponse(Schema):
    created: int = Field(description="Unix time of the generation.")
    data: list[ImageOut]
    output_format: str | None = Field(None, examples=["png"])


class ModelOut(Schema):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(description="Unix time the model was added to Bambi's catalogue.")
    owned_by: str = Field(description="The provider: `openai`, `google`, `xai`.")
    shutdown_date: str | None = Field(
        None, description="YYYY-MM-DD, when the provider has announced the model's shutdown."
    )


class ModelList(Schema):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class ErrorDetail(Schema):
    message: str = Field(min_length=1, description="A sentence for a person.")
    type: str = Field(examples=["invalid_request_error"])
    param: str | None = Field(description="The request field at fault, if one is.")
    code: str | None = Field(examples=["model_not_found"])


class OpenAIErrorOut(Schema):
    error: ErrorDetail
