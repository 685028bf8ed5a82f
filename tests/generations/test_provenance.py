"""Provenance written into stored files (generations/provenance.py, generations/metadata.py):
read back by Pillow and by `provenance.read`, the provider's pixels untouched, no secret."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image as PILImage

from generations import metadata, provenance, storage
from generations.models import ImageGeneration
from tests.factories import image_model
from tests.images import jpeg_bytes, pixels, png_bytes
from tests.recorded import generate_url, success_body

pytestmark = pytest.mark.django_db

RECORD = {
    "schema": provenance.SCHEMA,
    "software": "Bambi AI",
    "generation_id": "5b0c8a3e-0000-4000-8000-000000000001",
    "image_index": 0,
    "created_at": "2026-11-30T12:34:56.789000+00:00",
    "provider": "openai",
    "provider_name": "OpenAI",
    "model": "gpt-image-1.5",
    "model_name": "GPT Image 1.5",
    "prompt": 'Un faon <sous> la "neige" & le vent — ❄',
    "settings": {"count": 1, "quality": "high"},
    "input_images": 0,
    "edited_from": None,
}


def _encoded(fmt: str, mode: str = "RGB", **save) -> bytes:
    picture = PILImage.merge("RGB", [PILImage.effect_noise((48, 32), 60)] * 3).convert(mode)
    if mode == "RGBA":
        picture.putalpha(PILImage.linear_gradient("L").resize((48, 32)))
    out = io.BytesIO()
    picture.save(out, fmt, **save)
    return out.getvalue()


FILES = {
    "png": lambda: _encoded("PNG"),
    "png-alpha": lambda: _encoded("PNG", "RGBA"),
    "jpeg": lambda: _encoded("JPEG", quality=85),
    "jpeg-exif": lambda: _encoded("JPEG", exif=PILImage.Exif().tobytes()),
    "webp-lossy": lambda: _encoded("WEBP", quality=70),
    "webp-lossless-alpha": lambda: _encoded("WEBP", "RGBA", lossless=True),
    "webp-lossy-alpha": lambda: _encoded("WEBP", "RGBA", quality=70),  # already VP8X
}


@pytest.mark.parametrize("kind", FILES)
def test_the_record_is_read_back_and_the_pixels_are_the_providers(kind):
    original = FILES[kind]()
    fmt = kind.split("-")[0]

    stamped = provenance.stamp(original, fmt=fmt, record=RECORD)

    assert pixels(stamped) == pixels(original)  # not re-encoded: identical decoded pixels
    assert provenance.read(stamped) == RECORD
    with PILImage.open(io.BytesIO(stamped)) as img:
        xmp = img.info["xmp"]
        xmp = xmp.encode() if isinstance(xmp, str) else xmp
        assert b'xmp:CreatorTool="Bambi AI"' in xmp
        assert b"trainedAlgorithmicMedia" in xmp
        if fmt != "png":
            assert img.getexif()[0x0131] == "Bambi AI"
        else:
            assert img.text["Software"] == "Bambi AI"
            assert json.loads(img.text["bambi:provenance"]) == RECORD


def test_a_long_prompt_is_cut_in_a_jpeg_and_the_record_says_so():
    record = {**RECORD, "prompt": "é" * 32000}

    stamped = provenance.stamp(jpeg_bytes(8, 8), fmt="jpeg", record=record)

    read = provenance.read(stamped)
    assert read["prompt_truncated"] is True
    assert 1000 < len(read["prompt"]) < 32000 and set(read["prompt"]) == {"é"}
    # PNG keeps it whole.
    assert provenance.read(provenance.stamp(png_bytes(), fmt="png", record=record)) == record


def test_a_file_without_a_record_reads_as_none():
    assert provenance.read(png_bytes()) is None
    assert provenance.read(b"not an image") is None


def test_a_file_the_writer_cannot_follow_is_stored_as_the_provider_sent_it(caplog):
    broken = b"RIFF\x10\x00\x00\x00WEBPJUNK\x00\x00\x00\x00"

    with pytest.raises(metadata.MetadataError):
        provenance.stamp(broken, fmt="webp", record=RECORD)
    assert storage._stamped(broken, "webp", RECORD) == broken
    assert "Provenance not written" in caplog.text


def test_every_stored_image_and_its_thumbnail_carry_the_record(logged_in, user, configs, rsps):
    rsps.post(
        generate_url("openai", "gpt-image-1.5"),
        json=success_body("openai", "gpt-image-1.5", [png_bytes(64, 48), png_bytes(32, 32)]),
    )
    answer = logged_in.post(
        "/api/generations/",
        data=json.dumps(
            {
                "configId": str(configs["openai"].pk),
                "prompt": "Two fawns",
                "parameters": {"modelId": "gpt-image-1.5", "count": 2, "quality": "low"},
            }
        ),
        content_type="application/json",
    ).json()["data"]

    generation = ImageGeneration.objects.get(pk=answer["id"])
    for index, image in enumerate(answer["images"]):
        stored = b"".join(logged_in.get(image["url"]).streaming_content)
        record = provenance.read(stored)
        assert record == provenance.provenance_record(generation, image_index=index)
        assert record["settings"] == {
            "count": 2,
            "quality": "low",
            "size": "1024x1024",
        }
        thumbnail = b"".join(logged_in.get(image["thumbnail_url"]).streaming_content)
        assert provenance.read(thumbnail) == record
    files = [image.bytes for image in generation.images.all()]
    assert files[0] > len(png_bytes(64, 48))  # the size stored is the stamped file's


def test_the_record_never_holds_the_key_its_hint_the_email_or_the_user_id(
    logged_in, user, configs, rsps, tmp_path
):
    rsps.post(
        generate_url("openai", "gpt-image-1.5"),
        json=success_body("openai", "gpt-image-1.5", [png_bytes(64, 48)]),
    )
    answer = logged_in.post(
        "/api/generations/",
        data=json.dumps(
            {
                "configId": str(configs["openai"].pk),
                "prompt": "A fox",
                "parameters": {"modelId": "gpt-image-1.5"},
            }
        ),
        content_type="application/json",
    ).json()["data"]
    stored = b"".join(logged_in.get(answer["images"][0]["url"]).streaming_content)
    export = b"".join(logged_in.get("/dashboard/account/export/").streaming_content)
    sidecars = [
        archive.read(name)
        for archive in [zipfile.ZipFile(io.BytesIO(export))]
        for name in archive.namelist()
        if name.endswith(".png.json")
    ]
    configuration = configs["openai"]
    secrets = [
        configuration.clear_key,
        configuration.key_hint,
        user.email,
        str(user.pk),
        str(configuration.pk),
    ]
    for blob in [stored, *sidecars]:
        for secret in secrets:
            assert secret.encode() not in blob, secret
    assert json.loads(sidecars[0])["model"] == "gpt-image-1.5"
    assert image_model("openai", "gpt-image-1.5").name == json.loads(sidecars[0])["model_name"]
