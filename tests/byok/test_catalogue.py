"""The catalogue: what the refresh of November 2026 switched off, added and announced, that it
never overwrites an operator's edit, and the prices read from it (estimates and token costs)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from byok.catalogue import (
    PROVIDERS,
    catalogue_refresh,
    cost_from_usage,
    estimate_cost,
    seed_catalogue,
)
from byok.migrations._seed_0002 import PROVIDERS as SEEDED
from byok.models import ImageModel, Provider
from generations.models import Image, ImageGeneration
from generations.storage import images_store
from tests.factories import make_configuration
from tests.images import png_bytes
from tests.recorded import recorded

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

# The ids the contract (DESIGN.md, issue 15) calls by name: they stay callable.
CONTRACT_IDS = [
    "gpt-image-1.5",
    "imagen-4.0-generate-001",
    "gemini-2.5-flash-image",
    "grok-imagine-image",
]


def _seed(providers) -> None:
    """The database as migration 0002 left it (in place of what the migrations made)."""
    ImageModel.objects.all().delete()
    Provider.objects.all().delete()
    for spec in providers:
        fields = {k: v for k, v in spec.items() if k not in ("slug", "models")}
        provider = Provider.objects.create(slug=spec["slug"], **fields)
        for model in spec["models"]:
            ImageModel.objects.create(provider=provider, **model)


def _models() -> dict[str, ImageModel]:
    return {m.model_id: m for m in ImageModel.objects.all()}


def test_a_new_install_has_the_current_catalogue(catalogue):
    models = _models()
    assert all(models[m].is_active for m in CONTRACT_IDS)
    for retired in ("dall-e-2", "dall-e-3", "imagen-3.0-generate-002"):
        assert not models[retired].is_active  # kept for the history of past images
    added = [
        "gpt-image-2",
        "gemini-3-pro-image",
        "gemini-nano-banana-2.1",
        "grok-imagine-image-2.0",
    ]
    assert all(models[new].is_active for new in added)
    caps = {model_id: m.capabilities for model_id, m in models.items()}
    assert caps["gpt-image-1.5"]["shutdown_date"] == "2026-12-01"
    assert caps["imagen-4.0-generate-001"]["shutdown_date"] == "2026-08-17"
    assert caps["gemini-2.5-flash-image"]["shutdown_date"] == "2026-10-02"
    assert (caps["gpt-image-1.5"]["max_input_images"], caps["gpt-image-1.5"]["mask"]) == (16, True)
    assert caps["imagen-4.0-generate-001"]["max_input_images"] == 0
    assert caps["grok-imagine-image"]["max_input_images"] == 3
    assert caps["grok-imagine-image-2.0"]["max_input_images"] == 5
    assert "transparent" in caps["gpt-image-1.5"]["backgrounds"]
    assert "transparent" not in caps["gpt-image-2"]["backgrounds"]
    assert caps["gpt-image-1.5"]["moderations"] == ["auto", "low"]
    assert "21:9" in caps["gemini-2.5-flash-image"]["aspect_ratios"]
    assert caps["gemini-3-pro-image"]["resolutions"] == ["1K", "2K", "4K"]
    assert caps["imagen-4.0-generate-001"]["person_generations"] == [
        "dont_allow",
        "allow_adult",
        "allow_all",
    ]


def test_the_refresh_changes_the_rows_left_as_seeded_and_keeps_the_operators(db):
    _seed(SEEDED)
    edited = ImageModel.objects.get(model_id="dall-e-3")
    edited.description = "Our favourite: keep it."  # an operator's edit
    edited.save()
    priced = ImageModel.objects.get(model_id="gpt-image-1-mini")
    priced.capabilities = {**priced.capabilities, "price_per_image": "0.001"}
    priced.save()

    done = catalogue_refresh(Provider, ImageModel, seeded=SEEDED)

    models = _models()
    assert not models["dall-e-2"].is_active  # untouched since 0002: refreshed
    assert models["dall-e-3"].is_active and models["dall-e-3"].description == (
        "Our favourite: keep it."
    )
    assert models["gpt-image-1-mini"].capabilities["price_per_image"] == "0.001"
    assert "max_input_images" not in models["gpt-image-1-mini"].capabilities
    assert models["gpt-image-1.5"].capabilities["max_input_images"] == 16
    assert set(done["kept"]) == {"dall-e-3", "gpt-image-1-mini"}
    assert {"gpt-image-2", "gemini-3-pro-image", "grok-imagine-image-2.0"} <= set(done["created"])
    assert "grok-2-image-1212" not in done["refreshed"]  # unchanged in the catalogue
    # Run twice: nothing more to do (a migration may be replayed on a restored database).
    again = catalogue_refresh(Provider, ImageModel, seeded=SEEDED)
    assert again["refreshed"] == again["created"] == []
    assert set(again["kept"]) == {"dall-e-3", "gpt-image-1-mini"}


def test_the_refresh_leaves_a_removed_provider_removed(db):
    seeded = [spec for spec in copy.deepcopy(SEEDED) if spec["slug"] != "xai"]
    _seed(seeded)

    catalogue_refresh(Provider, ImageModel, seeded=SEEDED)

    assert not Provider.objects.filter(slug="xai").exists()
    assert not ImageModel.objects.filter(model_id__startswith="grok").exists()


def test_seeding_twice_changes_nothing(catalogue):
    before = {(m.model_id, m.updated_at) for m in ImageModel.objects.all()}
    seed_catalogue(Provider, ImageModel)
    assert {(m.model_id, m.updated_at) for m in ImageModel.objects.all()} == before
    assert ImageModel.objects.count() == sum(len(spec["models"]) for spec in PROVIDERS)


def test_an_inactive_models_past_images_stay_viewable_but_it_makes_no_new_ones(
    logged_in, user, catalogue
):
    configuration = make_configuration(user, catalogue["openai"])
    model = ImageModel.objects.get(model_id="dall-e-3")
    generation = ImageGeneration.objects.create(
        user=user, model=model, provider=model.provider, prompt="old", status="completed"
    )
    (stored,) = images_store(user_id=user.pk, generation_id=generation.pk, images=[png_bytes()])
    image = Image.objects.create(
        generation=generation,
        storage_path=stored.storage_path,
        thumbnail_path=stored.thumbnail_path,
        width=8,
        height=8,
        format="png",
    )

    assert logged_in.get(f"/dashboard/generations/{generation.pk}/").status_code == 200
    assert logged_in.get(f"/dashboard/images/{image.pk}/").status_code == 200
    row = logged_in.get(f"/api/generations/{generation.pk}/").json()["data"]
    assert row["model"]["model_id"] == "dall-e-3"
    body = {
        "configId": str(configuration.pk),
        "prompt": "new",
        "parameters": {"modelId": "dall-e-3"},
    }
    refused = logged_in.post(
        "/api/generations/", data=json.dumps(body), content_type="application/json"
    )
    assert refused.status_code == 400
    assert "DALL·E 3 is not available any more." in refused.json()["error"]


# --- prices --------------------------------------------------------------------------------------


def test_prices_by_quality_resolution_and_input_fidelity(catalogue):
    caps = _models()
    pro = caps["gemini-3-pro-image"].capabilities
    assert estimate_cost(pro, {"resolution": "4K"}) == Decimal("0.24")
    assert estimate_cost(pro, {"resolution": "1K"}, inputs=2) == Decimal("0.1362")
    gpt = caps["gpt-image-1.5"].capabilities
    assert estimate_cost(gpt, {"quality": "high", "count": 2}) == Decimal("0.266")
    assert caps["grok-2-image-1212"].capabilities.get("price_per_input_image") is None
    assert estimate_cost(caps["grok-2-image-1212"].capabilities, {}, inputs=1) == Decimal("0.07")


def test_token_costs_from_each_providers_usage(catalogue):
    models = _models()
    openai = recorded("openai", "gpt_image_b64")["usage"]  # 50 text in, 1056 out
    assert cost_from_usage(models["gpt-image-1.5"].capabilities, openai) == Decimal("0.034042")
    gemini = recorded("google", "gemini_image")["usageMetadata"]  # 12 text in, 1300 out
    assert cost_from_usage(models["gemini-2.5-flash-image"].capabilities, gemini) == Decimal(
        "0.0390036"
    )
    # A model without token prices, or an answer without tokens: no token cost.
    assert cost_from_usage(models["grok-imagine-image"].capabilities, openai) is None
    assert cost_from_usage(models["gpt-image-1.5"].capabilities, {"images": 1}) is None
