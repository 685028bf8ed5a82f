"""The edit studio's pages without JavaScript (issue 14 item 4): "Edit" links on results and
on an image's page, the generate page started from an image (`?edit=`), the models offered
for it, the form posting the image and uploaded files, refusals, and the versions section.
The browser flow (mask, picker, import) is in tests/browser/test_edit.py."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generations.models import GenerationInput, ImageGeneration
from tests.factories import image_model
from tests.images import gif_bytes, png_bytes
from tests.recorded import edit_body, edit_url, generate_url, success_body
from tests.wire import request_images

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

GENERATE = "/dashboard/generate/"


def make_image(client, configs, rsps) -> ImageGeneration:
    rsps.post(
        generate_url("openai", "gpt-image-1.5"),
        json=success_body("openai", "gpt-image-1.5", [png_bytes(64, 48)]),
    )
    response = client.post(
        GENERATE,
        {
            "configuration": str(configs["openai"].pk),
            "model": str(image_model("openai", "gpt-image-1.5").pk),
            "prompt": "A fawn in a clearing",
        },
    )
    assert response.status_code == 302
    return ImageGeneration.objects.get(prompt="A fawn in a clearing")


def test_edit_links_on_the_result_and_the_image_page(logged_in, configs, rsps):
    source = make_image(logged_in, configs, rsps)
    image = source.images.get()
    link = f'href="/dashboard/generate/?edit={image.pk}"'
    assert link in logged_in.get(GENERATE).content.decode()  # the result tile
    assert link in logged_in.get(f"/dashboard/generations/{source.pk}/").content.decode()


def test_the_generate_page_starts_from_the_image_and_offers_only_models_that_take_it(
    logged_in, configs, rsps
):
    image = make_image(logged_in, configs, rsps).images.get()
    page = logged_in.get(
        GENERATE, {"edit": str(image.pk), "config": str(configs["google"].pk)}
    ).content.decode()
    # Posted with the form without JavaScript, shown as a thumbnail.
    assert f'<input type="hidden" name="input_images" value="{image.pk}">' in page
    assert f'src="/dashboard/images/{image.pk}/thumbnail/"' in page
    imagen = image_model("google", "imagen-4.0-generate-001").pk
    gemini = image_model("google", "gemini-2.5-flash-image").pk
    assert re.search(rf'<option value="{imagen}"[^>]*hidden disabled', page)
    assert not re.search(rf'<option value="{gemini}"[^>]*hidden disabled', page)
    # Without an image, Imagen is offered again.
    page = logged_in.get(GENERATE, {"config": str(configs["google"].pk)}).content.decode()
    assert not re.search(rf'<option value="{imagen}"[^>]*hidden disabled', page)


def test_someone_elses_image_cannot_be_edited(client, other_user, configs, rsps, user):
    client.force_login(user)
    image = make_image(client, configs, rsps).images.get()
    client.force_login(other_user)
    assert client.get(GENERATE, {"edit": str(image.pk)}).status_code == 404


def test_the_form_posts_the_image_and_uploaded_references_without_javascript(
    logged_in, configs, rsps
):
    source = make_image(logged_in, configs, rsps)
    image = source.images.get()
    rsps.post(edit_url("openai", "gpt-image-1.5"), json=edit_body("openai"))
    upload = SimpleUploadedFile("palette.png", png_bytes(20, 10, color=(0, 0, 200)), "image/png")
    response = logged_in.post(
        GENERATE,
        {
            "configuration": str(configs["openai"].pk),
            "model": str(image_model("openai", "gpt-image-1.5").pk),
            "prompt": "Add snow",
            "input_images": [str(image.pk), upload],
        },
    )
    assert response.status_code == 302
    edited = ImageGeneration.objects.get(prompt="Add snow")
    assert response["Location"] == f"/dashboard/generations/{edited.pk}/"
    assert edited.parent_id == source.pk
    sent = request_images(
        rsps.calls[-1].request.body, rsps.calls[-1].request.headers["Content-Type"]
    )
    assert len(sent) == 2
    inputs = list(edited.inputs.order_by("index"))
    assert [(i.width, i.height, i.source_image_id) for i in inputs] == [
        (64, 48, image.pk),
        (20, 10, None),
    ]
    # Its page shows what was sent and the version it was made from.
    page = logged_in.get(response["Location"]).content.decode()
    assert 'id="versions"' in page and "Input image 2" in page
    assert f'href="/dashboard/generations/{source.pk}/"' in page
    assert "This image" in page


def test_a_file_that_is_not_a_usable_image_is_refused_with_a_sentence(logged_in, configs, rsps):
    upload = SimpleUploadedFile("anim.png", gif_bytes(), "image/png")  # a GIF, whatever its name
    calls = len(rsps.calls)
    response = logged_in.post(
        GENERATE,
        {
            "configuration": str(configs["openai"].pk),
            "model": str(image_model("openai", "gpt-image-1.5").pk),
            "prompt": "Add snow",
            "input_images": [upload],
        },
    )
    assert response.status_code == 400
    assert "Input image 1 is a GIF; send a PNG, JPEG or WebP image." in response.content.decode()
    assert len(rsps.calls) == calls
    assert not ImageGeneration.objects.filter(prompt="Add snow").exists()
    assert not GenerationInput.objects.exists()


def test_a_text_only_model_refuses_input_images(logged_in, configs, rsps):
    upload = SimpleUploadedFile("a.png", png_bytes(8, 8), "image/png")
    response = logged_in.post(
        GENERATE,
        {
            "configuration": str(configs["google"].pk),
            "model": str(image_model("google", "imagen-4.0-generate-001").pk),
            "prompt": "Add snow",
            "input_images": [upload],
        },
    )
    assert response.status_code == 400
    assert "takes no input images" in response.content.decode()


def test_options_of_one_kind_of_call_follow_the_inputs(logged_in, configs, rsps):
    """A form posted as rendered stays valid: input fidelity only with input images,
    moderation only without (OpenAI's edits take no moderation)."""
    image = make_image(logged_in, configs, rsps).images.get()
    model = str(image_model("openai", "gpt-image-1.5").pk)
    plain = logged_in.get(GENERATE, {"model": model}).content.decode()
    edit = logged_in.get(GENERATE, {"model": model, "edit": str(image.pk)}).content.decode()
    assert '<select name="input_fidelity" id="id_input_fidelity" disabled>' in plain
    assert '<select name="moderation" id="id_moderation" >' in plain
    assert '<select name="input_fidelity" id="id_input_fidelity" >' in edit
    assert '<select name="moderation" id="id_moderation" disabled>' in edit


def test_the_page_says_when_the_provider_announced_a_models_shutdown(logged_in, configs):
    """Said, never acted on: the model stays usable until an operator switches it off."""
    old = str(image_model("openai", "gpt-image-1.5").pk)
    new = str(image_model("openai", "gpt-image-2").pk)
    key = str(configs["openai"].pk)
    page = logged_in.get(GENERATE, {"config": key, "model": old}).content.decode()
    assert "The provider announced this model’s shutdown for 1 Dec 2026." in page
    page = logged_in.get(GENERATE, {"config": key, "model": new}).content.decode()
    assert '<p class="help" id="model-shutdown" hidden></p>' in page
    french = logged_in.get(
        GENERATE, {"config": key, "model": old}, HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "l’arrêt de ce modèle pour le 1 déc. 2026" in french
