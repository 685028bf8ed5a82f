"""What the generations part of the JSON API answers: generation rows (snake_case, as
DESIGN.md's "JSON API" names them) with their images, inputs and versions, pages, usage."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.urls import reverse
from ninja import Schema
from pydantic import Field

from byok.schemas import ProviderRef


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


class InputOut(Schema):
    """An image sent with the prompt (or the mask), as the provider received it."""

    id: UUID
    url: str = Field(description="A Bambi URL that answers only the owner.")
    thumbnail_url: str = Field(description="A WebP thumbnail.")
    width: int
    height: int
    format: str = Field(examples=["png"])
    bytes: int
    source_image_id: UUID | None = Field(
        description="The user's image it was taken from, when it was one (null for an upload)."
    )

    @staticmethod
    def resolve_url(item: Any) -> str:
        return reverse("input_file", args=[item.id])

    @staticmethod
    def resolve_thumbnail_url(item: Any) -> str:
        return reverse("input_thumbnail", args=[item.id])


class ParentRef(Schema):
    id: UUID
    prompt: str
    created_at: datetime


class GenerationOut(Schema):
    id: UUID
    status: str = Field(json_schema_extra={"enum": ["pending", "completed", "failed"]})
    prompt: str
    parameters: dict = Field(description="`model_id` and the options used (defaults filled in).")
    model: ModelRef | None
    provider: ProviderRef | None
    configuration_id: UUID | None
    error_message: str | None
    cost_estimate: str | None = Field(
        description="USD, as a decimal string: what the provider bills for this call, input "
        "images included (see `cost_basis`)."
    )
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
    inputs: list[InputOut] = Field(
        description="The images sent with the prompt (an edit), in order; empty otherwise."
    )
    mask: InputOut | None = Field(description="The mask sent with them, if any.")
    parent: ParentRef | None = Field(
        description="The generation this one edited: the one its first gallery input image "
        "came from (the version before this one)."
    )
    parent_id: UUID | None
    cost_basis: str | None = Field(
        json_schema_extra={"enum": ["reported", "tokens", "catalogue", None]},
        description="`reported`: the provider's own figure (xAI); `tokens`: an estimate from "
        "the tokens its answer reported (gpt-image, Gemini); `catalogue`: an estimate from "
        "Bambi's price list.",
    )
    cost_is_estimate: bool = Field(description="False only when the provider stated the cost.")

    @staticmethod
    def resolve_inputs(generation: Any) -> list:
        return [item for item in generation.inputs.all() if not item.is_mask]

    @staticmethod
    def resolve_mask(generation: Any) -> Any:
        return next((item for item in generation.inputs.all() if item.is_mask), None)

    @staticmethod
    def resolve_cost_basis(generation: Any) -> str | None:
        return generation.cost_basis or None

    @staticmethod
    def resolve_cost_is_estimate(generation: Any) -> bool:
        return generation.cost_basis != "reported"

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
    page: int | None = Field(
        ge=1, description="The page number asked for; null for a page asked by cursor."
    )
    pages: int = Field(ge=1)
    count: int = Field(ge=0)
    page_size: int = Field(ge=1)
    next: str | None = Field(
        description="Cursor of the next (older) page: ask with `?before=` it. Null on the last."
    )
    previous: str | None = Field(
        description="Cursor of the previous (newer) page: ask with `?after=` it. Null on the first."
    )


class GenerationPage(Schema):
    data: list[GenerationOut]
    pagination: Pagination


class SpendOut(Schema):
    id: UUID | None = Field(description="The key's id; null for a key since deleted.")
    name: str
    generations: int = Field(ge=0)
    images: int = Field(ge=0)
    spent_usd: Decimal


class TokenSpendOut(Schema):
    id: UUID = Field(description="The API token's id.")
    name: str
    generations: int = Field(ge=0)
    images: int = Field(ge=0)
    spent_usd: Decimal


class ProviderSpendOut(Schema):
    slug: str
    name: str
    generations: int = Field(ge=0)
    images: int = Field(ge=0)
    spent_usd: Decimal


class SpendingOut(Schema):
    period_start: datetime
    period_end: datetime
    total_usd: Decimal
    by_key: list[SpendOut]
    by_provider: list[ProviderSpendOut]
    by_token: list[TokenSpendOut] = Field(
        description="Per personal API token (generations made with one); empty when none was used."
    )


class BudgetOut(Schema):
    kind: str = Field(json_schema_extra={"enum": ["key", "token"]})
    id: UUID
    name: str
    monthly_budget_usd: Decimal
    spent_usd: Decimal = Field(
        description="Spent this period, reservations of generations in flight included."
    )
    percent: int = Field(ge=0, le=100)
    level: str = Field(json_schema_extra={"enum": ["ok", "warn", "full"]})


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
    spend: SpendingOut = Field(
        description="What was spent this period (completed generations, real costs where "
        "the provider states them, catalogue prices otherwise), in US dollars."
    )
    budgets: list[BudgetOut] = Field(
        description="Every monthly budget set, and how much of it this period used."
    )
