"""What the byok part of the JSON API reads and writes (docs/api.md).

Requests are camelCase JSON typed here and cleaned by the forms in byok/forms.py (the rules and
their sentences live there, shared with the Keys page). A key in a request is a SecretStr: it
shows as `**********` in any repr, log line or error page until the form reads it. Rows are
snake_case; a stored key is described by its hint, never by the key itself.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.utils.translation import gettext
from ninja import Schema
from pydantic import Field, SecretStr, StrictFloat, StrictInt, StrictStr, model_validator

from bambi.schemas import RequestSchema, documented_as, form_field, refuse
from byok.forms import ApiConfigurationCreateForm, ApiConfigurationUpdateForm, ApiKeyCheckForm

# --- requests ------------------------------------------------------------------------------------

BUDGET_DOCUMENT = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*\$?\s*[0-9]+([.,][0-9]{1,4})?\s*$"},
        {"type": "number", "minimum": 0, "maximum": 999999.9999},
        {"type": "null"},
    ],
    "description": 'Monthly budget in US dollars (at most 4 decimal places), e.g. "5.00"; '
    'null or "" = no budget. Generations whose estimated cost does not fit are refused '
    "with a 403 before any provider call.",
}


def budget_field() -> Any:
    """`monthlyBudgetUsd`: a decimal string or a JSON number; the form (bambi.budgets.
    BudgetField) says what is wrong with it."""
    return Field(
        None,
        alias="monthlyBudgetUsd",
        json_schema_extra=documented_as(BUDGET_DOCUMENT, required=False),
    )


class BudgetRequest(RequestSchema):
    """A request that may carry `monthlyBudgetUsd`: null (given) clears it, absent leaves it."""

    @model_validator(mode="before")
    @classmethod
    def _budget_is_an_amount(cls, data: Any) -> Any:
        if isinstance(data, dict):
            value = data.get("monthlyBudgetUsd")
            if isinstance(value, bool) or not isinstance(value, str | int | float | None):
                raise refuse(
                    gettext(
                        "“monthlyBudgetUsd” must be an amount in US dollars, as a string or a "
                        'number (e.g. "5.00"), or null for no budget.'
                    )
                )
        return data

    def form_data(self) -> dict:
        data = super().form_data()
        if "monthly_budget_usd" in self.model_fields_set:
            value = getattr(self, "monthly_budget_usd", None)
            # repr of a float is its shortest exact decimal (0.17, not 0.170000000000000012).
            data["monthly_budget_usd"] = "" if value is None else str(value)
        return data


class ConfigurationCreate(BudgetRequest):
    """A new key to check with its provider and store."""

    name: StrictStr | None = form_field(ApiConfigurationCreateForm, "name", alias="name")
    provider: StrictStr | None = form_field(
        ApiConfigurationCreateForm,
        "provider",
        alias="providerId",
        description="The id of an active provider.",
    )
    api_key: SecretStr | None = form_field(
        ApiConfigurationCreateForm,
        "api_key",
        alias="apiKey",
        description="A provider key: printable ASCII, no spaces. Write-only.",
        writeOnly=True,
    )
    monthly_budget_usd: StrictStr | StrictInt | StrictFloat | None = budget_field()


class ConfigurationUpdate(BudgetRequest):
    """A new name, a new key, a monthly budget, or several. A new key is checked with the
    provider first."""

    model_config = {"json_schema_extra": {"minProperties": 1}}

    name: StrictStr | None = form_field(
        ApiConfigurationUpdateForm, "name", alias="name", required=False
    )
    api_key: SecretStr | None = form_field(
        ApiConfigurationUpdateForm,
        "api_key",
        alias="apiKey",
        required=False,
        description="A provider key: printable ASCII, no spaces. Write-only.",
        writeOnly=True,
    )
    monthly_budget_usd: StrictStr | StrictInt | StrictFloat | None = budget_field()


class KeyCheck(RequestSchema):
    """Either `configId` alone (check a stored key again and record the answer on it), or
    `providerId` and `apiKey` (check a key without storing it)."""

    model_config = {
        "json_schema_extra": {
            "anyOf": [{"required": ["configId"]}, {"required": ["providerId", "apiKey"]}]
        }
    }

    configId: StrictStr | None = Field(
        None,
        description="A stored key of the user (its id, a UUID); the other fields are then "
        "not read.",
        json_schema_extra={"format": "uuid"},
    )
    provider: StrictStr | None = form_field(
        ApiKeyCheckForm, "provider", alias="providerId", required=False
    )
    api_key: SecretStr | None = form_field(
        ApiKeyCheckForm, "api_key", alias="apiKey", required=False, writeOnly=True
    )

    @model_validator(mode="before")
    @classmethod
    def _stored_key_alone(cls, data: Any) -> Any:
        # With `configId`, the check is about the stored key: what else the body holds is
        # not read, so it cannot make the request fail either.
        if isinstance(data, dict) and data.get("configId") is not None:
            return {"configId": data["configId"]}
        return data

    def form_data(self) -> dict:
        data = super().form_data()
        data.pop("configId", None)
        return data


# --- rows ----------------------------------------------------------------------------------------


class ProviderRef(Schema):
    id: UUID
    name: str
    slug: str


class ImageModelOut(Schema):
    id: UUID
    name: str
    model_id: str = Field(description="The provider's own model id.")
    description: str
    capabilities: dict = Field(
        description=(
            "What the model accepts (byok/catalogue.py): `sizes` or `aspect_ratios`, "
            "`qualities`, `styles`, `resolutions`, `output_formats`, `backgrounds`, "
            "`moderations`, `input_fidelities`, `person_generations` (lists of allowed "
            "values), `output_compression` (true: 0-100 for JPEG/WebP), `max_images`, "
            "`max_prompt_length`, `max_input_images` (input images an edit takes; 0 = text "
            "only), `mask` (true: takes a mask), `price_per_image` (USD, a string or "
            "{quality or resolution: string}), `price_per_input_image`, `token_prices` (USD "
            "per 1M tokens), `shutdown_date` (the shutdown the provider announced, "
            "YYYY-MM-DD), `defaults` ({option: value})."
        )
    )


class ProviderOut(Schema):
    id: UUID
    name: str
    slug: str
    description: str
    website_url: str
    models: list[ImageModelOut]

    @staticmethod
    def resolve_models(provider: Any) -> list:
        return list(getattr(provider, "active_models", []))


class ConfigurationOut(Schema):
    """A stored provider key. The key itself is never returned."""

    id: UUID
    name: str
    provider: ProviderRef
    key_hint: str = Field(description="e.g. `sk-…x7Qa`")
    is_valid: bool
    last_validated_at: datetime | None
    created_at: datetime
    updated_at: datetime
    monthly_budget_usd: Decimal | None = Field(
        description="Monthly budget in US dollars; null = no budget."
    )


class KeyCheckOut(Schema):
    isValid: bool
    error: str | None = Field(description="The provider's reason when refused.")
    configuration: ConfigurationOut | None = Field(
        None, description="Only when a stored key was checked (`configId`)."
    )
