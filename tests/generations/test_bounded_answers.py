"""Bounded provider answers: a provider (or anything answering in its place) cannot make Bambi
read an unbounded body, keep more images than asked for, or decode a decompression bomb.

The provider is the loopback stand-in speaking the real wire formats, or `responses` for the
answers no stand-in would send (a gzip bomb)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from accounts.models import User
from bambi import http
from byok.models import ImageModel, Provider
from byok.providers import get_provider
from byok.providers.errors import AnswerTooLarge
from generations import storage
from generations.models import Image, ImageGeneration
from tests.factories import make_configuration
from tests.images import huge_png, media_files, png_bytes

pytestmark = pytest.mark.django_db


def _generate(client, user, slug: str, model_id: str, **parameters):
    configuration = make_configuration(user, Provider.objects.get(slug=slug))
    model = ImageModel.objects.get(provider__slug=slug, model_id=model_id)
    client.force_login(user)
    return client.post(
        "/api/generations/",
        {
            "configId": str(configuration.pk),
            "prompt": "a fawn",
            "parameters": {"modelId": str(model.pk), "count": 1, **parameters},
        },
        content_type="application/json",
    )


@pytest.mark.parametrize(
    ("slug", "model_id", "parameters"),
    [
        ("openai", "gpt-image-1.5", {"size": "1024x1024"}),
        ("xai", "grok-imagine-image", {}),
        ("google", "imagen-4.0-generate-001", {}),
    ],
)
def test_thirty_images_for_one_asked_stores_one(
    client, user, standin, providers_on_standin, slug, model_id, parameters
):
    standin.answer_count = 30
    standin.answer_image = png_bytes(64, 64)

    response = _generate(client, user, slug, model_id, **parameters)

    assert response.status_code == 201, response.content
    assert len(response.json()["data"]["images"]) == 1
    assert Image.objects.count() == 1
    assert len(media_files()) == 1


def test_thirty_image_urls_for_one_asked_download_one(client, user, standin, providers_on_standin):
    standin.answer_count = 30
    standin.answer_url = standin.publish(png_bytes(32, 32), "image/png")

    response = _generate(client, user, "openai", "gpt-image-1.5", size="1024x1024")

    assert response.status_code == 201, response.content
    assert standin.count("file") == 1  # the other 29 were never fetched
    assert Image.objects.count() == 1


def test_a_decompression_bomb_is_refused_before_any_decoding(
    client, user, standin, providers_on_standin
):
    standin.answer_image = huge_png(9400, 9400)  # ~100 KB on the wire, 88 MP decoded

    response = _generate(client, user, "openai", "gpt-image-1.5", size="1024x1024")

    assert response.status_code == 502
    error = response.json()["error"]
    assert "9400×9400" in error and "64 megapixels" in error
    assert ImageGeneration.objects.get(user=user).status == ImageGeneration.Status.FAILED
    assert User.objects.get(pk=user.pk).usage_count == 0
    assert not Image.objects.exists()
    assert media_files() == []  # no image, no thumbnail


@pytest.mark.slow  # a fresh Python process
def test_the_pixel_check_reads_only_the_header(tmp_path):
    # Decoding this 9400×9400 greyscale PNG takes 84 MiB at least; a header-only refusal
    # adds next to nothing. Measured in a fresh process, whose peak RSS is its own.
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(huge_png(9400, 9400))
    script = (
        "import resource, sys, django; django.setup()\n"
        "from generations import storage\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for step in (storage.decode, storage.make_thumbnail):\n"
        "    try:\n"
        "        step(data)\n"
        "    except storage.ImageTooLarge:\n"
        "        pass\n"
        "    else:\n"
        "        sys.exit('not refused')\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(bomb)],
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bambi.settings", "BAMBI_TESTING": "1"},
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    grown_kib = int(done.stdout.strip().splitlines()[-1])
    assert grown_kib < 20 * 1024, f"peak RSS grew by {grown_kib} KiB: the image was decoded"


def test_the_pixel_limit_is_a_setting(settings):
    settings.IMAGE_MAX_PIXELS = 32 * 32

    assert storage.decode(png_bytes(32, 32)).width == 32
    with pytest.raises(storage.ImageTooLarge):
        storage.decode(png_bytes(33, 32))


def test_an_answer_past_the_byte_cap_is_not_read_further(
    client, user, providers_on_standin, settings
):
    settings.PROVIDER_MAX_RESPONSE_BYTES = 50_000  # the stand-in's 1024² PNG is ~1 MB
    response = _generate(client, user, "openai", "gpt-image-1.5", size="1024x1024")

    assert response.status_code == 502
    assert "larger than Bambi accepts" in response.json()["error"]
    assert User.objects.get(pk=user.pk).usage_count == 0
    assert media_files() == []


def test_a_gzip_bomb_is_counted_after_decompression(rsps, settings):
    url = "https://api.example.com/v1/images/generations"
    inflated = json.dumps({"data": [{"b64_json": "A" * 5_000_000}]}).encode()
    rsps.post(
        url,
        body=gzip.compress(inflated, compresslevel=9),  # ~10 KB on the wire
        headers={"Content-Encoding": "gzip"},
        content_type="application/json",
    )

    with pytest.raises(http.ResponseTooLarge):
        http.request("POST", url, json={}, max_bytes=1_000_000)


def test_the_adapter_turns_an_oversized_answer_into_a_provider_failure(rsps, settings):
    settings.PROVIDER_MAX_RESPONSE_BYTES = 1_000
    rsps.post(
        "https://api.example.com/v1/images/generations",
        json={"data": [{"b64_json": "A" * 5_000}]},
    )
    adapter = get_provider("openai", "https://api.example.com")

    with pytest.raises(AnswerTooLarge):
        adapter.generate(key="sk-x", model_id="gpt-image-1.5", prompt="p", options={})


def test_a_key_check_answer_past_the_cap_is_unreachable_not_valid(rsps, settings):
    settings.PROVIDER_MAX_RESPONSE_BYTES = 1_000
    rsps.get("https://api.example.com/v1/models", json={"data": ["m" * 5_000]})

    check = get_provider("openai", "https://api.example.com").validate_key("sk-x")

    assert check.status == "unreachable"


def test_request_hands_back_the_body_it_read(rsps):
    rsps.get("https://api.example.com/v1/models", json={"data": []})

    response = http.request("GET", "https://api.example.com/v1/models")

    assert response.json() == {"data": []}
    assert isinstance(response, requests.Response)
