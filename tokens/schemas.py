"""What the tokens part of the JSON API reads and writes. The rules are ApiTokenForm's."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import Field, StrictStr

from bambi.schemas import RequestSchema, documented_as, form_field
from tokens.forms import ApiTokenForm


class TokenCreate(RequestSchema):
    name: StrictStr | None = form_field(ApiTokenForm, "name", alias="name")
    expires_at: StrictStr | None = Field(
        None,
        alias="expiresAt",
        json_schema_extra=documented_as(
            {
                "type": "string",
                "description": "Optional: a date (`2027-01-31`, midnight UTC) or an ISO 8601 "
                "date and time in the future, after which the token stops working.",
                "example": "2027-01-31",
            },
            required=False,
        ),
    )
    allowed_models: list[StrictStr] | None = Field(
        None,
        alias="allowedModels",
        json_schema_extra=documented_as(
            {
                "type": "array",
                "items": {"type": "string"},
                "description": "Optional: the models this token may use, as `provider/model` "
                "(`openai/gpt-image-1.5`) or a model id one provider alone has "
                "(`gpt-image-1.5`). Absent, null or empty: every model.",
            },
            required=False,
        ),
    )


class TokenOut(Schema):
    """A token as its owner sees it: never its secret, only the secret's first characters."""

    id: UUID
    name: str
    prefix: str = Field(description="The secret's first characters, e.g. `bmb_Xy3k9QaB`.")
    status: str = Field(json_schema_extra={"enum": ["active", "expired", "revoked"]})
    allowed_models: list[str] | None = Field(
        description="`provider/model` ids the token may use; null: every model."
    )
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="To the minute.")
    created_at: datetime


class TokenCreatedOut(TokenOut):
    token: str = Field(
        description="The secret, `bmb_` + 43 characters. Shown in this answer only: Bambi "
        "keeps a hash of it and cannot show it again."
    )


def created_row(created: Any) -> dict:
    """A CreatedToken as TokenCreatedOut reads it."""
    token = created.token
    return {
        **{name: getattr(token, name) for name in TokenOut.model_fields},
        "token": created.secret,
    }
