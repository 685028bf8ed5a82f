"""An edit uploaded with `Transfer-Encoding: chunked` and no Content-Length (what the OpenAI
Node SDK does with `fs.createReadStream`), against gunicorn, the production server: Django
alone would read an empty form; Bambi reads the de-chunked body under the request cap."""

from __future__ import annotations

import base64
import uuid

import pytest
import requests

from byok.models import Provider
from generations.models import ImageGeneration
from tests.factories import make_configuration, make_token, make_user
from tests.images import image_size, png_bytes
from tests.test_two_processes import two_app_processes
from tests.wire import json_images

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _multipart(boundary: str, fields: dict[str, str], files: list[tuple[str, bytes]]) -> bytes:
    out = b""
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    for name, data in files:
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{name}.png"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode()


def _in_chunks(body: bytes, size: int = 1000):
    # A generator body: requests sends it chunked, without a Content-Length.
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_edit_is_read_behind_gunicorn(tmp_path, catalogue, standin, settings):
    Provider.objects.update(api_base_url=standin.url)
    user = make_user()
    make_configuration(user, catalogue["xai"])
    token = make_token(user, name="node")
    picture = png_bytes(40, 30)
    boundary = uuid.uuid4().hex
    body = _multipart(
        boundary,
        {"model": "grok-imagine-image", "prompt": "make it snow"},
        [("image[]", picture), ("image[]", png_bytes(8, 8))],
    )

    cap = {"GENERATION_REQUEST_MAX_BYTES": "200000"}
    with two_app_processes(tmp_path, standin, cap) as (url, _other):
        answer = requests.post(
            f"{url}/v1/images/edits",
            data=_in_chunks(body),
            headers={
                "Authorization": f"Bearer {token.secret}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            timeout=30,
        )
        too_big = requests.post(
            f"{url}/v1/images/edits",
            data=_in_chunks(body + b"x" * 250_000, size=50_000),
            headers={
                "Authorization": f"Bearer {token.secret}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            timeout=60,
        )

    assert answer.status_code == 200, answer.text[:500]
    assert image_size(base64.b64decode(answer.json()["data"][0]["b64_json"])) == (40, 30)
    sent = [r for r in standin.requests if r.endpoint == "xai.edit"]
    assert [data for data, _mime in json_images(sent[-1].body)] == [picture, png_bytes(8, 8)]
    assert ImageGeneration.objects.get().status == "completed"
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "request_too_large"
    assert "at most 195.3\N{NO-BREAK SPACE}KB" in too_big.json()["error"]["message"]  # the cap
