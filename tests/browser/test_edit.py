"""The edit studio in headless Chromium against a live server and the provider stand-in
(issue 14 items 3, 4 and 6): "Edit" on a gallery image, a reference file, the mask brush, the
model list following the inputs, the result with its version chain; importing settings from
a file Bambi made. Screenshots: 8x-*."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.storage import default_storage
from PIL import Image as PILImage
from playwright.sync_api import expect

from byok.models import ImageModel
from generations.models import ImageGeneration
from tests.browser.pages import assert_accessible, log_in, shot
from tests.factories import make_configuration, run_generation
from tests.standin import EDITED_COLOUR

pytestmark = pytest.mark.browser

OPENAI_KEY = "sk-proj-browser-edit-key-0123456789abcdef"
GOOGLE_KEY = "AIzaSyBrowserEditKey0123456789abcdefghi"


def add_key(user, provider, key: str, name: str):
    return make_configuration(user, provider, key=key, name=name)


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def stored_picture(image) -> PILImage.Image:
    with default_storage.open(image.storage_path, "rb") as handle:
        picture = PILImage.open(io.BytesIO(handle.read()))
        picture.load()
    return picture.convert("RGB")


def model_option(page, model_id: str):
    pk = ImageModel.objects.get(model_id=model_id).pk
    return page.locator(f'#id_model option[value="{pk}"]')


def test_edit_a_gallery_image_with_a_reference_and_a_mask(
    page, member, providers_on_standin, standin
):
    openai = add_key(member, providers_on_standin["openai"], OPENAI_KEY, "OpenAI key")
    google = add_key(member, providers_on_standin["google"], GOOGLE_KEY, "Google key")
    source = run_generation(
        member, openai, "A red boat on a calm lake", modelId="gpt-image-1.5", quality="low"
    )
    source_image = source.images.get()
    log_in(page, member.email)

    # "Edit" in the gallery's lightbox opens the generate page with that image as input.
    page.goto("/dashboard/gallery/")
    page.locator(f'.tile[data-generation="{source.pk}"] a.tile-image').click()
    lightbox = page.locator("#lightbox")
    expect(lightbox).to_be_visible()
    lightbox.get_by_role("link", name="Edit").click()
    page.wait_for_url(re.compile(rf"/dashboard/generate/\?edit={source_image.pk}$"))
    references = page.locator("#reference-list li")
    expect(references).to_have_count(1)
    expect(references.first.locator("img")).to_have_attribute(
        "src", f"/dashboard/images/{source_image.pk}/thumbnail/"
    )

    # Only models that take input images are offered: on the Google key, Imagen (text only)
    # is gone and the Gemini models stay; none of them takes a mask, so no brush.
    page.get_by_label("Key").select_option(str(google.pk))
    expect(model_option(page, "imagen-4.0-generate-001")).to_be_disabled()
    expect(model_option(page, "gemini-2.5-flash-image")).to_be_enabled()
    expect(page.locator("#mask-editor")).to_be_hidden()
    # Back on OpenAI, GPT Image 1.5 takes images and a mask: the brush appears.
    page.get_by_label("Key").select_option(str(openai.pk))
    page.get_by_label("Model").select_option(label="GPT Image 1.5")
    expect(page.locator("#mask-editor")).to_be_visible()
    expect(page.locator("#model-shutdown")).to_have_text(
        "The provider announced this model’s shutdown for 1 Dec 2026."
    )
    # The shape of an edit follows the first image unless another size is chosen.
    expect(page.get_by_label("Size", exact=True)).to_have_value("")

    # A reference from the device, with a thumbnail; a second one, removed again.
    page.set_input_files(
        "#reference-files",
        files=[
            {"name": "palette.png", "mimeType": "image/png", "buffer": png(64, 48, (0, 90, 200))},
            {"name": "extra.png", "mimeType": "image/png", "buffer": png(32, 32, (0, 200, 90))},
        ],
    )
    expect(references).to_have_count(3)
    page.get_by_role("button", name="Remove reference image 3").click()
    expect(references).to_have_count(2)
    expect(page.locator("#reference-note")).to_have_text("Reference image 3 removed.")

    # Paint the mask over the top-left quarter of the first image.
    page.get_by_label("Brush size").fill("160")
    canvas = page.locator("#mask-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.08, box["y"] + box["height"] * 0.08)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(
            box["x"] + box["width"] * 0.08 * (1 + step * 0.3),
            box["y"] + box["height"] * 0.08 * (1 + (step % 3) * 0.8),
        )
    page.mouse.up()
    assert_accessible(page)
    shot(page, "80-edit-reference-and-mask")

    page.get_by_label("Prompt").fill("Turn the top left corner into a sunset")
    page.get_by_role("button", name="Generate").click()
    run = page.locator("#runs .run").first
    expect(run.locator(".result-tile img")).to_have_count(1, timeout=20_000)
    shot(page, "81-edit-result")

    # What the provider received: both images as image[] parts and a mask of the first
    # image's size, transparent where the brush went.
    edits = [r for r in standin.requests if r.endpoint == "openai.edit"]
    assert len(edits) == 1
    call = edits[0]
    parts = [f["name"] for f in call.body["files"]]
    assert parts == ["image[]", "image[]", "mask"]
    mask = PILImage.open(io.BytesIO(call.body["files"][2]["data"]))
    assert mask.format == "PNG" and mask.size == (source_image.width, source_image.height)
    alpha = mask.convert("RGBA").getchannel("A")
    assert alpha.getpixel((source_image.width // 8, source_image.height // 8)) == 0
    assert alpha.getpixel((source_image.width * 7 // 8, source_image.height * 7 // 8)) == 255

    # The stored result: edited where the mask was painted, untouched elsewhere.
    edited = ImageGeneration.objects.exclude(pk=source.pk).get(user=member)
    assert edited.status == "completed" and edited.parent_id == source.pk
    picture = stored_picture(edited.images.get())
    assert picture.size == (source_image.width, source_image.height)
    assert picture.getpixel((source_image.width // 8, source_image.height // 8)) == EDITED_COLOUR
    corner = (source_image.width * 7 // 8, source_image.height * 7 // 8)
    assert picture.getpixel(corner) == stored_picture(source_image).getpixel(corner)
    assert edited.inputs.filter(is_mask=False).count() == 2
    assert edited.inputs.filter(is_mask=False, index=0).get().source_image_id == source_image.pk

    # The version chain: the edit's page links back to the image it was edited from and
    # shows what was sent; the original's page lists the edit.
    page.goto(f"/dashboard/generations/{edited.pk}/")
    versions = page.locator("#versions")
    expect(versions.get_by_role("img", name="Input image 1")).to_be_visible()
    expect(versions.get_by_role("img", name="Input image 2")).to_be_visible()
    expect(versions.get_by_role("img", name="The mask")).to_be_visible()
    expect(versions.locator(".versions li")).to_have_count(2)
    expect(versions.locator(".versions li.current")).to_contain_text("This image")
    expect(versions.get_by_role("link", name=re.compile("A red boat"))).to_have_attribute(
        "href", f"/dashboard/generations/{source.pk}/"
    )
    assert_accessible(page)
    shot(page, "82-edit-versions")
    versions.get_by_role("link", name=re.compile("A red boat")).click()
    expect(page.locator("#versions .versions li").last).to_contain_text("Turn the top left")
    # In the gallery, the edit's lightbox links to its previous version.
    page.goto("/dashboard/gallery/")
    page.locator(f'.tile[data-generation="{edited.pk}"] a.tile-image').click()
    expect(
        page.locator("#lightbox").get_by_role("link", name="Previous version")
    ).to_have_attribute("href", f"/dashboard/generations/{source.pk}/")
    assert page.js_errors == []


def test_edit_on_a_result_tile_adds_it_in_place_and_the_detail_page_links_to_the_studio(
    page, member, providers_on_standin
):
    openai = add_key(member, providers_on_standin["openai"], OPENAI_KEY, "OpenAI key")
    source = run_generation(member, openai, "A lighthouse", modelId="gpt-image-1-mini")
    image = source.images.get()
    log_in(page, member.email)
    page.goto(f"/dashboard/generations/{source.pk}/")
    page.get_by_role("link", name="Edit this image").click()
    page.wait_for_url(re.compile(rf"\?edit={image.pk}$"))
    expect(page.locator("#reference-list li")).to_have_count(1)
    page.goto("/dashboard/generate/")
    expect(page.locator("#reference-list li")).to_have_count(0)
    tile = page.locator(f'#runs .result-tile[data-image="{image.pk}"]')
    tile.get_by_role("link", name="Edit").click()
    expect(page.locator("#reference-list li")).to_have_count(1)
    assert page.url.endswith("/dashboard/generate/")  # in place
    # The gallery picker adds another of the user's images as a reference.
    other = run_generation(member, openai, "A harbour at night", modelId="gpt-image-1-mini")
    page.reload()
    page.get_by_role("button", name="Choose from your gallery").click()
    expect(page.get_by_role("button", name="Choose from your gallery")).to_have_attribute(
        "aria-expanded", "true"
    )
    page.locator("#reference-picker").get_by_role("button", name="A harbour at night").click()
    references = page.locator("#reference-list li img")
    expect(references).to_have_count(1)
    expect(references.first).to_have_attribute(
        "src", f"/dashboard/images/{other.images.get().pk}/thumbnail/"
    )
    assert_accessible(page)
    assert page.js_errors == []


def test_import_settings_from_an_image_made_by_bambi(page, member, providers_on_standin, tmp_path):
    openai = add_key(member, providers_on_standin["openai"], OPENAI_KEY, "OpenAI key")
    made = run_generation(
        member,
        openai,
        "A paper crane on a desk, soft light",
        modelId="gpt-image-1.5",
        quality="high",
        size="1536x1024",
        outputFormat="webp",
        outputCompression=70,
    )
    image = made.images.get()
    with default_storage.open(image.storage_path, "rb") as handle:
        bambi_file = tmp_path / "crane.webp"
        bambi_file.write_bytes(handle.read())
    log_in(page, member.email)
    page.goto("/dashboard/generate/")
    page.get_by_label("Model").select_option(label="GPT Image 1 mini")
    page.get_by_label("Import settings from an image").set_input_files(str(bambi_file))
    expect(page.locator("#import-note")).to_have_text(
        "Prompt, model and settings imported from the image."
    )
    expect(page.get_by_label("Prompt")).to_have_value("A paper crane on a desk, soft light")
    expect(page.get_by_label("Model")).to_have_value(str(made.model_id))
    expect(page.get_by_label("Quality")).to_have_value("high")
    expect(page.get_by_label("Size", exact=True)).to_have_value("1536x1024")
    expect(page.get_by_label("Format")).to_have_value("webp")
    expect(page.get_by_label("Compression")).to_have_value("70")
    assert_accessible(page)
    shot(page, "83-import-settings")

    # A picture from elsewhere carries no settings: said, and the form is left alone.
    other = tmp_path / "photo.png"
    other.write_bytes(png(40, 30, (10, 10, 10)))
    page.get_by_label("Import settings from an image").set_input_files(str(other))
    expect(page.locator("#import-note")).to_contain_text("carries no Bambi settings")
    expect(page.get_by_label("Prompt")).to_have_value("A paper crane on a desk, soft light")
    assert page.js_errors == []
