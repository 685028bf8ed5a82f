"""What the generations part of the JSON API reads and writes (docs/api.md).

A generation request is typed here, JSON-only names included (camelCase, and the snake_case and
OpenAI spellings clients send), then cleaned by GenerationForm, the one set of rules the
generate page uses too (generations/forms.py). Rows are snake_case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from bambi.ids import parse_uuid
from bambi.schemas import RequestSchema, documented_as, not_found_sentence, refuse
from byok.schemas import ProviderRef
from generations.forms import OPTION_CAPABILITIES

# What API clients may send in `parameters`: the camelCase of docs/api.md, the form's own names,
# and the names OpenAI's API uses for the same thing.
PARAMETER_NAMES = {
    "modelId": "model",
    "model_id": "model",
    "model": "model",
    "count": "count",
    "n": "count",
    "size": "size",
    "aspectRatio": "aspect_ratio",
    "resolution": "resolution",
    "quality": "quality",
    "style": "style",
    "outputFormat": "output_format",
    "outputCompression": "output_compression",
    "output_compression": "output_compression",
    "background": "background",
    **{name: name for name in OPTION_CAPABILITIES},
}


def normalise_parameters(parameters: Any) -> dict:
    """API `parameters` -> the form's field names; a bad shape is refused with a sentence,
    checked in the order the client wrote the names."""
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise refuse(_("“parameters” must be a JSON object."))
    data: dict = {}
    for key, value in parameters.items():
        name = PARAMETER_NAMES.get(key)
        if name is None:
            raise refuse(_("Unknown parameter “%(name)s”.") % {"name": str(key)[:50]})
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise refuse(
                _("The parameter “%(name)s” must be a string or a number.") % {"name": key}
            )
        data[name] = value
    return data


Option = str | int | None
OPTION = {"type": "string"}


class GenerationParameters(RequestSchema):
    """The model and the options it supports (see its `capabilities`); an option the model
    does not have, or a value it does not offer, is a 400 naming it."""

    # The validator below has turned every accepted spelling into the form's names.
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=False, extra="forbid")

    model: Option = Field(
        None,
        alias="modelId",
        json_schema_extra=documented_as(
            {
                "type": "string",
                "description": "A model's id (UUID) or the provider's model id (`dall-e-3`).",
            }
        ),
    )
    count: Option = Field(
        None,
        json_schema_extra=documented_as(
            {"type": "integer", "minimum": 1, "description": "Images to make."}, required=False
        ),
    )
    size: Option = Field(
        None, json_schema_extra=documented_as({**OPTION, "example": "1024x1024"}, required=False)
    )
    aspect_ratio: Option = Field(
        None,
        alias="aspectRatio",
        json_schema_extra=documented_as({**OPTION, "example": "16:9"}, required=False),
    )
    quality: Option = Field(None, json_schema_extra=documented_as(OPTION, required=False))
    style: Option = Field(None, json_schema_extra=documented_as(OPTION, required=False))
    resolution: Option = Field(None, json_schema_extra=documented_as(OPTION, required=False))
    output_format: Option = Field(
        None, alias="outputFormat", json_schema_extra=documented_as(OPTION, required=False)
    )
    background: Option = Field(None, json_schema_extra=documented_as(OPTION, required=False))
    output_compression: Option = Field(
        None,
        alias="outputCompression",
        json_schema_extra=documented_as(
            {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "description": "0-100, for `jpeg` and `webp` output of the models that have "
                "`output_formats`.",
            },
            required=False,
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> dict:
        return normalise_parameters(data)


def _config_id(value: Any) -> str:
    # Anything that is not the id of one of the user's keys is a 404, the same answer as
    # another user's key: the form then looks the key up through its owner.
    if parse_uuid(value) is None:
        raise refuse(not_found_sentence(), 404)
    return value


def _prompt(value: Any) -> str:
    if not isinstance(value, str):
        raise refuse(_("The prompt must be text."))
    return value


class GenerationCreate(RequestSchema):
    configId: Annotated[str, BeforeValidator(_config_id)] = Field(
        None,
        validate_default=True,
        json_schema_extra=documented_as(
            {
                "type": "string",
                "format": "uuid",
                "description": "One of the user's valid stored keys.",
            }
        ),
    )
    prompt: Annotated[str, BeforeValidator(_prompt)] = Field(
        None,
        validate_default=True,
        json_schema_extra=documented_as({"type": "string", "minLength": 1, "pattern": r"\S"}),
    )
    parameters: GenerationParameters = Field(
        default_factory=GenerationParameters,
        json_schema_extra=documented_as(),
    )

    def form_data(self) -> dict:
        return {
            "configuration": self.configId,
            "prompt": self.prompt,
            **self.parameters.form_data(),
        }


def _page_number(value: Any) -> int:
    if isinstance(value, int):  # the default
        return value
    if not (isinstance(value, str) and value.isascii() and value.isdigit()) or int(value) < 1:
        raise refuse(_("“page” must be a whole number from 1."))
    return int(value)


PageNumber = Annotated[
    int,
    BeforeValidator(_page_number),
    WithJsonSchema({"type": "integer", "minimum": 1}),
]


# --- rows ----------------------------------------------------------------------------------------


class ModelRef(Schema):
    id: UUID
    name: str
    model_id: str


class ImageOut(Schema):
    id: UUID
    url: str = Field(description="A Bambi URL that answers only the owner.")
    thumbnail_url: str = Field(description="A WebP thumbnail.")
    download_url: str = Field(description="The file as an attachment.")
    width: int | None
    height: int | None
    format: str = Field(examples=["png"])
    bytes: int | None
    revised_prompt: str | None

    @staticmethod
    def resolve_url(image: Any) -> str:
        return reverse("image_file", args=[image.id])

    @staticmethod
    def resolve_thumbnail_url(image: Any) -> str:
        return reverse("image_thumbnail", args=[image.id])

    @staticmethod
    def resolve_download_url(image: Any) -> str:
        return reverse("image_file", args=[image.id]) + "?download=1"

    @staticmethod
    def resolve_revised_prompt(image: Any) -> str | None:
        return image.revised_prompt or None


class GenerationOut(Schema):
    id: UUID
    status: str = Field(json_schema_extra={"enum": ["pending", "completed", "failed"]})
    prompt: str
    parameters: dict = Field(description="`model_id` and the options used (defaults filled in).")
    model: ModelRef | None
    provider: ProviderRef | None
    configuration_id: UUID | None
    error_message: str | None
    cost_estimate: str | None = Field(description="USD, as a decimal string.")
    duration_ms: int | None
    created_at: datetime
    images_filtered: int = Field(
        ge=0,
        description="Images asked for that the provider's safety filter withheld (not "
        "charged; `cost_estimate` counts the images returned).",
    )
    notice: str | None = Field(
        description="A sentence about withheld images, e.g. “1 of 2 images was blocked by "
        "Google’s safety filter; blocked images are not charged.”"
    )
    images: list[ImageOut]

    @staticmethod
    def resolve_error_message(generation: Any) -> str | None:
        return generation.error_message or None

    @staticmethod
    def resolve_cost_estimate(generation: Any) -> str | None:
        cost = generation.cost_estimate
        return str(cost) if cost is not None else None

    @staticmethod
    def resolve_notice(generation: Any) -> str | None:
        return generation.filtered_notice(len(generation.images.all()))

    @staticmethod
    def resolve_images(generation: Any) -> list:
        return list(generation.images.all())


class Pagination(Schema):
    page: int = Field(ge=1)
    pages: int = Field(ge=1)
    count: int = Field(ge=0)
    page_size: int = Field(ge=1)


class GenerationPage(Schema):
    data: list[GenerationOut]
    pagination: Pagination


class UsageOut(Schema):
    plan: str = Field(json_schema_extra={"enum": ["free", "premium"]})
    plan_name: str
    usage_count: int = Field(ge=0)
    usage_limit: int | None = Field(description="null = unlimited")
    remaining: int | None = Field(description="null = unlimited")
    config_count: int = Field(ge=0)
    config_limit: int | None = Field(description="null = unlimited")
    reset_date: datetime = Field(description="When the monthly count starts again.")
    token_count: int = Field(ge=0, description="Personal API tokens that work now.")
    token_limit: int = Field(ge=0, description="Working API tokens the plan allows.")
