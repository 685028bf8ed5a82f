"""Operators deleting users in the admin: the same clean-up as a user deleting their account
(keys, generations, image files, Stripe subscription cancelled), through the admin's real
delete page and its bulk action, by an operator who may delete users."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from djstripe.models import Customer

from accounts.models import SecurityEvent, User
from byok.models import ApiConfiguration
from generations import storage
from generations.models import ApiUsage, Image, ImageGeneration
from tests.factories import make_configuration, make_user
from tests.images import png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _owning_everything(user, catalogue, n: int) -> dict:
    """A Premium user with a stored key, a generation with its image file and its usage row,
    and an active Stripe subscription."""
    configuration = make_configuration(user, catalogue["openai"])
    generation = ImageGeneration.objects.create(
        user=user,
        configuration=configuration,
        provider=catalogue["openai"],
        prompt="A fox",
        status=ImageGeneration.Status.COMPLETED,
    )
    (stored,) = storage.images_store(
        user_id=user.pk, generation_id=generation.pk, images=[png_bytes(32, 32)]
    )
    Image.objects.create(
        generation=generation,
        index=0,
        storage_path=stored.storage_path,
        thumbnail_path=stored.thumbnail_path,
        width=32,
        height=32,
        format="png",
        bytes=stored.bytes,
    )
    storage.thumbnail_ensure(storage_path=stored.storage_path, thumbnail_path=stored.thumbnail_path)
    ApiUsage.objects.create(user=user, configuration=configuration, generation=generation)
    customer = Customer.objects.create(id=f"cus_TbAmBiAdMiN{n}", subscriber=user, livemode=False)
    customer.subscriptions.create(
        id=f"sub_1SbAmBiAdMiN{n}", livemode=False, stripe_data={"status": "active"}
    )
    files = [
        Path(settings.MEDIA_ROOT) / stored.storage_path,
        Path(settings.MEDIA_ROOT) / stored.thumbnail_path,
    ]
    assert all(f.exists() for f in files)
    return {"files": files, "subscription": f"sub_1SbAmBiAdMiN{n}", "customer": customer.id}


def _all_gone(user, owned: dict) -> None:
    assert not User.objects.filter(pk=user.pk).exists()
    assert not ApiConfiguration.objects.filter(user_id=user.pk).exists()
    assert not ImageGeneration.objects.filter(user_id=user.pk).exists()
    assert not ApiUsage.objects.filter(user_id=user.pk).exists()
    assert not any(f.exists() for f in owned["files"])
    assert not (Path(settings.MEDIA_ROOT) / storage.user_prefix(user.pk)).exists()
    # The customer stays for Stripe's accounting records, linked to nobody.
    assert Customer.objects.get(id=owned["customer"]).subscriber is None


@pytest.fixture
def user_admin_client(db) -> Client:
    """Staff who may view and delete users, and nothing else (no right on keys, usage...)."""
    staff = make_user(is_staff=True, email="operator@example.com")
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_user", "delete_user"]
        )
    )
    client = Client()
    client.force_login(staff)
    return client


def test_deleting_a_user_in_the_admin_cleans_up_like_the_account_page(
    user_admin_client, user, catalogue, stripe_api
):
    owned = _owning_everything(user, catalogue, 1)
    url = f"/admin/accounts/user/{user.pk}/delete/"

    confirm = user_admin_client.get(url)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Are you sure" in page and "API usage" in page  # Django's summary of what goes
    assert "would require deleting the following protected" not in page
    assert "doesn't have permission" not in page

    done = user_admin_client.post(url, {"post": "yes"})
    assert done.status_code == 302

    _all_gone(user, owned)
    assert stripe_api.canceled == [owned["subscription"]]
    event = SecurityEvent.objects.get(kind="account_deleted")
    assert event.detail["user_id"] == str(user.pk)
    assert event.detail["deleted_by"] == "operator@example.com"


def test_the_bulk_delete_action_cleans_up_every_selected_user(
    user_admin_client, user, catalogue, stripe_api
):
    other = make_user()
    bystander = make_user()
    owned = {
        user: _owning_everything(user, catalogue, 1),
        other: _owning_everything(other, catalogue, 2),
    }
    selection = {"action": "delete_selected", "_selected_action": [str(user.pk), str(other.pk)]}

    confirm = user_admin_client.post("/admin/accounts/user/", selection)
    assert confirm.status_code == 200
    assert "Are you sure" in confirm.content.decode()
    done = user_admin_client.post("/admin/accounts/user/", {**selection, "post": "yes"})
    assert done.status_code == 302

    for member, things in owned.items():
        _all_gone(member, things)
    assert sorted(stripe_api.canceled) == sorted(t["subscription"] for t in owned.values())
    assert SecurityEvent.objects.filter(kind="account_deleted").count() == 2
    assert User.objects.filter(pk=bystander.pk).exists()


def test_staff_without_the_delete_permission_cannot_delete_users(user, catalogue):
    staff = make_user(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename="view_user"))
    client = Client()
    client.force_login(staff)
    assert (
        client.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert User.objects.filter(pk=user.pk).exists()
