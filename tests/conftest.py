import os

import pytest
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
