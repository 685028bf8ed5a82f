import os

import pytest
from django.core.cache import cache
from django.test import Client

from byok.catalogue import seed_catalogue
from byok.models import ImageModel, Provider
from tests.factories import make_user

# Tests set their own environment: neither this process (see bambi/settings.py) nor the
# processes the tests start may read a developer's `.env` (scripts/run writes one).
os.environ["BAMBI_ENV_FILE"] = ""


@pytest.fixture
def catalogue(db):
    """The seeded providers and models (re-seeded: transactional tests flush the tables)."""
    seed_catalogue(Provider, ImageModel)
    return {p.slug: p for p in Provider.objects.all()}


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def other_user(db):
    return make_user()


@pytest.fixture
def logged_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes files into its own throwaway MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


# Hosts that the `responses`-based tests point provider rows and image URLs at. They do not
# resolve (.test, example.*), and the network guard (bambi.http) refuses a name it cannot
# resolve; listing them in PROVIDER_PRIVATE_HOSTS is what an operator does for a stand-in.
# Tests of the guard itself use real local servers that are left out of this list.
RESPONSES_HOSTS = [
    "api.example.com",
    "images.example.net",
    "cdn.example.net",
    "elsewhere.example.org",
    "elsewhere.example",
    "openai.provider.test",
    "google.provider.test",
    "xai.provider.test",
    "openai.gen.test",
    "google.gen.test",
    "xai.gen.test",
    "openai.billing.test",
    "api.openai.test",
    "api.x.test",
    "imgen.x.test",
    "generativelanguage.googleapis.test",
    "oaidalleapiprodscus.blob.core.windows.test",
    "x.test",
    "gemini-proxy.example.com",
    # Real hosts some tests use verbatim (never reached: `responses` answers).
    "imgen.x.ai",
    "api.openai.com",
    "api.x.ai",
    "generativelanguage.googleapis.com",
]


@pytest.fixture(autouse=True)
def _responses_hosts(settings):
    settings.PROVIDER_PRIVATE_HOSTS = [
        f"{host}:{port}" for host in RESPONSES_HOSTS for port in (443, 80)
    ]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A request in French leaves French active in the thread (LocaleMiddleware does not
    switch back): every test starts and ends in the default language."""
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)
