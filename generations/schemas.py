"""What the generations part of the JSON API reads and writes (docs/api.md).

A generation request is typed here, JSON-only names included (camelCase, and the snake_case and
OpenAI spellings clients send), then cleaned by GenerationForm, the one set of rules the
generate page uses too (generations/forms.py). Rows are snake_case.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from bambi.ids import parse_uuid
from bambi.schemas import RequestSchema, documented_as, not_found_sentence, refuse
from generations.forms import OPTION_CAPABILITIES
from generations.inputs import InputSource
from generations.selectors import Cursor

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
    "moderation": "moderation",
    "inputFidelity": "input_fidelity",
    "personGeneration": "person_generation",
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
    moderation: Option = Field(
        None,
        json_schema_extra=documented_as(
            {**OPTION, "description": "gpt-image generations: `auto` or `low`."}, required=False
        ),
    )
    input_fidelity: Option = Field(
        None,
        alias="inputFidelity",
        json_schema_extra=documented_as(
            {**OPTION, "description": "Edits with gpt-image-1.5: `low` or `high`."},
            required=False,
        ),
    )
    person_generation: Option = Field(
        None,
        alias="personGeneration",
        json_schema_extra=documented_as(
            {**OPTION, "description": "Imagen: `dont_allow`, `allow_adult` or `allow_all`."},
            required=False,
        ),
    )
    output_compression: Option = Field(
        None,
        alias="outputCompression",
        json_schema_extra=documented_as(
            {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "description": "gpt-image JPEG or WebP output: 0-100.",
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


DATA_URL = {
    "type": "string",
    "pattern": "^data:image/(png|jpeg|webp);base64,",
    "description": "A PNG, JPEG or WebP image as a data: URL (its type is read from the bytes).",
}
INPUT_IMAGE = {
    "type": "object",
    "description": "One of the user's images (`imageId`) or an image of their own (`dataUrl`).",
    "oneOf": [
        {
            "type": "object",
            "properties": {"imageId": {"type": "string", "format": "uuid"}},
            "required": ["imageId"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"dataUrl": DATA_URL},
            "required": ["dataUrl"],
            "additionalProperties": False,
        },
    ],
}


def _input_source(value: Any, *, mask: bool = False) -> InputSource:
    if isinstance(value, dict) and len(value) == 1:
        ((key, text),) = value.items()
        if isinstance(text, str) and key == "dataUrl":
            return InputSource(data_url=text)
        if isinstance(text, str) and key == "imageId" and not mask:
            if parse_uuid(text) is None:
                raise refuse(not_found_sentence(), 404)  # as another user's image
            return InputSource(image_id=text)
    if mask:
        raise refuse(_('“mask” must be an object {"dataUrl": "data:image/png;base64,…"}.'))
    raise refuse(
        _(
            'Each input image must be an object {"imageId": "…"} or '
            '{"dataUrl": "data:image/…;base64,…"}.'
        )
    )


def _input_images(value: Any) -> list[InputSource]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise refuse(_("“inputImages” must be a list."))
    return [_input_source(item) for item in value]


def _mask(value: Any) -> InputSource | None:
    return None if value is None else _input_source(value, mask=True)


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
    inputImages: Annotated[list, BeforeValidator(_input_images)] = Field(
        None,
        validate_default=True,
        json_schema_extra=documented_as(
            {
                "type": "array",
                "items": INPUT_IMAGE,
                "description": "Images to edit or compose (an edit): at most the model's "
                "`capabilities.max_input_images`; each a PNG, JPEG or WebP.",
            },
            required=False,
        ),
    )
    mask: Annotated[Any, BeforeValidator(_mask)] = Field(
        None,
        validate_default=True,
        json_schema_extra=documented_as(
            {
                "type": "object",
                "properties": {"dataUrl": DATA_URL},
                "required": ["dataUrl"],
                "additionalProperties": False,
                "description": "A PNG as large as the first input image whose transparent "
                "pixels mark what to change (models whose `capabilities.mask` is true).",
            },
            required=False,
        ),
    )

    def form_data(self) -> dict:
        return {
            "configuration": self.configId,
            "prompt": self.prompt,
            **self.parameters.form_data(),
            "input_images": self.inputImages,
            "mask": self.mask,
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


def _cursor(value: Any) -> Cursor | None:
    if value is None:
        return None
    try:
        return Cursor.decode(value if isinstance(value, str) else "")
    except ValueError:
        raise refuse(
            _(
                "This cursor is not one Bambi gave out: use the “next” or “previous” value "
                "of a page's “pagination”, unchanged."
            )
        ) from None


# A position in the list, as written in `pagination.next` / `pagination.previous`.
ListCursor = Annotated[
    Any,
    BeforeValidator(_cursor),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{1,18}-[0-9a-f]{32}$"}),
]
