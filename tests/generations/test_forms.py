"""GenerationForm: the one set of rules for the generate page and POST /api/generations/. A
request it refuses never reaches generation_run: no quota used, no provider called."""

from __future__ import annotations

import pytest

from generations.forms import GenerationForm
from tests.factories import image_model, make_configuration

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def form_for(user, configuration, model, prompt="A red fox in the snow", **options):
    return GenerationForm(
        data={
            "configuration": str(configuration.pk),
            "model": str(model.pk),
            "prompt": prompt,
            **options,
        },
        user=user,
    )


def test_a_valid_request_is_cleaned_into_what_generation_run_takes(user, configs):
    model = image_model("openai", "dall-e-3")
    form = form_for(user, configs["openai"], model, "  A fox  ", quality="hd")

    assert form.is_valid(), form.errors
    data = form.cleaned_data
    assert data["configuration"] == configs["openai"] and data["model"] == model
    assert data["prompt"] == "A fox"
    # The model's defaults are filled in: the adapter receives every option it needs.
    assert data["options"] == {"count": 1, "size": "1024x1024", "quality": "hd", "style": "vivid"}


def test_the_providers_own_model_id_names_the_model_of_the_keys_provider(user, configs):
    form = form_for(user, configs["openai"], image_model("openai", "dall-e-2"))
    form.data = {**form.data, "model": "dall-e-2"}

    assert form.is_valid(), form.errors
    assert form.cleaned_data["model"] == image_model("openai", "dall-e-2")


@pytest.mark.parametrize(
    ("prompt", "options", "field"),
    [
        ("   ", {}, "prompt"),
        ("x" * 4001, {}, "prompt"),  # dall-e-3 takes 4000 characters
        ("fox", {"count": 2}, "count"),  # dall-e-3 makes one image
        ("fox", {"size": "512x512"}, "size"),
        ("fox", {"quality": "ultra"}, "quality"),
        ("fox", {"aspect_ratio": "16:9"}, "aspect_ratio"),  # OpenAI takes a size, not a ratio
        ("fox", {"count": "many"}, "count"),
        ("fox", {"count": 0}, "count"),
    ],
)
def test_what_the_model_does_not_offer_is_refused_naming_the_field(
    user, configs, prompt, options, field
):
    form = form_for(user, configs["openai"], image_model("openai", "dall-e-3"), prompt, **options)

    assert not form.is_valid()
    assert list(form.errors) == [field]


def test_the_prompt_limit_is_the_models_own(user, configs):
    long = "x" * 4001
    assert form_for(
        user, configs["openai"], image_model("openai", "gpt-image-1.5"), long
    ).is_valid()
    assert not form_for(user, configs["openai"], image_model("openai", "dall-e-2"), long).is_valid()


def test_another_users_key_is_unknown(user, other_user, providers):
    theirs = make_configuration(other_user, providers["openai"])
    form = form_for(user, theirs, image_model("openai", "dall-e-3"))

    assert not form.is_valid()
    # The API answers this code with a 404, as for every object of someone else.
    assert [e.code for e in form.errors.as_data()["configuration"]] == ["unknown"]


def test_a_model_of_another_provider_is_refused(user, configs):
    form = form_for(user, configs["openai"], image_model("xai", "grok-imagine-image"))
    assert not form.is_valid()
    assert "key is for OpenAI" in form.errors["model"][0]


def test_an_inactive_model_is_refused(user, configs):
    model = image_model("openai", "dall-e-3")
    model.is_active = False
    model.save()
    form = form_for(user, configs["openai"], model)
    assert not form.is_valid()
    assert "not available" in form.errors["model"][0]


def test_a_key_the_provider_rejected_is_refused(user, configs):
    configs["openai"].is_valid = False
    configs["openai"].save()
    form = form_for(user, configs["openai"], image_model("openai", "dall-e-3"))
    assert not form.is_valid()
    assert "rejected this key" in form.errors["configuration"][0]
