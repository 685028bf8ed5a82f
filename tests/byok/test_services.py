import pytest

from accounts.models import SecurityEvent
from billing.plans import PlanLimitReached
from byok import services
from byok.key_checks import KeyNotAccepted
from byok.models import ApiConfiguration
from tests.factories import make_configuration, new_key
from tests.recorded import INVALID_REASONS, PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def events(user, kind):
    return list(SecurityEvent.objects.filter(user=user, kind=kind))


@pytest.mark.parametrize(
    "key, hint",
    [
        ("sk-proj-abcdefghijklmnopqrstuvwxyzQa42", "sk-…Qa42"),
        ("AIzaSyD-abcdefghijklmnopqrstuvwxyz12345", "AIz…2345"),
        ("  xai-abcdefghijklmnopWXYZ  ", "xai…WXYZ"),
        ("short-key-12", "…12"),
        ("tiny", "…"),
    ],
)
def test_key_hint_shows_at_most_seven_characters_of_the_key(key, hint):
    assert services.key_hint(key) == hint
    assert len(hint.replace("…", "")) <= 7


@pytest.mark.parametrize("slug", PROVIDERS)
def test_a_key_the_provider_accepts_is_stored_encrypted_with_a_hint(
    user, providers, provider_http, slug
):
    provider = providers[slug]
    key = new_key(slug)
    provider_http.valid(provider, key)
    configuration = services.api_configuration_create(
        user=user, provider=provider, name=" Work ", api_key=f" {key}\n"
    )
    stored = ApiConfiguration.objects.get(pk=configuration.pk)
    assert stored.api_key == key
    assert stored.name == "Work"
    assert stored.key_hint == f"{key[:3]}…{key[-4:]}"
    assert stored.is_valid and stored.last_validated_at is not None
    assert provider_http.calls_to(provider) == 1
    (event,) = events(user, "key_created")
    assert event.detail["configuration_id"] == str(configuration.pk)
    assert event.detail["key_hint"] == stored.key_hint


@pytest.mark.parametrize("slug", PROVIDERS)
def test_a_key_the_provider_refuses_is_not_stored_and_the_reason_is_given(
    user, providers, provider_http, slug
):
    provider = providers[slug]
    key = new_key(slug)
    provider_http.invalid(provider, key)
    with pytest.raises(KeyNotAccepted) as excinfo:
        services.api_configuration_create(user=user, provider=provider, name="x", api_key=key)
    assert excinfo.value.http_status == 400
    assert INVALID_REASONS[slug] in excinfo.value.message
    assert key not in excinfo.value.message
    assert not ApiConfiguration.objects.exists()
    (event,) = events(user, "key_validated")
    assert event.detail == {"provider": slug, "result": "invalid", "stored": False}


def test_an_xai_key_reported_blocked_is_refused(user, providers, provider_http):
    provider = providers["xai"]
    key = new_key("xai")
    provider_http.blocked(provider, key)
    with pytest.raises(KeyNotAccepted) as excinfo:
        services.api_configuration_create(user=user, provider=provider, name="x", api_key=key)
    assert excinfo.value.http_status == 400
    assert "blocked" in excinfo.value.message
    assert not ApiConfiguration.objects.exists()


@pytest.mark.parametrize("slug", PROVIDERS)
@pytest.mark.parametrize("outcome, status", [("down", 502), ("slow", 504)])
def test_a_provider_down_or_slow_stores_nothing_and_says_so(
    user, providers, provider_http, slug, outcome, status
):
    provider = providers[slug]
    provider_http.outcome(outcome, provider, "")
    with pytest.raises(KeyNotAccepted) as excinfo:
        services.api_configuration_create(
            user=user, provider=provider, name="x", api_key=new_key(slug)
        )
    assert excinfo.value.http_status == status
    assert "try again" in excinfo.value.message
    assert not ApiConfiguration.objects.exists()


def test_second_key_on_free_plan_is_refused_before_asking_the_provider(
    user, providers, add_configuration, provider_http
):
    add_configuration(user, providers["openai"])
    calls = len(provider_http.mock.calls)
    with pytest.raises(PlanLimitReached) as excinfo:
        services.api_configuration_create(
            user=user, provider=providers["google"], name="Second", api_key=new_key("google")
        )
    assert "Upgrade to Premium" in str(excinfo.value)
    assert "/dashboard/billing/" in str(excinfo.value)
    assert len(provider_http.mock.calls) == calls
    assert ApiConfiguration.objects.filter(user=user).count() == 1


def test_the_free_limit_counts_each_users_keys_separately(
    user, other_user, providers, add_configuration
):
    add_configuration(user, providers["openai"])
    add_configuration(other_user, providers["openai"])
    assert ApiConfiguration.objects.count() == 2


def test_keys_kept_beyond_the_limit_after_a_downgrade_stay_usable(user, providers):
    # A former Premium user with three keys is Free now: nothing is deleted or disabled.
    kept = [make_configuration(user, providers["openai"], name=f"k{i}") for i in range(3)]
    assert not services.can_add_configuration(user=user)
    for configuration in kept:
        stored = ApiConfiguration.objects.get(pk=configuration.pk)
        assert stored.is_valid and stored.api_key == configuration.clear_key


def test_rename_records_old_and_new_name(user, providers, add_configuration):
    configuration = add_configuration(user, providers["openai"], name="Old")
    services.api_configuration_rename(configuration=configuration, name="  New ")
    assert ApiConfiguration.objects.get(pk=configuration.pk).name == "New"
    (event,) = events(user, "key_renamed")
    assert event.detail["old_name"] == "Old" and event.detail["name"] == "New"


def test_replacing_the_key_checks_it_and_stores_the_new_one(
    user, providers, add_configuration, provider_http
):
    configuration = add_configuration(user, providers["xai"])
    configuration.is_valid = False
    configuration.save()
    new = new_key("xai")
    provider_http.valid(providers["xai"], new)
    services.api_configuration_replace_key(configuration=configuration, api_key=new)
    stored = ApiConfiguration.objects.get(pk=configuration.pk)
    assert stored.api_key == new
    assert stored.key_hint == services.key_hint(new)
    assert stored.is_valid
    (event,) = events(user, "key_replaced")
    assert event.detail["key_hint"] == stored.key_hint


@pytest.mark.parametrize("outcome", ["invalid", "down", "slow"])
def test_a_replacement_that_cannot_be_accepted_keeps_the_old_key(
    user, providers, add_configuration, provider_http, outcome
):
    configuration = add_configuration(user, providers["google"])
    new = new_key("google")
    provider_http.outcome(outcome, providers["google"], new)
    with pytest.raises(KeyNotAccepted):
        services.api_configuration_replace_key(configuration=configuration, api_key=new)
    stored = ApiConfiguration.objects.get(pk=configuration.pk)
    assert stored.api_key == configuration.clear_key
    assert stored.key_hint == services.key_hint(configuration.clear_key)
    assert not events(user, "key_replaced")


@pytest.mark.parametrize("slug", PROVIDERS)
def test_revalidation_records_the_providers_answer(
    user, providers, add_configuration, provider_http, slug
):
    configuration = add_configuration(user, providers[slug])
    provider_http.invalid(providers[slug], configuration.clear_key)
    check = services.api_configuration_revalidate(configuration=configuration)
    assert check.status == "invalid"
    assert not ApiConfiguration.objects.get(pk=configuration.pk).is_valid

    provider_http.valid(providers[slug], configuration.clear_key)
    check = services.api_configuration_revalidate(configuration=configuration)
    assert check.is_valid
    assert ApiConfiguration.objects.get(pk=configuration.pk).is_valid
    results = [e.detail["result"] for e in events(user, "key_validated")]
    assert sorted(results) == ["invalid", "valid"]


def test_revalidation_with_the_provider_down_does_not_mark_the_key_invalid(
    user, providers, add_configuration, provider_http
):
    configuration = add_configuration(user, providers["openai"])
    before = ApiConfiguration.objects.get(pk=configuration.pk).last_validated_at
    provider_http.down(providers["openai"])
    check = services.api_configuration_revalidate(configuration=configuration)
    assert check.status == "unreachable" and not check.timed_out
    stored = ApiConfiguration.objects.get(pk=configuration.pk)
    assert stored.is_valid and stored.last_validated_at == before
    assert events(user, "key_validated")[0].detail["result"] == "unreachable"


def test_delete_removes_the_row_and_records_it(user, providers, add_configuration):
    configuration = add_configuration(user, providers["openai"])
    pk = configuration.pk
    services.api_configuration_delete(configuration=configuration)
    assert not ApiConfiguration.objects.filter(pk=pk).exists()
    (event,) = events(user, "key_deleted")
    assert event.detail["configuration_id"] == str(pk)


def test_mark_invalid_flags_the_key_and_records_a_scrubbed_reason(
    user, providers, add_configuration
):
    configuration = add_configuration(user, providers["openai"])
    key = configuration.clear_key
    services.api_configuration_mark_invalid(
        configuration=configuration,
        reason=f"Incorrect API key provided: {key[:8]}****{key[-4:]}. Also {key}.",
    )
    assert not ApiConfiguration.objects.get(pk=configuration.pk).is_valid
    (event,) = events(user, "key_invalidated")
    assert "Incorrect API key provided" in event.detail["reason"]
    assert key not in event.detail["reason"]
    assert key[:8] not in event.detail["reason"]


def test_no_security_event_ever_holds_the_key(user, providers, add_configuration, provider_http):
    configuration = add_configuration(user, providers["openai"])
    key = configuration.clear_key
    new = new_key("openai")
    provider_http.invalid(providers["openai"], new)
    with pytest.raises(KeyNotAccepted):
        services.api_configuration_replace_key(configuration=configuration, api_key=new)
    services.api_configuration_revalidate(configuration=configuration)
    for event in SecurityEvent.objects.all():
        text = str(event.detail)
        assert key not in text and new not in text
        assert key[8:24] not in text and new[8:24] not in text


@pytest.mark.django_db(transaction=True)
def test_parallel_adds_on_free_plan_store_only_one_key(user, providers, provider_http):
    import threading

    from django.db import connection

    provider = providers["openai"]
    keys = [new_key("openai") for _ in range(4)]
    for key in keys:
        provider_http.valid(provider, key)
    start = threading.Barrier(len(keys))
    outcomes = []

    def add(key):
        try:
            start.wait()
            services.api_configuration_create(user=user, provider=provider, name="p", api_key=key)
            outcomes.append("stored")
        except PlanLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "stored"]
    assert ApiConfiguration.objects.filter(user=user).count() == 1
