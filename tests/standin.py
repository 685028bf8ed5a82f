"""A local stand-in for the image providers, on loopback, for browser tests and benchmarks.

It speaks the three providers' dialects closely enough that Bambi's real adapters (and nothing
mocked) talk to it, answering with their recorded answers (tests/fixtures/providers/<slug>/,
the same files the adapter tests use) filled with the request's images and values:

  OpenAI   POST /v1/images/generations   POST /v1/images/edits (multipart)   GET /v1/models
  xAI      POST /v1/images/generations   POST /v1/images/edits (JSON)        GET /v1/api-key
  Google   POST /v1beta/models/{model}:predict           (Imagen, text only)
           POST /v1beta/models/{model}:generateContent   (Gemini: text, or input images as
                                                          inline data before the text)
           GET  /v1beta/models

OpenAI and xAI share the generations and edits paths. The rule that picks xAI's dialect: the
bearer key starts with ``xai-`` (every real xAI key does) or the model id starts with ``grok``
(every xAI image model does). Anything else is answered as OpenAI. Edits are checked the way
each provider checks them (OpenAI: multipart, ``image``/``image[]`` parts of PNG/JPEG/WebP, up
to 16, a mask that is a PNG with transparency of the first image's size; xAI: JSON, ``image``
or ``images`` (not both) as data: URLs, up to 3 (5 on 2.0), no mask; Gemini: inline data parts),
and answered with the first input image itself, resized to the size asked for, where the mask's
transparent pixels are painted orange: a test can see that the inputs and the mask were used.

Behaviour that tests and benchmarks steer through the request itself:
  * a key containing ``bad`` (any case) gets the provider's own invalid-key error: OpenAI 401
    ``invalid_api_key``, xAI 400 "Incorrect API key provided…", Google 400
    ``API_KEY_INVALID``; no key at all gets 401 (OpenAI, xAI) or 403 ``PERMISSION_DENIED``;
  * a prompt containing ``REFUSE`` gets the provider's content refusal: OpenAI 400
    ``content_policy_violation`` (DALL·E) / ``moderation_blocked`` (gpt-image), Imagen a 200
    whose predictions are all ``raiFilteredReason``, Gemini ``finishReason: IMAGE_SAFETY`` with
    no image, xAI a 200 with empty ``data``;
  * a prompt containing ``RATELIMIT`` gets a 429 (rate limit), ``NOCREDIT`` a 429 out of
    credit/quota, ``UPSTREAM500`` a 500 from the provider — each in its own dialect.

Hostile behaviour, for the hardening tests (all off by default):
  * ``answer_url = U``: OpenAI and xAI generations answer ``{"data": [{"url": U}]}`` whatever
    format was asked for (a provider pointing Bambi at an address of its choice);
  * ``answer_count = N``: OpenAI, xAI and Imagen answer N images whatever count was asked;
  * ``answer_image = bytes``: the image sent (base64) instead of the generated picture;
  * ``throttle(seconds)``: every generation gets the provider's 429 with ``Retry-After`` until
    that time has passed (a rate limit that lifts, for clients' retries);
  * ``GET /redirect?to=U`` answers 302 to U.

Images are real PNGs (JPEG/WebP when an OpenAI ``output_format`` asks for it) made once with
Pillow per size and cached. The square side is ``image_size``; an OpenAI ``size`` "WxH" is
honoured, and an aspect ratio keeps ``image_size`` as the longer side. Answers carry base64
unless the request asks for (or the model defaults to) URLs, which the stand-in then serves
itself under ``/files/``. ``latency`` seconds are slept before every generation answer (key
checks and model lists answer at once). Requests are counted (thread-safe) for assertions,
and ``in_flight`` / ``max_in_flight`` say how many generations were being answered at once.

Importable::

    with StandIn(latency=0.0, image_size=1024) as standin:
        ...  # point Provider.api_base_url at standin.url, and let Bambi reach it:
        ...  # PROVIDER_PRIVATE_HOSTS=standin.host_port (loopback is refused otherwise)
        assert standin.count("openai.generate") == 1

or runnable: ``python -m tests.standin --port 8765 --latency 2.0 --image-size 1024``.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import math
import re
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw

from tests.recorded import recorded
from tests.wire import decode_data_url, multipart_parts

_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_RATIO = re.compile(r"^(\d+):(\d+)$")
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_GOOGLE_MODEL = re.compile(r"^/v1beta/models/([^/:]+):(predict|generateContent)$")
_EDIT_IMAGE_PART = re.compile(r"^image(\[\d*\])?$")
EDITED_COLOUR = (255, 128, 0)  # where a mask let the stand-in "edit" the picture


@dataclass
class Recorded:
    """One request the stand-in received (bodies kept for assertions about the wire format)."""

    method: str
    path: str
    endpoint: str
    key: str | None
    body: Any
    at: float = field(default_factory=time.monotonic)


def _picture(width: int, height: int, fmt: str) -> bytes:
    """A real picture with texture (so PNG sizes look like real ones, ~1–2 MB at 1024²)."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 48)
    radial = Image.radial_gradient("L").resize((width, height))
    img = Image.merge("RGB", (gradient, noise, radial))
    draw = ImageDraw.Draw(img)
    step = max(8, min(width, height) // 16)
    for x in range(0, width, step):
        draw.line([(x, 0), (width - x, height)], fill=(255, 220, 120), width=2)
    out = io.BytesIO()
    if fmt == "jpeg":
        img.save(out, "JPEG", quality=90)
    elif fmt == "webp":
        img.save(out, "WEBP", quality=85)
    else:
        img.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _edited(first: bytes, mask: bytes | None, size: tuple[int, int] | None, fmt: str) -> bytes:
    """The stand-in's "edit": the first input image, resized to `size`, with the mask's
    transparent pixels painted EDITED_COLOUR (the whole picture tinted when there is no mask)."""
    with Image.open(io.BytesIO(first)) as source:
        picture = source.convert("RGB")
    if mask is not None:
        with Image.open(io.BytesIO(mask)) as layer:
            hole = layer.convert("RGBA").getchannel("A").point(lambda a: 255 if a == 0 else 0)
        picture.paste(EDITED_COLOUR, (0, 0), hole)
    else:
        picture = Image.blend(picture, Image.new("RGB", picture.size, EDITED_COLOUR), 0.25)
    if size and size != picture.size:
        picture = picture.resize(size)
    out = io.BytesIO()
    picture.save(out, {"jpeg": "JPEG", "webp": "WEBP"}.get(fmt, "PNG"))
    return out.getvalue()


def _image_kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.size


class StandIn:
    """The stand-in server. ``start()`` returns self; ``url`` is ``http://127.0.0.1:<port>``."""

    def __init__(
        self,
        latency: float = 0.0,
        image_size: int = 1024,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.latency = latency
        self.image_size = image_size
        self.host = host
        self.port = port
        self.requests: deque[Recorded] = deque(maxlen=2000)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._images: dict[tuple[int, int, str], tuple[bytes, str]] = {}
        self._image_lock = threading.Lock()
        self._files: dict[str, tuple[bytes, str]] = {}
        self.answer_url: str | None = None
        self.answer_count: int | None = None
        self.answer_image: bytes | None = None
        self.throttle_until: float | None = None  # see throttle()
        self.connections = 0  # TCP connections accepted since start (or reset)
        self.in_flight = 0  # generation requests being answered right now
        self.max_in_flight = 0  # the most seen at once since start (or reset)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> StandIn:
        handler = type("Handler", (_Handler,), {"standin": self})
        server = ThreadingHTTPServer((self.host, self.port), handler, bind_and_activate=False)
        # Benchmarks open hundreds of connections at once; the default backlog (5) would
        # refuse them before a thread ever sees them.
        server.request_queue_size = 2048
        server.daemon_threads = True
        server.server_bind()
        server.server_activate()
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StandIn:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def host_port(self) -> str:
        """ "127.0.0.1:<port>": the PROVIDER_PRIVATE_HOSTS entry that lets Bambi reach it."""
        return f"{self.host}:{self.port}"

    # --- counters ------------------------------------------------------------------------------
    def count(self, endpoint: str | None = None) -> int:
        """Requests received, in total or for one endpoint label (e.g. ``openai.generate``).

        Labels: openai.generate, openai.edit, openai.models, xai.generate, xai.edit,
        xai.api-key, google.predict, google.generateContent, google.models, file, unknown.
        """
        with self._lock:
            if endpoint is None:
                return sum(self._counts.values())
            return self._counts[endpoint]

    @property
    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self.requests.clear()
            self.max_in_flight = self.in_flight
        self.answer_url = self.answer_count = self.answer_image = None
        self.throttle_until = None

    def throttle(self, seconds: float) -> None:
        """Answer every generation with the provider's 429 and a Retry-After for `seconds`
        from now (a provider's own rate limit, lifted when the time has passed)."""
        self.throttle_until = time.monotonic() + seconds

    def throttled(self) -> dict[str, str] | None:
        """The Retry-After header of a generation refused now, or None when not throttled."""
        until = self.throttle_until
        if until is None or time.monotonic() >= until:
            return None
        return {"Retry-After": str(math.ceil(until - time.monotonic()))}

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self._counts[rec.endpoint] += 1
            self.requests.append(rec)

    # --- images --------------------------------------------------------------------------------
    def image(self, width: int, height: int, fmt: str = "png") -> tuple[bytes, str]:
        """(bytes, base64) of a cached picture of that size and format (or `answer_image`)."""
        if self.answer_image is not None:
            return self.answer_image, base64.b64encode(self.answer_image).decode("ascii")
        key = (width, height, fmt)
        cached = self._images.get(key)
        if cached is None:
            with self._image_lock:
                cached = self._images.get(key)
                if cached is None:
                    data = _picture(width, height, fmt)
                    cached = (data, base64.b64encode(data).decode("ascii"))
                    self._images[key] = cached
        return cached

    def size_for_ratio(self, ratio: str | None) -> tuple[int, int]:
        side = self.image_size
        match = _RATIO.match(ratio or "")
        if not match:
            return side, side
        w, h = int(match.group(1)), int(match.group(2))
        if w >= h:
            return side, max(1, round(side * h / w))
        return max(1, round(side * w / h)), side

    def publish(self, data: bytes, mime: str) -> str:
        """Serve bytes at a one-off URL (providers that answer with URLs)."""
        name = uuid.uuid4().hex
        with self._lock:
            self._files[name] = (data, mime)
        return f"{self.url}/files/{name}"

    def file(self, name: str) -> tuple[bytes, str] | None:
        with self._lock:
            return self._files.get(name)


# JSON-encoding a 2.2 MB base64 string costs milliseconds of this process's GIL; a burst of
# 500 answers would spend seconds on it and measure the stand-in instead of Bambi. The images
# are the same str objects answer after answer (StandIn.image caches them), so each is
# encoded once and spliced into the rest of the answer.
_BIG_STRING = 64 * 1024
_encoded: dict[int, tuple[str, bytes]] = {}
_MARK = re.compile(r'"\\u0000big(\d+)\\u0000"')


def _json_bytes(payload: Any) -> bytes:
    big: list[str] = []

    def lift(value: Any) -> Any:
        if isinstance(value, str) and len(value) >= _BIG_STRING:
            big.append(value)
            return f"\x00big{len(big) - 1}\x00"
        if isinstance(value, dict):
            return {key: lift(item) for key, item in value.items()}
        if isinstance(value, list):
            return [lift(item) for item in value]
        return value

    skeleton = json.dumps(lift(payload))
    if not big:
        return skeleton.encode()
    parts = _MARK.split(skeleton)
    return b"".join(
        part.encode() if n % 2 == 0 else _encoded_string(big[int(part)])
        for n, part in enumerate(parts)
    )


def _encoded_string(value: str) -> bytes:
    cached = _encoded.get(id(value))
    if cached is not None and cached[0] is value:
        return cached[1]
    encoded = json.dumps(value).encode()
    if len(_encoded) > 64:
        _encoded.clear()
    _encoded[id(value)] = (value, encoded)
    return encoded


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = "HTTP/1.1"
    server_version = "BambiProviderStandIn/1.0"

    def setup(self) -> None:  # once per TCP connection (keep-alive serves many requests)
        super().setup()
        with self.standin._lock:
            self.standin.connections += 1

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        pass

    # --- plumbing ------------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        payload: Any,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        body = payload if isinstance(payload, bytes) else _json_bytes(payload)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _raw(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _body(self, raw: bytes | None = None) -> Any:
        raw = self._raw() if raw is None else raw
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return {"__invalid_json__": raw[:200].decode("utf-8", "replace")}

    def _form(self, raw: bytes) -> dict:
        """A multipart body as {"fields": {name: text}, "files": [{name, filename,
        content_type, data}]} (kept whole for the tests' assertions)."""
        try:
            parts = multipart_parts(raw, self.headers.get("Content-Type") or "")
        except (ValueError, UnicodeDecodeError):
            return {"fields": {}, "files": [], "__invalid_form__": True}
        return {
            "fields": {p.name: p.data.decode("utf-8", "replace") for p in parts if not p.filename},
            "files": [
                {
                    "name": p.name,
                    "filename": p.filename,
                    "content_type": p.content_type,
                    "data": p.data,
                }
                for p in parts
                if p.filename
            ],
        }

    def _bearer(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        return None

    def _google_key(self) -> str | None:
        key = self.headers.get("x-goog-api-key")
        if key:
            return key
        query = parse_qs(urlsplit(self.path).query)
        return (query.get("key") or [None])[0]

    def _wait(self) -> None:
        standin = self.standin
        with standin._lock:
            standin.in_flight += 1
            standin.max_in_flight = max(standin.max_in_flight, standin.in_flight)
        try:
            if standin.latency > 0:
                time.sleep(standin.latency)
        finally:
            with standin._lock:
                standin.in_flight -= 1

    # --- routing -------------------------------------------------------------------------------
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_standin/stats":  # for a benchmark running the stand-in in its own process
            standin = self.standin
            return self._send(
                200,
                {
                    "max_in_flight": standin.max_in_flight,
                    "in_flight": standin.in_flight,
                    "connections": standin.connections,
                },
            )
        if path == "/v1/models":
            key = self._bearer()
            self.standin._record(Recorded("GET", path, "openai.models", key, None))
            if (err := _openai_key_error(key)) is not None:
                return self._send(*err)
            return self._send(200, recorded("openai", "models"))
        if path == "/v1/api-key":
            key = self._bearer()
            self.standin._record(Recorded("GET", path, "xai.api-key", key, None))
            if (err := _xai_key_error(key)) is not None:
                return self._send(*err)
            return self._send(200, recorded("xai", "api_key"))
        if path == "/v1beta/models":
            key = self._google_key()
            self.standin._record(Recorded("GET", path, "google.models", key, None))
            if (err := _google_key_error(key)) is not None:
                return self._send(*err)
            return self._send(200, recorded("google", "models"))
        if path == "/redirect":
            self.standin._record(Recorded("GET", path, "redirect", None, None))
            target = (parse_qs(urlsplit(self.path).query).get("to") or ["/"])[0]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path.startswith("/files/"):
            self.standin._record(Recorded("GET", path, "file", None, None))
            found = self.standin.file(path[len("/files/") :])
            if found is None:
                return self._send(404, b"not found", "text/plain")
            return self._send(200, found[0], found[1])
        self.standin._record(Recorded("GET", path, "unknown", None, None))
        return self._send(404, {"error": {"message": f"No route for GET {path}"}})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        raw = self._raw()
        if path == "/_standin/control":  # {"latency": seconds} and/or {"reset": true}
            control = self._body(raw) or {}
            if "latency" in control:
                self.standin.latency = float(control["latency"])
            if control.get("reset"):
                self.standin.reset()
            return self._send(200, {"latency": self.standin.latency})
        if path == "/v1/images/edits":
            return self._edit(path, raw)
        body = self._body(raw)
        if path == "/v1/images/generations":
            key = self._bearer()
            model = str((body or {}).get("model") or "")
            if (key or "").startswith("xai-") or model.startswith("grok"):
                self.standin._record(Recorded("POST", path, "xai.generate", key, body))
                if (wait := self.standin.throttled()) is not None:
                    return self._send(*_xai_error(429, "error_rate_limit"), headers=wait)
                return self._send(*_xai_generate(self.standin, key, body, self._wait))
            self.standin._record(Recorded("POST", path, "openai.generate", key, body))
            if (wait := self.standin.throttled()) is not None:
                return self._send(*_openai_error(429, "error_rate_limit"), headers=wait)
            return self._send(*_openai_generate(self.standin, key, body, self._wait))
        match = _GOOGLE_MODEL.match(path)
        if match:
            model, method = match.groups()
            key = self._google_key()
            self.standin._record(Recorded("POST", path, f"google.{method}", key, body))
            if (wait := self.standin.throttled()) is not None:
                return self._send(*_google_error(429, "error_rate_limited"), headers=wait)
            if method == "predict":
                return self._send(*_imagen_predict(self.standin, key, model, body, self._wait))
            return self._send(*_gemini_generate(self.standin, key, model, body, self._wait))
        self.standin._record(Recorded("POST", path, "unknown", None, body))
        return self._send(404, {"error": {"message": f"No route for POST {path}"}})

    def _edit(self, path: str, raw: bytes) -> None:
        key = self._bearer()
        multipart = (self.headers.get("Content-Type") or "").startswith("multipart/form-data")
        body = self._form(raw) if multipart else self._body(raw)
        fields = body.get("fields", {}) if multipart else body
        model = str((fields or {}).get("model") or "") if isinstance(fields, dict) else ""
        if (key or "").startswith("xai-") or model.startswith("grok"):
            self.standin._record(Recorded("POST", path, "xai.edit", key, body))
            return self._send(*_xai_edit(self.standin, key, body, multipart, self._wait))
        self.standin._record(Recorded("POST", path, "openai.edit", key, body))
        return self._send(*_openai_edit(self.standin, key, body, multipart, self._wait))


# --- dialects ------------------------------------------------------------------------------------
# Every answer is a recorded one (tests/fixtures/providers/<slug>/, via tests.recorded), with the
# request's own values filled in: the stand-in never writes a provider's wire shape itself.


def _prompt(body: Any) -> str:
    return str((body or {}).get("prompt") or "") if isinstance(body, dict) else ""


def _openai_error(status: int, name: str, **fields: Any) -> tuple[int, dict]:
    """A recorded OpenAI error; `fields` (message, param, code) say what this request got wrong."""
    answer = recorded("openai", name)
    answer["error"].update(fields)
    return status, answer


def _openai_key_error(key: str | None):
    if not key:
        return _openai_error(401, "error_no_api_key")
    if "bad" in key.lower():
        return _openai_error(401, "error_invalid_api_key")
    return None


def _openai_generate(standin: StandIn, key, body, wait):
    if (err := _openai_key_error(key)) is not None:
        return err
    # 400 invalid_request_error answers, as the recorded one about `size`.
    if not isinstance(body, dict) or "__invalid_json__" in body:
        return _openai_error(
            400,
            "error_invalid_size",
            message="We could not parse the JSON body of your request.",
            param=None,
            code=None,
        )
    model = str(body.get("model") or "dall-e-2")
    prompt = _prompt(body)
    if not prompt:
        return _openai_error(
            400,
            "error_invalid_size",
            message="Missing required parameter: 'prompt'.",
            param="prompt",
            code=None,
        )
    gpt_image = model.startswith("gpt-image")
    if gpt_image and "response_format" in body:
        return _openai_error(400, "error_unknown_parameter")
    size = str(body.get("size") or "1024x1024")
    if size == "auto":
        width = height = standin.image_size
    elif match := _SIZE.match(size):
        width, height = int(match.group(1)), int(match.group(2))
    else:
        return _openai_error(
            400,
            "error_invalid_size",
            message=f"Invalid value: '{size}'. Supported values are: '1024x1024'…",
        )
    n = body.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= 10:
        return _openai_error(
            400,
            "error_invalid_size",
            message=f"Invalid 'n': {n!r}.",
            param="n",
            code="invalid_value",
        )
    wait()
    if "REFUSE" in prompt:
        return _openai_error(
            400, "error_moderation_blocked" if gpt_image else "error_content_policy"
        )
    if "RATELIMIT" in prompt:
        return _openai_error(429, "error_rate_limit")
    if "NOCREDIT" in prompt:
        return _openai_error(429, "error_insufficient_quota")
    if "UPSTREAM500" in prompt:
        return _openai_error(500, "error_server")
    fmt = str(body.get("output_format") or "png") if gpt_image else "png"
    fmt = fmt if fmt in _MIME else "png"
    data, b64 = standin.image(width, height, fmt)
    count = standin.answer_count or n
    if standin.answer_url:
        answer = recorded("openai", "dalle3_url", image_url=[standin.answer_url] * count)
    elif not gpt_image and body.get("response_format", "url") == "url":
        urls = [standin.publish(data, _MIME[fmt]) for _ in range(count)]
        answer = recorded("openai", "dalle3_url", image_url=urls)
    else:
        name = "gpt_image_b64" if gpt_image else "dalle3_b64"
        answer = recorded("openai", name, image_b64=[b64] * count)
    answer["created"] = int(time.time())
    if model != "dall-e-3":  # only DALL·E 3 rewrites the prompt
        for item in answer["data"]:
            item.pop("revised_prompt", None)
    if gpt_image and not standin.answer_url:
        answer.update(
            size=f"{width}x{height}",
            quality=body.get("quality", "auto"),
            output_format=fmt,
            background=body.get("background", "opaque"),
        )
    return 200, answer


def _openai_edit(standin: StandIn, key, form, multipart: bool, wait):
    """POST /v1/images/edits as OpenAI answers it (multipart only)."""
    if (err := _openai_key_error(key)) is not None:
        return err
    bad = "error_invalid_size"  # the recorded invalid_request_error, with this request's words
    if not multipart or form.get("__invalid_form__"):
        return _openai_error(
            400, bad, message="The edits endpoint takes multipart/form-data.", param=None
        )
    fields = form["fields"]
    prompt = fields.get("prompt") or ""
    if not prompt:
        return _openai_error(
            400, bad, message="Missing required parameter: 'prompt'.", param="prompt", code=None
        )
    model = fields.get("model") or "gpt-image-1"
    if not model.startswith("gpt-image"):
        return _openai_error(
            400, bad, message=f"Edits are not supported for {model}.", param="model", code=None
        )
    images = [f for f in form["files"] if _EDIT_IMAGE_PART.match(f["name"])]
    if not 1 <= len(images) <= 16:
        return _openai_error(
            400, bad, message="Provide between 1 and 16 images ('image[]').", param="image"
        )
    for number, part in enumerate(images):
        if _image_kind(part["data"]) is None:
            return _openai_error(
                400,
                bad,
                message=f"Invalid image file or mode for image {number + 1}, please check your "
                "image file.",
                param="image",
                code="invalid_image_file",
            )
    masks = [f for f in form["files"] if f["name"] == "mask"]
    mask = masks[0]["data"] if masks else None
    if mask is not None:
        try:
            with Image.open(io.BytesIO(mask)) as layer:
                usable = (
                    layer.format == "PNG"
                    and (layer.mode in ("RGBA", "LA", "PA") or "transparency" in layer.info)
                    and layer.size == _size_of(images[0]["data"])
                )
        except OSError:
            usable = False
        if not usable:
            return _openai_error(400, "error_invalid_mask")
    if "input_fidelity" in fields and model.startswith("gpt-image-2"):
        return _openai_error(
            400,
            "error_unknown_parameter",
            message="Unknown parameter: 'input_fidelity'.",
            param="input_fidelity",
        )
    n = int(fields.get("n") or 1)
    size = fields.get("size") or "auto"
    match = _SIZE.match(size)
    width_height = (int(match.group(1)), int(match.group(2))) if match else None
    wait()
    if (err := _openai_failure(prompt, refusal="error_moderation_blocked")) is not None:
        return err
    fmt = fields.get("output_format") or "png"
    fmt = fmt if fmt in _MIME else "png"
    picture = _edited(images[0]["data"], mask, width_height, fmt)
    answer = recorded(
        "openai",
        "gpt_image_edit_b64",
        image_b64=[base64.b64encode(picture).decode("ascii")] * (standin.answer_count or n),
    )
    width, height = _size_of(picture)
    tokens = answer["usage"]
    per_image = tokens["input_tokens_details"]["image_tokens"]  # the recording: one image
    tokens["input_tokens_details"] = {
        "image_tokens": per_image * len(images),
        "text_tokens": max(len(prompt) // 4, 1),
    }
    tokens["input_tokens"] = sum(tokens["input_tokens_details"].values())
    tokens["total_tokens"] = tokens["input_tokens"] + tokens["output_tokens"]
    answer.update(
        created=int(time.time()),
        size=f"{width}x{height}",
        quality=fields.get("quality", "auto"),
        output_format=fmt,
        background=fields.get("background", "opaque"),
    )
    return 200, answer


def _openai_failure(prompt: str, *, refusal: str):
    if "REFUSE" in prompt:
        return _openai_error(400, refusal)
    if "RATELIMIT" in prompt:
        return _openai_error(429, "error_rate_limit")
    if "NOCREDIT" in prompt:
        return _openai_error(429, "error_insufficient_quota")
    if "UPSTREAM500" in prompt:
        return _openai_error(500, "error_server")
    return None


def _xai_error(status: int, name: str, message: str | None = None) -> tuple[int, dict]:
    """A recorded xAI error; `message` says what this request got wrong."""
    answer = recorded("xai", name)
    if message:
        answer["error"] = message
    return status, answer


def _xai_key_error(key: str | None):
    if not key:
        return _xai_error(401, "error_no_api_key")
    if "bad" in key.lower():
        return _xai_error(400, "error_incorrect_api_key")
    return None


def _xai_generate(standin: StandIn, key, body, wait):
    if (err := _xai_key_error(key)) is not None:
        return err
    if not isinstance(body, dict) or "__invalid_json__" in body:
        return _xai_error(400, "error_argument_not_supported", "Invalid JSON.")
    for refused in ("size", "style"):
        if refused in body:
            return _xai_error(
                400, "error_argument_not_supported", f"Argument not supported: {refused}"
            )
    prompt = _prompt(body)
    if not prompt:
        return _xai_error(422, "error_unprocessable", "prompt: field required")
    n = body.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= 10:
        return _xai_error(422, "error_unprocessable", "n: must be between 1 and 10")
    wait()
    if "REFUSE" in prompt:  # xAI moderation is silent: a 200 with nothing in it
        return 200, recorded("xai", "image_empty")
    if "RATELIMIT" in prompt:
        return _xai_error(429, "error_rate_limit")
    if "NOCREDIT" in prompt:
        return _xai_error(429, "error_spending_limit")
    if "UPSTREAM500" in prompt:
        return _xai_error(500, "error_internal")
    width, height = standin.size_for_ratio(body.get("aspect_ratio"))
    if body.get("resolution") == "2k":
        width, height = width * 2, height * 2
    data, b64 = standin.image(width, height, "jpeg")
    count = standin.answer_count or n
    if standin.answer_url:
        answer = recorded("xai", "image_url", image_url=[standin.answer_url] * count)
    elif body.get("response_format", "url") == "url":
        urls = [standin.publish(data, "image/jpeg") for _ in range(count)]
        answer = recorded("xai", "image_url", image_url=urls)
    else:
        answer = recorded("xai", "image_b64", image_b64=[b64] * count)
    answer["usage"]["cost_in_usd_ticks"] *= n  # the recording is the cost of one image
    return 200, answer


def _xai_edit(standin: StandIn, key, body, multipart: bool, wait):
    """POST /v1/images/edits as xAI answers it (JSON only)."""
    if (err := _xai_key_error(key)) is not None:
        return err
    unsupported = "error_argument_not_supported"
    if multipart:
        return _xai_error(400, unsupported, "Send a JSON body (Content-Type: application/json).")
    if not isinstance(body, dict) or "__invalid_json__" in body:
        return _xai_error(400, unsupported, "Invalid JSON.")
    for refused in ("size", "style", "mask"):
        if refused in body:
            return _xai_error(400, unsupported, f"Argument not supported: {refused}")
    prompt = _prompt(body)
    if not prompt:
        return _xai_error(422, "error_unprocessable", "prompt: field required")
    if ("image" in body) == ("images" in body):
        return _xai_error(422, "error_unprocessable", "Provide either image or images.")
    sources = [body["image"]] if "image" in body else body["images"]
    model = str(body.get("model") or "grok-imagine-image")
    limit = 5 if model.endswith("2.0") else 3
    if not isinstance(sources, list) or not 1 <= len(sources) <= limit:
        return _xai_error(422, "error_unprocessable", f"images: at most {limit} images.")
    pictures = []
    for source in sources:
        try:
            data, _mime = decode_data_url(source["url"])
        except (KeyError, TypeError, ValueError):
            return _xai_error(422, "error_unprocessable", "image.url: expected a data URL.")
        if _image_kind(data) is None:
            return _xai_error(422, "error_unprocessable", "image.url: not an image.")
        pictures.append(data)
    n = body.get("n", 1)
    wait()
    if "REFUSE" in prompt:
        return 200, recorded("xai", "image_empty")
    if "RATELIMIT" in prompt:
        return _xai_error(429, "error_rate_limit")
    if "NOCREDIT" in prompt:
        return _xai_error(429, "error_spending_limit")
    size = None
    if body.get("aspect_ratio") not in (None, "auto"):
        size = standin.size_for_ratio(body["aspect_ratio"])
    picture = _edited(pictures[0], None, size, "jpeg")
    b64 = base64.b64encode(picture).decode("ascii")
    count = standin.answer_count or n
    if body.get("response_format", "url") == "url":
        answer = recorded(
            "xai", "image_url", image_url=[standin.publish(picture, "image/jpeg")] * count
        )
    else:
        answer = recorded("xai", "image_edit_b64", image_b64=[b64] * count)
    # The recording is one image made from one input; xAI bills the inputs too.
    answer["usage"]["cost_in_usd_ticks"] = 200_000_000 * n + 20_000_000 * len(pictures)
    answer["model"] = model
    return 200, answer


def _google_error(status: int, name: str, message: str | None = None) -> tuple[int, dict]:
    """A recorded Google error; `message` says what this request got wrong."""
    answer = recorded("google", name)
    if message:
        answer["error"]["message"] = message
    return status, answer


def _google_key_error(key: str | None):
    if not key:
        return _google_error(403, "error_permission_denied")
    if "bad" in key.lower():
        return _google_error(400, "error_api_key_invalid")
    return None


def _google_failure(prompt: str):
    if "RATELIMIT" in prompt:
        return _google_error(429, "error_rate_limited")
    if "NOCREDIT" in prompt:
        return _google_error(429, "error_resource_exhausted")
    if "UPSTREAM500" in prompt:
        return _google_error(500, "error_internal")
    return None


def _imagen_predict(standin: StandIn, key, model: str, body, wait):
    if (err := _google_key_error(key)) is not None:
        return err
    try:
        prompt = str(body["instances"][0]["prompt"])
    except (KeyError, IndexError, TypeError):
        return _google_error(
            400,
            "error_invalid_argument",
            "Invalid JSON payload: instances[0].prompt is required.",
        )
    params = body.get("parameters") or {}
    # Imagen defaults to 4 images when sampleCount is left out.
    count = params.get("sampleCount", 4)
    if not isinstance(count, int) or not 1 <= count <= 4:
        return _google_error(400, "error_invalid_argument", "sampleCount must be between 1 and 4.")
    wait()
    if (err := _google_failure(prompt)) is not None:
        return err
    if "REFUSE" in prompt:  # one filtered entry per image asked for
        answer = recorded("google", "imagen_all_filtered")
        answer["predictions"] = answer["predictions"][:1] * count
        return 200, answer
    width, height = standin.size_for_ratio(params.get("aspectRatio"))
    if params.get("sampleImageSize") == "2K":
        width, height = width * 2, height * 2
    _, b64 = standin.image(width, height, "png")
    return 200, recorded(
        "google", "imagen_predict", image_b64=[b64] * (standin.answer_count or count)
    )


def _gemini_generate(standin: StandIn, key, model: str, body, wait):
    if (err := _google_key_error(key)) is not None:
        return err
    try:
        parts = body["contents"][0]["parts"]
        prompt = " ".join(str(part.get("text", "")) for part in parts)
        inputs = [
            base64.b64decode(inline["data"], validate=True)
            for part in parts
            if (inline := part.get("inline_data") or part.get("inlineData"))
        ]
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        return _google_error(
            400, "error_invalid_argument", "Invalid JSON payload: contents[0].parts is required."
        )
    if any(_image_kind(data) is None for data in inputs):
        return _google_error(400, "error_invalid_argument", "Unable to process input image.")
    config = (body.get("generationConfig") or {}).get("imageConfig") or {}
    wait()
    if (err := _google_failure(prompt)) is not None:
        return err
    if "REFUSE" in prompt:
        answer = recorded("google", "gemini_image_safety")
    elif inputs:
        size = standin.size_for_ratio(config["aspectRatio"]) if config.get("aspectRatio") else None
        picture = _edited(inputs[0], None, size, "png")
        b64 = base64.b64encode(picture).decode("ascii")
        answer = recorded("google", "gemini_edit", image_b64=[b64])
        answer["usageMetadata"]["promptTokensDetails"][1]["tokenCount"] = 1290 * len(inputs)
    else:
        width, height = standin.size_for_ratio(config.get("aspectRatio"))
        _, b64 = standin.image(width, height, "png")
        answer = recorded("google", "gemini_image", image_b64=[b64])
    answer["modelVersion"] = model
    return 200, answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local provider stand-in (OpenAI, Google, xAI).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per generation")
    parser.add_argument("--image-size", type=int, default=1024, help="square side in pixels")
    args = parser.parse_args(argv)
    standin = StandIn(
        latency=args.latency, image_size=args.image_size, host=args.host, port=args.port
    ).start()
    print(f"Provider stand-in listening on {standin.url} (latency {args.latency}s)", flush=True)
    print(f"Let Bambi reach it: PROVIDER_PRIVATE_HOSTS={standin.host_port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
