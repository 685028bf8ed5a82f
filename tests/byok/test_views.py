import uuid

import pytest

from accounts.models import SecurityEvent
from byok.models import ApiConfiguration
from tests.factories import make_configuration, new_key
from tests.recorded import INVALID_REASONS, PROVIDERS

pytestmark = pytest.mark.django_db

KEYS = "/dashboard/keys/"


def add(client, provider, key, name="Dashboard key"):
    return client.post(KEYS, {"name": name, "provider": str(provider.pk), "api_key": key})


def test_keys_page_needs_a_login(client, providers):
    response = client.get(KEYS)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dashboard/keys/")


def test_keys_page_lists_name_provider_hint_status_and_dates(logged_in, user, providers):
    good = make_configuration(user, providers["openai"], name="Work OpenAI")
    bad = make_configuration(user, providers["xai"], name="Old Grok")
    bad.is_valid = False
    bad.save()
    response = logged_in.get(KEYS)
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("Work OpenAI", "Old Grok", "OpenAI", "xAI", good.key_hint, bad.key_hint):
        assert text in page
    assert 'class="badge ok">Valid' in page and 'class="badge bad">Invalid' in page
    assert "Last validated" in page and "Last used" in page and "Never" in page
    assert 'aria-current="page">Keys' in page


def test_keys_page_offers_only_active_providers(logged_in, providers):
    providers["google"].is_active = False
    providers["google"].save()
    page = logged_in.get(KEYS).content.decode()
    assert f'value="{providers["openai"].pk}"' in page
    assert f'value="{providers["google"].pk}"' not in page


@pytest.mark.parametrize("slug", PROVIDERS)
def test_adding_a_good_key_from_the_dashboard_saves_it(
    logged_in, user, providers, provider_http, slug
):
    key = new_key(slug)
    provider_http.valid(providers[slug], key)
    response = add(logged_in, providers[slug], key)
    assert response.status_code == 302 and response["Location"] == KEYS
    configuration = ApiConfiguration.objects.get(user=user)
    assert configuration.api_key == key and configuration.provider.slug == slug
    page = logged_in.get(KEYS).content.decode()
    assert "checked with" in page and configuration.key_hint in page


@pytest.mark.parametrize("slug", PROVIDERS)
def test_a_refused_key_is_not_saved_and_the_form_says_why(
    logged_in, providers, provider_http, slug
):
    key = new_key(slug)
    provider_http.invalid(providers[slug], key)
    response = add(logged_in, providers[slug], key, name="Typo")
    assert response.status_code == 400
    page = response.content.decode()
    assert INVALID_REASONS[slug] in page
    assert 'value="Typo"' in page  # the name is kept for the next try, the key is not
    assert key not in page
    assert not ApiConfiguration.objects.exists()


def test_a_blocked_xai_key_is_not_saved(logged_in, providers, provider_http):
    key = new_key("xai")
    provider_http.blocked(providers["xai"], key)
    response = add(logged_in, providers["xai"], key)
    assert response.status_code == 400
    assert "blocked" in response.content.decode()
    assert not ApiConfiguration.objects.exists()


@pytest.mark.parametrize("slug", PROVIDERS)
@pytest.mark.parametrize("outcome, status", [("down", 502), ("slow", 504)])
def test_provider_unreachable_from_the_dashboard_says_try_again(
    logged_in, providers, provider_http, slug, outcome, status
):
    provider_http.outcome(outcome, providers[slug], "")
    response = add(logged_in, providers[slug], new_key(slug))
    assert response.status_code == status
    assert "try again" in response.content.decode()
    assert not ApiConfiguration.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "x" * 101, "api_key": "sk-abcdefghijklmnop"}, "Keep the name under"),
        ({"name": "x", "api_key": ""}, "Enter the API key"),
        ({"name": "x", "api_key": "sk-" + "a" * 10_000}, "too long"),
        ({"name": "x", "api_key": "sk abc def"}, "no spaces"),
    ],
)
def test_bad_dashboard_input_says_why(logged_in, providers, provider_http, data, message):
    response = logged_in.post(KEYS, {**data, "provider": str(providers["openai"].pk)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiConfiguration.objects.exists()
    assert len(provider_http.mock.calls) == 0


def test_an_inactive_provider_is_refused(logged_in, providers, provider_http):
    providers["google"].is_active = False
    providers["google"].save()
    response = add(logged_in, providers["google"], new_key("google"))
    assert response.status_code == 400
    assert "not available" in response.content.decode()
    assert not ApiConfiguration.objects.exists()


def test_second_key_on_free_plan_shows_the_upgrade_sentence(
    logged_in, user, providers, add_configuration, provider_http, stripe_keys
):
    # Stripe configured (`stripe_keys`): Premium on sale.
    add_configuration(user, providers["openai"])
    page = logged_in.get(KEYS).content.decode()
    assert "Your Free plan allows 1 API key" in page
    assert 'href="/dashboard/billing/"' in page
    assert 'name="api_key"' not in page  # the form is replaced by the offer

    key = new_key("google")
    provider_http.valid(providers["google"], key)
    response = add(logged_in, providers["google"], key)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your Free plan allows 1 API key. Upgrade to Premium" in page
    assert 'href="/dashboard/billing/"' in page
    assert ApiConfiguration.objects.filter(user=user).count() == 1


def test_rename_from_the_dashboard(logged_in, user, providers):
    configuration = make_configuration(user, providers["openai"], name="Old")
    edit = logged_in.get(f"{KEYS}{configuration.pk}/")
    assert edit.status_code == 200 and 'value="Old"' in edit.content.decode()
    response = logged_in.post(f"{KEYS}{configuration.pk}/rename/", {"name": "Renamed"})
    assert response.status_code == 302
    assert ApiConfiguration.objects.get(pk=configuration.pk).name == "Renamed"
    response = logged_in.post(f"{KEYS}{configuration.pk}/rename/", {"name": ""})
    assert response.status_code == 400
    assert "Give the key a name" in response.content.decode()


@pytest.mark.parametrize("slug", PROVIDERS)
def test_replace_the_key_from_the_dashboard(logged_in, user, providers, provider_http, slug):
    configuration = make_configuration(user, providers[slug])
    url = f"{KEYS}{configuration.pk}/replace/"
    bad = new_key(slug)
    provider_http.invalid(providers[slug], bad)
    response = logged_in.post(url, {"api_key": bad})
    assert response.status_code == 400
    assert INVALID_REASONS[slug] in response.content.decode()
    assert ApiConfiguration.objects.get(pk=configuration.pk).api_key == configuration.clear_key

    good = new_key(slug)
    provider_http.valid(providers[slug], good)
    response = logged_in.post(url, {"api_key": good})
    assert response.status_code == 302
    assert ApiConfiguration.objects.get(pk=configuration.pk).api_key == good
    assert SecurityEvent.objects.filter(user=user, kind="key_replaced").count() == 1


@pytest.mark.parametrize(
    "outcome, badge, message",
    [
        ("valid", "badge ok", "accepted the key"),
        ("invalid", "badge bad", "refused this key"),
        ("down", "badge ok", "could not be reached"),
    ],
)
def test_revalidate_from_the_dashboard(
    logged_in, user, providers, provider_http, outcome, badge, message
):
    configuration = make_configuration(user, providers["openai"])
    provider_http.outcome(outcome, providers["openai"], configuration.clear_key)
    response = logged_in.post(f"{KEYS}{configuration.pk}/validate/", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and badge in page


def test_delete_asks_for_confirmation_first(logged_in, user, providers):
    configuration = make_configuration(user, providers["google"], name="To delete")
    url = f"{KEYS}{configuration.pk}/delete/"
    page = logged_in.get(url)
    assert page.status_code == 200
    assert "Delete this key?" in page.content.decode() and "To delete" in page.content.decode()
    assert ApiConfiguration.objects.filter(pk=configuration.pk).exists()
    response = logged_in.post(url)
    assert response.status_code == 302
    assert not ApiConfiguration.objects.filter(pk=configuration.pk).exists()
    assert SecurityEvent.objects.filter(user=user, kind="key_deleted").exists()


@pytest.mark.parametrize(
    "suffix, method",
    [
        ("", "get"),
        ("rename/", "post"),
        ("replace/", "post"),
        ("validate/", "post"),
        ("delete/", "get"),
        ("delete/", "post"),
    ],
)
def test_another_users_key_pages_answer_404(
    logged_in, other_user, providers, provider_http, suffix, method
):
    theirs = make_configuration(other_user, providers["openai"], name="Theirs")
    new = new_key("openai")
    provider_http.valid(providers["openai"], new)
    url = f"{KEYS}{theirs.pk}/{suffix}"
    response = getattr(logged_in, method)(url, {"name": "Mine", "api_key": new})
    assert response.status_code == 404
    stored = ApiConfiguration.objects.get(pk=theirs.pk)
    assert stored.name == "Theirs" and stored.api_key == theirs.clear_key
    assert len(provider_http.mock.calls) == 0


def test_an_unknown_key_page_answers_404(logged_in, providers):
    assert logged_in.get(f"{KEYS}{uuid.uuid4()}/").status_code == 404


# --- guidance, default names, no upsell without billing ------------------------------------------


def test_the_add_form_says_where_to_get_a_key_what_it_looks_like_and_what_it_costs(
    logged_in, providers
):
    page = logged_in.get(KEYS).content.decode()
    for link in (
        "https://platform.openai.com/api-keys",
        "https://aistudio.google.com/apikey",
        "https://console.x.ai",
    ):
        assert f'href="{link}"' in page
    assert "starts with “sk-”" in page and "starts with “AIza”" in page
    assert "starts with “xai-”" in page
    # Prices come from the active models of the catalogue: GPT Image 1 mini low to GPT Image 2
    # high (DALL·E, retired, is left out).
    assert "Images cost from $0.005 to $0.211 each, billed by OpenAI on your key." in page
    assert "Checking the key with Google…" in page  # the busy label of "Check and save"
    french = logged_in.get(KEYS, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "de 0,005\u00a0$ à 0,211\u00a0$" in french


def test_a_key_left_unnamed_is_named_after_its_provider(logged_in, user, providers, provider_http):
    key = new_key("google")
    provider_http.valid(providers["google"], key)
    response = logged_in.post(
        KEYS, {"name": "  ", "provider": str(providers["google"].pk), "api_key": key}
    )
    assert response.status_code == 302
    assert ApiConfiguration.objects.get(user=user).name == "Google"


def test_without_billing_the_key_limit_offers_no_upgrade(
    logged_in, user, providers, add_configuration, provider_http
):
    add_configuration(user, providers["openai"])
    page = logged_in.get(KEYS).content.decode()
    assert "Your plan allows 1 stored API key." in page
    assert "Upgrade" not in page and "Premium" not in page
    key = new_key("google")
    provider_http.valid(providers["google"], key)
    response = add(logged_in, providers["google"], key)
    assert response.status_code == 403
    assert "Upgrade" not in response.content.decode()


def test_an_invalid_key_shows_the_providers_reason_in_a_sentence(logged_in, user, providers):
    from byok.services import api_configuration_mark_invalid

    configuration = make_configuration(user, providers["xai"])
    api_configuration_mark_invalid(configuration=configuration, reason="xAI has blocked this key.")
    for url in (KEYS, "/dashboard/"):
        page = logged_in.get(url).content.decode()
        assert "xAI refused this key: xAI has blocked this key." in page
        assert "api_key_blocked" not in page
