"""Dashboard pages: generate form, result, gallery, private image files, overview meter,
data export and account deletion."""

from __future__ import annotations

import io
import json
import os
import re
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.http import Http404
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from accounts.models import User
from byok.models import ApiConfiguration
from generations import provenance, storage
from generations.models import Image, ImageGeneration
from generations.storage import THUMBNAIL_MAX_SIDE
from tests.factories import PASSWORD, image_model
from tests.images import media_files, pixels, png_bytes
from tests.recorded import MODELS, generate_url, success_body

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def form_data(configuration, model, prompt="A fox in the snow", **options):
    return {
        "configuration": str(configuration.pk),
        "model": str(model.pk),
        "prompt": prompt,
        **options,
    }


def generate(client, user, configs, rsps, slug="openai", model_id="dall-e-2", images=None):
    rsps.post(generate_url(slug, model_id), json=success_body(slug, model_id, images))
    response = client.post(
        "/dashboard/generate/",
        form_data(configs[slug], image_model(slug, model_id), count=len(images or [1])),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImageGeneration.objects.filter(user=user).order_by("-created_at").first()


def view_thumbnails(client, *generations) -> None:
    """Ask for every thumbnail, as the gallery does (they are made on first request)."""
    for generation in generations:
        for image in generation.images.all():
            assert client.get(f"/dashboard/images/{image.pk}/thumbnail/").status_code == 200


# --- generate page ---------------------------------------------------------------------------


def test_generate_page_offers_valid_keys_models_options_cost_and_quota(logged_in, user, configs):
    configs["google"].is_valid = False
    configs["google"].save()
    User.objects.filter(pk=user.pk).update(usage_count=12)
    page = logged_in.get("/dashboard/generate/").content.decode()
    assert str(configs["openai"].pk) in page and str(configs["xai"].pk) in page
    assert str(configs["google"].pk) not in page  # an invalid key is not offered
    assert 'id="generate-catalogue"' in page  # capabilities for generate.js
    assert "Estimated cost" in page
    assert "12 / 50 this month" in page
    assert 'data-busy-label="Generating…"' in page
    assert configs["openai"].clear_key not in page


def test_generate_page_without_a_key_points_to_the_keys_page(logged_in):
    page = logged_in.get("/dashboard/generate/").content.decode()
    assert "/dashboard/keys/" in page and "generate-form" not in page


@pytest.mark.parametrize(("slug", "model_id"), MODELS)
def test_form_generates_with_every_provider_and_shows_the_images(
    logged_in, user, configs, rsps, slug, model_id
):
    rsps.post(generate_url(slug, model_id), json=success_body(slug, model_id))
    response = logged_in.post(
        "/dashboard/generate/", form_data(configs[slug], image_model(slug, model_id))
    )
    generation = ImageGeneration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/generations/{generation.pk}/"
    page = logged_in.get(response["Location"]).content.decode()
    image = generation.images.get()
    assert f"/dashboard/images/{image.pk}/" in page
    assert "Use these settings again" in page


def test_refusal_shows_the_providers_reason(logged_in, user, configs, rsps):
    reason = "Your request was rejected as a result of our safety system."
    rsps.post(
        generate_url("openai", "dall-e-3"),
        status=400,
        json={"error": {"message": reason, "code": "content_policy_violation"}},
    )
    response = logged_in.post(
        "/dashboard/generate/", form_data(configs["openai"], image_model("openai", "dall-e-3"))
    )
    assert response.status_code == 422
    assert reason in response.content.decode()
    user.refresh_from_db()
    assert user.usage_count == 0


def test_form_errors_are_shown_next_to_fields(logged_in, configs, rsps):
    response = logged_in.post(
        "/dashboard/generate/",
        form_data(configs["openai"], image_model("openai", "dall-e-3"), prompt="", size="1x1"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Write a prompt" in page and "does not offer" in page
    assert len(rsps.calls) == 0


def test_plan_limit_on_the_form_offers_the_upgrade(logged_in, user, configs, rsps):
    User.objects.filter(pk=user.pk).update(usage_count=50)
    response = logged_in.post(
        "/dashboard/generate/", form_data(configs["openai"], image_model("openai", "dall-e-3"))
    )
    assert response.status_code == 403
    assert "/dashboard/billing/" in response.content.decode()


def test_a_budget_refusal_on_the_form_points_to_the_budget_not_to_premium(
    logged_in, user, configs, rsps, settings
):
    settings.STRIPE_SECRET_KEY = "sk_test_" + "b" * 24
    settings.STRIPE_PREMIUM_PRICE_ID = "price_bambi"
    ApiConfiguration.objects.filter(pk=configs["openai"].pk).update(monthly_budget_usd=0)
    response = logged_in.post(
        "/dashboard/generate/", form_data(configs["openai"], image_model("openai", "dall-e-3"))
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "This key&#x27;s monthly budget of $0.00 is reached" in page
    assert "Change the budget on the keys page" in page
    assert ">See the Premium plan</a>" not in page
    assert len(rsps.calls) == 0


def test_use_these_settings_again_prefills_the_form(logged_in, user, configs, rsps):
    rsps.post(generate_url("openai", "dall-e-3"), json=success_body("openai", "dall-e-3"))
    logged_in.post(
        "/dashboard/generate/",
        form_data(
            configs["openai"],
            image_model("openai", "dall-e-3"),
            prompt="Fox & owl",
            quality="hd",
            style="natural",
        ),
    )
    generation = ImageGeneration.objects.get()
    detail = logged_in.get(f"/dashboard/generations/{generation.pk}/").content.decode()
    start = detail.index("/dashboard/generate/?prompt=")  # not "Edit" (?edit=<image>)
    rerun = detail[start : detail.index('"', start)].replace("&amp;", "&")
    page = logged_in.get(rerun).content.decode()
    assert "Fox &amp; owl</textarea>" in page
    assert '<option value="hd" selected>' in page
    assert '<option value="natural" selected>' in page


# --- private images ---------------------------------------------------------------------------


def test_image_is_served_to_its_owner_only(logged_in, user, other_user, configs, rsps):
    generation = generate(logged_in, user, configs, rsps, images=[png_bytes(40, 30)])
    image = generation.images.get()
    url = f"/dashboard/images/{image.pk}/"

    response = logged_in.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"].startswith("private, max-age=")
    served = b"".join(response.streaming_content)
    # The provider's picture, with its provenance written into the file's metadata.
    assert pixels(served) == pixels(png_bytes(40, 30))
    assert provenance.read(served)["generation_id"] == str(generation.pk)

    download = logged_in.get(url + "?download=1")
    assert download["Content-Disposition"].startswith("attachment; filename=")

    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.get(url).status_code == 404
    assert stranger.get(url + "thumbnail/").status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=")


def test_thumbnail_is_a_small_webp(logged_in, user, configs, rsps):
    generation = generate(logged_in, user, configs, rsps, images=[png_bytes(1024, 512)])
    image = generation.images.get()
    response = logged_in.get(f"/dashboard/images/{image.pk}/thumbnail/")
    assert response["Content-Type"] == "image/webp"
    with PILImage.open(io.BytesIO(b"".join(response.streaming_content))) as thumb:
        assert thumb.format == "WEBP"
        assert thumb.size == (THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE // 2)


def test_thumbnail_is_made_on_first_request_then_kept(logged_in, user, configs, rsps):
    generation = generate(logged_in, user, configs, rsps, images=[png_bytes(300, 200)])
    image = generation.images.get()
    assert media_files() == [image.storage_path]  # the generation itself does not make it
    url = f"/dashboard/images/{image.pk}/thumbnail/"

    first = b"".join(logged_in.get(url).streaming_content)
    assert media_files() == sorted([image.storage_path, image.thumbnail_path])
    made_at = os.stat(Path(settings.MEDIA_ROOT) / image.thumbnail_path).st_mtime_ns
    second = b"".join(logged_in.get(url).streaming_content)

    assert first == second and first.startswith(b"RIFF")
    assert os.stat(Path(settings.MEDIA_ROOT) / image.thumbnail_path).st_mtime_ns == made_at


def test_first_requests_at_once_leave_one_whole_thumbnail(logged_in, user, configs, rsps):
    generation = generate(logged_in, user, configs, rsps, images=[png_bytes(900, 600)])
    image = generation.images.get()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def first_request() -> None:
        barrier.wait()
        try:
            storage.thumbnail_ensure(
                storage_path=image.storage_path, thumbnail_path=image.thumbnail_path
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    # No temporary file and no second copy under another name.
    assert media_files() == sorted([image.storage_path, image.thumbnail_path])
    with PILImage.open(Path(settings.MEDIA_ROOT) / image.thumbnail_path) as thumb:
        thumb.load()
        assert thumb.format == "WEBP" and thumb.size == (THUMBNAIL_MAX_SIDE, 256)


def test_thumbnail_request_racing_a_delete_leaves_no_file(logged_in, user, configs, rsps):
    generation = generate(logged_in, user, configs, rsps)
    image = generation.images.get()
    # The generation's row goes while the request that fetched the image makes its thumbnail.
    ImageGeneration.objects.filter(pk=generation.pk).delete()
    with pytest.raises(Http404):
        storage.image_thumbnail_ensure(image=image)
    assert media_files() == [image.storage_path]  # the delete's own on-commit job removes it
    storage.files_delete([image.storage_path])
    # And when the files are gone already: a 404, nothing written.
    with pytest.raises(Http404):
        storage.image_thumbnail_ensure(image=image)
    assert media_files() == []


def test_no_image_is_reachable_under_media(logged_in, user, configs, rsps):
    generation = generate(logged_in, user, configs, rsps)
    path = generation.images.get().storage_path
    assert logged_in.get(f"/media/{path}").status_code == 404


# --- gallery ----------------------------------------------------------------------------------


def test_gallery_paginates_newest_first_with_prompt_model_and_status(logged_in, user, other_user):
    for n in range(30):
        ImageGeneration.objects.create(user=user, prompt=f"prompt number {n}", status="completed")
    ImageGeneration.objects.create(user=other_user, prompt="someone else's")
    first = logged_in.get("/dashboard/gallery/").content.decode()
    assert (
        "prompt number 29" in first
        and "prompt number 6<" in first
        and "prompt number 5<" not in first
    )
    assert "someone else" not in first
    assert "30 generations, newest first." in first
    older = re.search(r'href="(/dashboard/gallery/\?before=[^"]+)" rel="next"', first)
    assert older, "no link to older generations"
    second = logged_in.get(older.group(1).replace("&amp;", "&")).content.decode()
    assert "prompt number 0" in second and "prompt number 6<" not in second


def test_gallery_deletes_several_with_their_files_and_ignores_others(
    logged_in, user, other_user, configs, rsps, django_capture_on_commit_callbacks
):
    first = generate(logged_in, user, configs, rsps)
    second = generate(logged_in, user, configs, rsps)
    kept = generate(logged_in, user, configs, rsps)
    view_thumbnails(logged_in, first, second, kept)
    theirs = ImageGeneration.objects.create(user=other_user, prompt="theirs")
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(
            "/dashboard/gallery/delete/",
            {"ids": [first.pk, second.pk, theirs.pk], "next": "/dashboard/gallery/?page=1"},
        )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/gallery/?page=1"
    assert set(ImageGeneration.objects.values_list("pk", flat=True)) == {kept.pk, theirs.pk}
    image = kept.images.get()
    assert media_files() == sorted([image.storage_path, image.thumbnail_path])


def test_gallery_delete_never_redirects_off_site(logged_in):
    response = logged_in.post("/dashboard/gallery/delete/", {"ids": [], "next": "https://evil"})
    assert response["Location"] == "/dashboard/gallery/"


# --- overview ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "expected"),
    [(12, None), (40, "Only 10 generations left"), (50, "You have used all your generations")],
)
def test_overview_shows_the_usage_meter_and_warnings(logged_in, user, used, expected):
    reset = timezone.now().replace(month=12, day=1) if timezone.now().month < 12 else None
    updates = {"usage_count": used}
    if reset and reset > timezone.now():
        updates["reset_date"] = reset
    User.objects.filter(pk=user.pk).update(**updates)
    user.refresh_from_db()
    page = logged_in.get("/dashboard/").content.decode()
    assert f"{used} / 50 this month · resets {user.reset_date:%-d %b}" in page
    if expected:
        assert expected in page
    else:
        assert "Only" not in page and "used all" not in page


def test_overview_lists_recent_generations(logged_in, user, configs, rsps):
    generate(logged_in, user, configs, rsps)
    page = logged_in.get("/dashboard/").content.decode()
    assert "Latest images" in page and "A fox in the snow" in page


# --- data rights ------------------------------------------------------------------------------


def test_export_zip_holds_every_image_and_the_prompts(logged_in, user, configs, rsps):
    generate(logged_in, user, configs, rsps, images=[png_bytes(8, 8), png_bytes(9, 9)])
    ImageGeneration.objects.create(
        user=user, prompt="a failed one", status="failed", error_message="refused"
    )
    assert "/dashboard/account/export/" in logged_in.get("/dashboard/account/").content.decode()

    response = logged_in.get("/dashboard/account/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert "generations.json" in names
    exported = json.loads(archive.read("generations.json"))["generations"]
    assert {g["prompt"] for g in exported} == {"A fox in the snow", "a failed one"}
    done = next(g for g in exported if g["status"] == "completed")
    assert done["parameters"]["size"] == "1024x1024"
    files = [i["file"] for i in done["images"]]
    assert len(files) == 2 and all(f in names for f in files)
    assert pixels(archive.read(files[1])) == pixels(png_bytes(9, 9))
    assert configs["openai"].clear_key not in archive.read("generations.json").decode()
    # One JSON sidecar per image: the provenance the file carries.
    sidecar = json.loads(archive.read(files[1] + ".json"))
    assert sidecar == provenance.read(archive.read(files[1]))
    assert sidecar["prompt"] == "A fox in the snow" and sidecar["image_index"] == 1


def test_account_deletion_removes_every_file(logged_in, user, configs, rsps):
    generate(logged_in, user, configs, rsps)
    # A stray file in the user's folder (e.g. left by a crash) goes too.
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.save(f"images/{user.pk}/stray/0.png", ContentFile(png_bytes()))
    assert media_files()
    response = logged_in.post("/dashboard/account/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    assert media_files() == []
    assert not ImageGeneration.objects.exists() and not Image.objects.exists()


def test_purge_command_deletes_old_generations_and_files(logged_in, user, configs, rsps):
    from io import StringIO

    from django.core.management import call_command

    old = generate(logged_in, user, configs, rsps)
    recent = generate(logged_in, user, configs, rsps)
    view_thumbnails(logged_in, old, recent)
    ImageGeneration.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    out = StringIO()
    call_command("purge_generations", "--older-than", "365", stdout=out)
    assert "Deleted 1 generation(s)" in out.getvalue() and "2 file(s)" in out.getvalue()
    assert list(ImageGeneration.objects.values_list("pk", flat=True)) == [recent.pk]
    image = recent.images.get()
    assert media_files() == sorted([image.storage_path, image.thumbnail_path])
    out = StringIO()
    call_command("purge_generations", "--older-than", "365", stdout=out)
    assert "Deleted 0 generation(s)" in out.getvalue()
