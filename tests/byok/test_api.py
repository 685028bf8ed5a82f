import json
import uuid

import pytest

from accounts.models import SecurityEvent
from byok.models import ApiConfiguration, ImageModel
from tests.factories import make_configuration, new_key
from tests.recorded import INVALID_REASONS, PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

LIST = "/api/api-configurations/"
VALIDATE = "/api/validate-api-key/"


def detail_url(pk) -> str:
    return f"/api/api-configurations/{pk}/"


def post(client, url, body, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def create_body(provider, key, name="My key"):
    return {"name": name, "providerId": str(provider.pk), "apiKey": key}


# --- catalogue -------------------------------------------------------------------------------


def test_providers_lists_active_providers_with_their_active_models(logged_in, catalogue):
    # `catalogue`, not `providers`: that one switches the retired models back on.
    ImageModel.objects.filter(model_id="gpt-image-1-mini").update(is_active=False)
    catalogue["xai"].is_active = False
    catalogue["xai"].save()
    response = logged_in.get("/api/providers/")
    assert response.status_code == 200
    rows = {row["slug"]: row for row in response.json()["data"]}
    assert set(rows) == {"openai", "google"}
    openai_models = {m["model_id"] for m in rows["openai"]["models"]}
    assert "gpt-image-1.5" in openai_models and "gpt-image-2" in openai_models
    # Switched off: by the operator (mini, above), or retired by OpenAI (DALL·E).
    assert not openai_models & {"gpt-image-1-mini", "dall-e-3", "dall-e-2"}
    model = rows["openai"]["models"][0]
    assert set(model) == {"id", "name", "model_id", "description", "capabilities"}
    assert "max_images" in model["capabilities"]


def test_the_api_answers_401_json_to_anonymous_requests(client, providers):
    for url in ("/api/providers/", LIST, detail_url(uuid.uuid4())):
        response = client.get(url)
        assert response.status_code == 401
        assert "error" in response.json()
    assert post(client, VALIDATE, {}).status_code == 401


# --- create ------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", PROVIDERS)
def test_post_with_a_good_key_answers_201_with_the_row(
    logged_in, user, providers, provider_http, slug
):
    provider = providers[slug]
    key = new_key(slug)
    provider_http.valid(provider, key)
    response = post(logged_in, LIST, create_body(provider, key, name="Personal"))
    assert response.status_code == 201, response.content
    row = response.json()["data"]
    assert set(row) == {
        "id",
        "name",
        "provider",
        "key_hint",
        "is_valid",
        "last_validated_at",
        "created_at",
        "updated_at",
        "monthly_budget_usd",
    }
    assert row["provider"] == {"id": str(provider.pk), "name": provider.name, "slug": slug}
    assert row["name"] == "Personal"
    assert row["key_hint"] == f"{key[:3]}…{key[-4:]}"
    assert row["is_valid"] is True and row["last_validated_at"]
    assert ApiConfiguration.objects.get(pk=row["id"], user=user).api_key == key


@pytest.mark.parametrize("slug", PROVIDERS)
def test_post_with_a_bad_key_answers_400_with_the_providers_reason(
    logged_in, providers, provider_http, slug
):
    key = new_key(slug)
    provider_http.invalid(providers[slug], key)
    response = post(logged_in, LIST, create_body(providers[slug], key))
    assert response.status_code == 400
    assert INVALID_REASONS[slug] in response.json()["error"]
    assert not ApiConfiguration.objects.exists()


def test_post_with_a_blocked_xai_key_answers_400(logged_in, providers, provider_http):
    key = new_key("xai")
    provider_http.blocked(providers["xai"], key)
    response = post(logged_in, LIST, create_body(providers["xai"], key))
    assert response.status_code == 400
    assert "blocked" in response.json()["error"]
    assert not ApiConfiguration.objects.exists()


@pytest.mark.parametrize("slug", PROVIDERS)
@pytest.mark.parametrize("outcome, status", [("down", 502), ("slow", 504)])
def test_post_with_the_provider_unreachable_answers_502_or_504(
    logged_in, providers, provider_http, slug, outcome, status
):
    provider_http.outcome(outcome, providers[slug], "")
    response = post(logged_in, LIST, create_body(providers[slug], new_key(slug)))
    assert response.status_code == status
    assert providers[slug].name in response.json()["error"]
    assert not ApiConfiguration.objects.exists()


def test_second_key_on_free_plan_is_refused_with_403_and_the_upgrade(
    logged_in, user, providers, add_configuration, provider_http
):
    add_configuration(user, providers["openai"])
    key = new_key("google")
    provider_http.valid(providers["google"], key)
    response = post(logged_in, LIST, create_body(providers["google"], key))
    assert response.status_code == 403
    error = response.json()["error"]
    assert "Upgrade to Premium" in error and "/dashboard/billing/" in error
    assert provider_http.calls_to(providers["google"]) == 0
    assert ApiConfiguration.objects.filter(user=user).count() == 1


def _bad_bodies(providers):
    openai = providers["openai"]
    good = create_body(openai, new_key("openai"))
    return {
        "missing name": {k: v for k, v in good.items() if k != "name"},
        "empty name": {**good, "name": "   "},
        "missing provider": {k: v for k, v in good.items() if k != "providerId"},
        "missing key": {k: v for k, v in good.items() if k != "apiKey"},
        "empty key": {**good, "apiKey": ""},
        "unknown provider": {**good, "providerId": str(uuid.uuid4())},
        "provider not a uuid": {**good, "providerId": "openai"},
        "inactive provider": {**good, "providerId": str(providers["xai"].pk)},
        "10 kB key": {**good, "apiKey": "sk-" + "a" * 10_000},
        "key with a newline": {**good, "apiKey": "sk-abc\r\nX-Evil: 1"},
        "key is a number": {**good, "apiKey": 12345},
        "name is a list": {**good, "name": ["a"]},
        "name too long": {**good, "name": "n" * 101},
    }


BAD_CASES = [
    "missing name",
    "empty name",
    "missing provider",
    "missing key",
    "empty key",
    "unknown provider",
    "provider not a uuid",
    "inactive provider",
    "10 kB key",
    "key with a newline",
    "key is a number",
    "name is a list",
    "name too long",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_answers_400_json_and_stores_nothing(logged_in, providers, provider_http, case):
    providers["xai"].is_active = False
    providers["xai"].save()
    response = post(logged_in, LIST, _bad_bodies(providers)[case])
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].strip()
    assert not ApiConfiguration.objects.exists()
    assert len(provider_http.mock.calls) == 0


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ('["a", "list"]', "application/json"),
        ("name=x&providerId=y&apiKey=z", "application/x-www-form-urlencoded"),
        ('{"name": "x"}', "text/plain"),
    ],
)
def test_malformed_json_or_wrong_content_type_answers_400(logged_in, providers, body, content_type):
    response = logged_in.post(LIST, data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not ApiConfiguration.objects.exists()


def test_an_unsupported_method_answers_405_json(logged_in, providers):
    response = logged_in.put(LIST, data="{}", content_type="application/json")
    assert response.status_code == 405
    assert response.json()["error"]


# --- list, detail, update, delete ---------------------------------------------------------------


def test_list_shows_only_my_configurations_newest_first(logged_in, user, other_user, providers):
    first = make_configuration(user, providers["openai"], name="First")
    second = make_configuration(user, providers["google"], name="Second")
    make_configuration(other_user, providers["openai"], name="Not mine")
    response = logged_in.get(LIST)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["data"]] == [str(second.pk), str(first.pk)]


def test_get_one_configuration(logged_in, user, providers):
    configuration = make_configuration(user, providers["xai"], name="Grok")
    response = logged_in.get(detail_url(configuration.pk))
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["name"] == "Grok" and data["provider"]["slug"] == "xai"


def test_patch_renames(logged_in, user, providers):
    configuration = make_configuration(user, providers["openai"], name="Old")
    response = post(logged_in, detail_url(configuration.pk), {"name": "New"}, "patch")
    assert response.status_code == 200
    assert response.json()["data"]["name"] == "New"
    assert SecurityEvent.objects.filter(user=user, kind="key_renamed").exists()


@pytest.mark.parametrize("slug", PROVIDERS)
def test_patch_replaces_the_key_after_checking_it(logged_in, user, providers, provider_http, slug):
    configuration = make_configuration(user, providers[slug])
    new = new_key(slug)
    provider_http.valid(providers[slug], new)
    response = post(logged_in, detail_url(configuration.pk), {"apiKey": new}, "patch")
    assert response.status_code == 200
    assert response.json()["data"]["key_hint"] == f"{new[:3]}…{new[-4:]}"
    assert ApiConfiguration.objects.get(pk=configuration.pk).api_key == new


@pytest.mark.parametrize("slug", PROVIDERS)
def test_patch_with_a_bad_key_answers_400_and_keeps_name_and_key(
    logged_in, user, providers, provider_http, slug
):
    configuration = make_configuration(user, providers[slug], name="Kept")
    new = new_key(slug)
    provider_http.invalid(providers[slug], new)
    response = post(
        logged_in, detail_url(configuration.pk), {"name": "Changed", "apiKey": new}, "patch"
    )
    assert response.status_code == 400
    assert INVALID_REASONS[slug] in response.json()["error"]
    stored = ApiConfiguration.objects.get(pk=configuration.pk)
    assert stored.name == "Kept" and stored.api_key == configuration.clear_key


def test_patch_with_the_provider_down_answers_502(logged_in, user, providers, provider_http):
    configuration = make_configuration(user, providers["google"])
    provider_http.down(providers["google"])
    response = post(logged_in, detail_url(configuration.pk), {"apiKey": new_key("google")}, "patch")
    assert response.status_code == 502
    assert ApiConfiguration.objects.get(pk=configuration.pk).api_key == configuration.clear_key


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"apiKey": "a b c"}, {"name": 3}])
def test_patch_with_nothing_usable_answers_400(logged_in, user, providers, body):
    configuration = make_configuration(user, providers["openai"], name="Same")
    response = post(logged_in, detail_url(configuration.pk), body, "patch")
    assert response.status_code == 400
    assert response.json()["error"]
    assert ApiConfiguration.objects.get(pk=configuration.pk).name == "Same"


def test_delete_removes_the_configuration(logged_in, user, providers):
    configuration = make_configuration(user, providers["openai"])
    response = logged_in.delete(detail_url(configuration.pk))
    assert response.status_code == 200
    assert response.json() == {"data": {"success": True}}
    assert not ApiConfiguration.objects.filter(pk=configuration.pk).exists()
    assert SecurityEvent.objects.filter(user=user, kind="key_deleted").exists()


def test_a_missing_configuration_answers_404_json(logged_in, providers):
    response = logged_in.get(detail_url(uuid.uuid4()))
    assert response.status_code == 404
    assert response.json()["error"]


# --- IDOR --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_configuration_answers_404_on_every_method(
    logged_in, other_user, providers, provider_http, method
):
    theirs = make_configuration(other_user, providers["openai"], name="Theirs")
    new = new_key("openai")
    provider_http.valid(providers["openai"], new)
    if method == "get":
        response = logged_in.get(detail_url(theirs.pk))
    elif method == "delete":
        response = logged_in.delete(detail_url(theirs.pk))
    else:
        response = post(logged_in, detail_url(theirs.pk), {"name": "Mine", "apiKey": new}, "patch")
    assert response.status_code == 404
    assert "Theirs" not in response.content.decode()
    stored = ApiConfiguration.objects.get(pk=theirs.pk)
    assert stored.name == "Theirs" and stored.api_key == theirs.clear_key
    assert len(provider_http.mock.calls) == 0


def test_revalidating_another_users_configuration_answers_404(
    logged_in, other_user, providers, provider_http
):
    theirs = make_configuration(other_user, providers["openai"])
    provider_http.invalid(providers["openai"], theirs.clear_key)
    response = post(logged_in, VALIDATE, {"configId": str(theirs.pk)})
    assert response.status_code == 404
    assert ApiConfiguration.objects.get(pk=theirs.pk).is_valid
    assert len(provider_http.mock.calls) == 0


# --- validate-api-key ---------------------------------------------------------------------------


@pytest.mark.parametrize("slug", PROVIDERS)
def test_validate_api_key_says_valid_without_storing(
    logged_in, user, providers, provider_http, slug
):
    key = new_key(slug)
    provider_http.valid(providers[slug], key)
    response = post(logged_in, VALIDATE, {"providerId": str(providers[slug].pk), "apiKey": key})
    assert response.status_code == 200
    assert response.json() == {"data": {"isValid": True, "error": None}}
    assert not ApiConfiguration.objects.exists()
    event = SecurityEvent.objects.get(user=user, kind="key_validated")
    assert event.detail["result"] == "valid"


@pytest.mark.parametrize("slug", PROVIDERS)
def test_validate_api_key_gives_the_providers_reason_for_a_bad_key(
    logged_in, providers, provider_http, slug
):
    key = new_key(slug)
    provider_http.invalid(providers[slug], key)
    response = post(logged_in, VALIDATE, {"providerId": str(providers[slug].pk), "apiKey": key})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["isValid"] is False
    assert INVALID_REASONS[slug] in data["error"]


def test_validate_api_key_reports_a_blocked_xai_key_as_invalid(logged_in, providers, provider_http):
    key = new_key("xai")
    provider_http.blocked(providers["xai"], key)
    response = post(logged_in, VALIDATE, {"providerId": str(providers["xai"].pk), "apiKey": key})
    data = response.json()["data"]
    assert data["isValid"] is False and "blocked" in data["error"]


@pytest.mark.parametrize("slug", PROVIDERS)
@pytest.mark.parametrize("outcome, status", [("down", 502), ("slow", 504)])
def test_validate_api_key_with_the_provider_unreachable_answers_502_or_504(
    logged_in, providers, provider_http, slug, outcome, status
):
    provider_http.outcome(outcome, providers[slug], "")
    response = post(
        logged_in, VALIDATE, {"providerId": str(providers[slug].pk), "apiKey": new_key(slug)}
    )
    assert response.status_code == status
    assert response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"providerId": str(uuid.uuid4()), "apiKey": "sk-abcdefgh"},
        {"apiKey": "sk-abcdefgh"},
        {"configId": "not-a-uuid"},
        {"configId": 7},
    ],
)
def test_validate_api_key_with_bad_input_answers_4xx_json(logged_in, providers, body):
    response = post(logged_in, VALIDATE, body)
    assert response.status_code in (400, 404)
    assert response.json()["error"]


def test_validate_api_key_with_a_config_id_revalidates_the_stored_key(
    logged_in, user, providers, provider_http
):
    configuration = make_configuration(user, providers["google"])
    provider_http.invalid(providers["google"], configuration.clear_key)
    response = post(logged_in, VALIDATE, {"configId": str(configuration.pk)})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["isValid"] is False
    assert INVALID_REASONS["google"] in data["error"]
    assert data["configuration"]["is_valid"] is False
    assert not ApiConfiguration.objects.get(pk=configuration.pk).is_valid


@pytest.mark.parametrize("outcome, status", [("down", 502), ("slow", 504)])
def test_revalidating_with_the_provider_unreachable_keeps_the_status(
    logged_in, user, providers, provider_http, outcome, status
):
    configuration = make_configuration(user, providers["xai"])
    provider_http.outcome(outcome, providers["xai"], configuration.clear_key)
    response = post(logged_in, VALIDATE, {"configId": str(configuration.pk)})
    assert response.status_code == status
    assert "keeps its current status" in response.json()["error"]
    assert ApiConfiguration.objects.get(pk=configuration.pk).is_valid
