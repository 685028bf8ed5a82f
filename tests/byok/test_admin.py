import json

import pytest

from accounts.models import SecurityEvent
from byok.models import ApiConfiguration, ImageModel, Provider
from tests.factories import make_configuration

pytestmark = pytest.mark.django_db


def test_operator_changes_a_providers_base_url_and_deactivates_it(admin_client, providers):
    provider = providers["google"]
    response = admin_client.post(
        f"/admin/byok/provider/{provider.pk}/change/",
        {
            "name": provider.name,
            "slug": provider.slug,
            "description": provider.description,
            "website_url": provider.website_url,
            "api_base_url": "https://gemini-proxy.example.com",
            "is_active": "",
            "models-TOTAL_FORMS": "0",
            "models-INITIAL_FORMS": "0",
            "models-MIN_NUM_FORMS": "0",
            "models-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    provider.refresh_from_db()
    assert provider.api_base_url == "https://gemini-proxy.example.com"
    assert not provider.is_active
    assert admin_client.get("/api/providers/").json()["data"][0]["slug"] != "google"


def _model_form(model: ImageModel, capabilities) -> dict:
    return {
        "provider": str(model.provider_id),
        "name": model.name,
        "model_id": model.model_id,
        "description": model.description,
        "capabilities": json.dumps(capabilities),
        "is_active": "on",
    }


def test_operator_edits_a_models_capabilities(admin_client, providers):
    model = ImageModel.objects.get(model_id="dall-e-3")
    caps = {**model.capabilities, "max_prompt_length": 3000}
    response = admin_client.post(
        f"/admin/byok/imagemodel/{model.pk}/change/", _model_form(model, caps)
    )
    assert response.status_code == 302
    model.refresh_from_db()
    assert model.capabilities["max_prompt_length"] == 3000


@pytest.mark.parametrize(
    "capabilities, message",
    [
        (["not", "an", "object"], "must be a JSON object"),
        ({"max_images": 0}, "max_images"),
        ({"sizes": "1024x1024"}, "sizes"),
        ({"price_per_image": {"standard": "free"}}, "price_per_image"),
        ({"max_input_images": -1}, "max_input_images"),
        ({"max_input_images": "3"}, "max_input_images"),
        ({"mask": "yes"}, "mask"),
        ({"output_compression": 1}, "output_compression"),
        ({"moderations": "low"}, "moderations"),
        ({"price_per_input_image": 0.002}, "price_per_input_image"),
        ({"token_prices": "5"}, "token_prices"),
        ({"token_prices": {"output": "free"}}, "token_prices"),
        ({"shutdown_date": "1 Dec 2026"}, "shutdown_date"),
    ],
)
def test_broken_capabilities_are_refused_with_a_reason(
    admin_client, providers, capabilities, message
):
    model = ImageModel.objects.get(model_id="dall-e-3")
    before = model.capabilities
    response = admin_client.post(
        f"/admin/byok/imagemodel/{model.pk}/change/", _model_form(model, capabilities)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    model.refresh_from_db()
    assert model.capabilities == before


def test_configuration_change_list_shows_owner_provider_name_hint_and_validity(
    admin_client, user, providers
):
    configuration = make_configuration(user, providers["xai"], name="Grok at work")
    page = admin_client.get("/admin/byok/apiconfiguration/").content.decode()
    for text in (user.email, "xAI", "Grok at work", configuration.key_hint):
        assert text in page
    assert configuration.clear_key not in page


def test_configuration_page_never_shows_the_key_nor_its_ciphertext(admin_client, user, providers):
    configuration = make_configuration(user, providers["openai"], name="Secret")
    stored = ApiConfiguration.objects.get(pk=configuration.pk)
    ciphertext = stored.__dict__["api_key"]
    response = admin_client.get(f"/admin/byok/apiconfiguration/{configuration.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Secret" in page and configuration.key_hint in page
    assert configuration.clear_key not in page
    assert ciphertext.split(":")[2][:24] not in page
    assert 'name="api_key"' not in page


def test_operators_cannot_add_or_edit_configurations(admin_client, user, providers):
    configuration = make_configuration(user, providers["openai"], name="Untouched")
    assert admin_client.get("/admin/byok/apiconfiguration/add/").status_code == 403
    admin_client.post(
        f"/admin/byok/apiconfiguration/{configuration.pk}/change/", {"name": "Changed"}
    )
    assert ApiConfiguration.objects.get(pk=configuration.pk).name == "Untouched"


def test_operator_deleting_a_configuration_is_recorded(admin_client, operator, user, providers):
    configuration = make_configuration(user, providers["openai"])
    response = admin_client.post(
        f"/admin/byok/apiconfiguration/{configuration.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not ApiConfiguration.objects.filter(pk=configuration.pk).exists()
    event = SecurityEvent.objects.get(kind="key_deleted", user=user)
    assert event.detail["deleted_by"] == operator.email


def test_provider_list_shows_base_url_and_activity(admin_client, providers):
    page = admin_client.get("/admin/byok/provider/").content.decode()
    for provider in Provider.objects.all():
        assert provider.api_base_url in page


def _provider_form(provider, api_base_url: str) -> dict:
    return {
        "name": provider.name,
        "slug": provider.slug,
        "description": provider.description,
        "website_url": provider.website_url,
        "api_base_url": api_base_url,
        "is_active": "on",
        "models-TOTAL_FORMS": "0",
        "models-INITIAL_FORMS": "0",
        "models-MIN_NUM_FORMS": "0",
        "models-MAX_NUM_FORMS": "1000",
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:6379",
        "http://[::1]:8080",
        "http://169.254.169.254/latest",
        "http://10.0.0.5",
        "http://0x7f000001:8080",
    ],
)
def test_a_base_url_on_a_private_network_is_refused_with_a_reason(admin_client, providers, url):
    provider = providers["openai"]
    before = provider.api_base_url

    response = admin_client.post(
        f"/admin/byok/provider/{provider.pk}/change/", _provider_form(provider, url)
    )

    assert response.status_code == 200  # the form again, with the error
    errors = str(response.context["adminform"].form.errors.get("api_base_url"))
    assert "private network" in errors or "valid URL" in errors, errors
    provider.refresh_from_db()
    assert provider.api_base_url == before


def test_the_refusal_names_the_setting_that_lets_a_stand_in_through(admin_client, providers):
    provider = providers["openai"]

    response = admin_client.post(
        f"/admin/byok/provider/{provider.pk}/change/",
        _provider_form(provider, "http://127.0.0.1:8765"),
    )

    errors = str(response.context["adminform"].form.errors["api_base_url"])
    assert "127.0.0.1" in errors and "PROVIDER_PRIVATE_HOSTS" in errors
    assert "127.0.0.1:8765" in errors


def test_an_allowed_stand_in_and_an_unresolved_name_are_accepted(admin_client, providers, settings):
    provider = providers["openai"]
    settings.PROVIDER_PRIVATE_HOSTS = ["127.0.0.1:8765"]

    # A name this machine cannot resolve now is accepted: every call checks it again.
    for url in ("http://127.0.0.1:8765", "https://api.provider.invalid"):
        response = admin_client.post(
            f"/admin/byok/provider/{provider.pk}/change/", _provider_form(provider, url)
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        provider.refresh_from_db()
        assert provider.api_base_url == url


def test_credentials_or_a_query_in_the_base_url_are_refused(admin_client, providers):
    provider = providers["openai"]
    for url in ("https://user:pass@api.openai.com", "https://api.openai.com/?key=x"):
        response = admin_client.post(
            f"/admin/byok/provider/{provider.pk}/change/", _provider_form(provider, url)
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["api_base_url"]
