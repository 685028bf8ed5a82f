"""A local stand-in for the image providers, on loopback, for browser tests and benchmarks.

It speaks the three dialects of ../shared/providers.md closely enough that Bambi's real
adapters (and nothing mocked) talk to it:

  OpenAI   POST /v1/images/generations   GET /v1/models
  xAI      POST /v1/images/generations   GET /v1/api-key
  Google   POST /v1beta/models/{model}:predict           (Imagen)
           POST /v1beta/models/{model}:generateContent   (Gemini image models)
           GET  /v1beta/models

OpenAI and xAI share the generations path. The rule that picks xAI's dialect: the bearer key
starts with ``xai-`` (every real xAI key does) or the model id starts with ``grok`` (every xAI
image model does). Anything else is answered as OpenAI.

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

_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_RATIO = re.compile(r"^(\d+):(\d+)$")
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_GOOGLE_MODEL = re.compile(r"^/v1beta/models/([^/:]+):(predict|generateContent)$")


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

        Labels: openai.generate, openai.models, xai.generate, xai.api-key, google.predict,
        google.generateContent, google.models, file, unknown.
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


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = "HTTP/1.1"
    server_version = "BambiProviderStandIn/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        pass

    # --- plumbing ------------------------------------------------------------------------------
    def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return {"__invalid_json__": raw[:200].decode("utf-8", "replace")}

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
        if path == "/v1/models":
            key = self._bearer()
            self.standin._record(Recorded("GET", path, "openai.models", key, None))
            if (err := _openai_key_error(key)) is not None:
                return self._send(*err)
            models = ["gpt-image-1.5", "gpt-image-1-mini", "gpt-image-1", "dall-e-3", "dall-e-2"]
            return self._send(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": 1700000000, "owned_by": "system"}
                        for m in models
                    ],
                },
            )
        if path == "/v1/api-key":
            key = self._bearer()
            self.standin._record(Recorded("GET", path, "xai.api-key", key, None))
            if (err := _xai_key_error(key)) is not None:
                return self._send(*err)
            return self._send(
                200,
                {
                    "redacted_api_key": f"{key[:4]}…{key[-4:]}",
                    "user_id": "standin-user",
                    "name": "stand-in key",
                    "create_time": "2026-01-01T00:00:00Z",
                    "modify_time": "2026-01-01T00:00:00Z",
                    "team_id": "standin-team",
                    "acls": ["api-key:model:*", "api-key:endpoint:*"],
                    "api_key_id": "standin-key-id",
                    "team_blocked": False,
                    "api_key_blocked": False,
                    "api_key_disabled": False,
                },
            )
        if path == "/v1beta/models":
            key = self._google_key()
            self.standin._record(Recorded("GET", path, "google.models", key, None))
            if (err := _google_key_error(key)) is not None:
                return self._send(*err)
            return self._send(
                200,
                {
                    "models": [
                        {"name": f"models/{m}", "displayName": m, "version": "001"}
                        for m in (
                            "imagen-4.0-generate-001",
                            "imagen-4.0-fast-generate-001",
                            "imagen-4.0-ultra-generate-001",
                            "gemini-2.5-flash-image",
                        )
                    ]
                },
            )
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
        body = self._body()
        if path == "/v1/images/generations":
            key = self._bearer()
            model = str((body or {}).get("model") or "")
            if (key or "").startswith("xai-") or model.startswith("grok"):
                self.standin._record(Recorded("POST", path, "xai.generate", key, body))
                return self._send(*_xai_generate(self.standin, key, body, self._wait))
            self.standin._record(Recorded("POST", path, "openai.generate", key, body))
            return self._send(*_openai_generate(self.standin, key, body, self._wait))
        match = _GOOGLE_MODEL.match(path)
        if match:
            model, method = match.groups()
            key = self._google_key()
            self.standin._record(Recorded("POST", path, f"google.{method}", key, body))
            if method == "predict":
                return self._send(*_imagen_predict(self.standin, key, model, body, self._wait))
            return self._send(*_gemini_generate(self.standin, key, model, body, self._wait))
        self.standin._record(Recorded("POST", path, "unknown", None, body))
        return self._send(404, {"error": {"message": f"No route for POST {path}"}})


# --- dialects ------------------------------------------------------------------------------------
def _mask(key: str) -> str:
    return f"{key[:3]}***{key[-2:]}" if len(key) > 6 else "***"


def _prompt(body: Any) -> str:
    return str((body or {}).get("prompt") or "") if isinstance(body, dict) else ""


def _openai_error(status: int, message: str, code: str | None, param: str | None = None):
    err_type = {
        401: "invalid_request_error",
        429: "requests",
        500: "server_error",
    }.get(status, "invalid_request_error")
    if code == "insufficient_quota":
        err_type = "insufficient_quota"
    return status, {"error": {"message": message, "type": err_type, "param": param, "code": code}}


def _openai_key_error(key: str | None):
    if not key:
        return _openai_error(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            None,
        )
    if "bad" in key.lower():
        return _openai_error(
            401,
            f"Incorrect API key provided: {_mask(key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_api_key",
        )
    return None


def _openai_generate(standin: StandIn, key, body, wait):
    if (err := _openai_key_error(key)) is not None:
        return err
    if not isinstance(body, dict) or "__invalid_json__" in body:
        return _openai_error(400, "We could not parse the JSON body of your request.", None)
    model = str(body.get("model") or "dall-e-2")
    prompt = _prompt(body)
    if not prompt:
        return _openai_error(400, "Missing required parameter: 'prompt'.", None, "prompt")
    gpt_image = model.startswith("gpt-image")
    if gpt_image and "response_format" in body:
        return _openai_error(
            400,
            "Unknown parameter: 'response_format'.",
            "unknown_parameter",
            "response_format",
        )
    size = str(body.get("size") or "1024x1024")
    if size == "auto":
        width = height = standin.image_size
    elif match := _SIZE.match(size):
        width, height = int(match.group(1)), int(match.group(2))
    else:
        return _openai_error(
            400, f"Invalid value: '{size}'. Supported values are: '1024x1024'…", "invalid_size"
        )
    n = body.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= 10:
        return _openai_error(400, f"Invalid 'n': {n!r}.", "invalid_value", "n")
    wait()
    if "REFUSE" in prompt:
        code = "moderation_blocked" if gpt_image else "content_policy_violation"
        return _openai_error(
            400,
            "Your request was rejected as a result of our safety system. Your prompt may "
            "contain text that is not allowed by our safety system.",
            code,
        )
    if "RATELIMIT" in prompt:
        return _openai_error(
            429,
            "Rate limit reached for images per minute. Please try again later.",
            "rate_limit_exceeded",
        )
    if "NOCREDIT" in prompt:
        return _openai_error(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
        )
    if "UPSTREAM500" in prompt:
        return _openai_error(500, "The server had an error while processing your request.", None)
    fmt = str(body.get("output_format") or "png") if gpt_image else "png"
    fmt = fmt if fmt in _MIME else "png"
    data, b64 = standin.image(width, height, fmt)
    as_url = not gpt_image and body.get("response_format", "url") == "url"
    items = []
    for _ in range(standin.answer_count or n):
        item: dict[str, Any] = (
            {"url": standin.answer_url}
            if standin.answer_url
            else {"url": standin.publish(data, _MIME[fmt])}
            if as_url
            else {"b64_json": b64}
        )
        if model == "dall-e-3":
            item["revised_prompt"] = f"A detailed rendering of: {prompt}"
        items.append(item)
    answer: dict[str, Any] = {"created": int(time.time()), "data": items}
    if gpt_image:
        answer.update(
            {
                "size": f"{width}x{height}",
                "quality": body.get("quality", "auto"),
                "output_format": fmt,
                "background": body.get("background", "opaque"),
                "usage": {
                    "input_tokens": 50,
                    "output_tokens": 4160 * n,
                    "total_tokens": 50 + 4160 * n,
                    "input_tokens_details": {"text_tokens": 50, "image_tokens": 0},
                },
            }
        )
    return 200, answer


def _xai_key_error(key: str | None):
    if not key:
        return 401, {
            "code": "Unauthenticated",
            "error": "No API key provided. Specify your API key in an Authorization header "
            "using Bearer auth.",
        }
    if "bad" in key.lower():
        return 400, {
            "code": "Client specified an invalid argument",
            "error": f"Incorrect API key provided: {_mask(key)}. You can obtain an API key "
            "from https://console.x.ai.",
        }
    return None


def _xai_generate(standin: StandIn, key, body, wait):
    if (err := _xai_key_error(key)) is not None:
        return err
    if not isinstance(body, dict) or "__invalid_json__" in body:
        return 400, {"code": "Client specified an invalid argument", "error": "Invalid JSON."}
    for refused in ("size", "style"):
        if refused in body:
            return 400, {
                "code": "Client specified an invalid argument",
                "error": f"Argument not supported: {refused}",
            }
    prompt = _prompt(body)
    if not prompt:
        return 422, {"code": "Unprocessable Entity", "error": "prompt: field required"}
    n = body.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= 10:
        return 422, {"code": "Unprocessable Entity", "error": "n: must be between 1 and 10"}
    wait()
    ticks_per_image = 200_000_000  # $0.02
    if "REFUSE" in prompt:  # xAI moderation is silent: a 200 with nothing in it
        return 200, {"data": [], "usage": {"cost_in_usd_ticks": 0}}
    if "RATELIMIT" in prompt:
        return 429, {"code": "Too Many Requests", "error": "Rate limit exceeded for this team."}
    if "NOCREDIT" in prompt:
        return 429, {
            "code": "Too Many Requests",
            "error": "Your team has either used all available credits or reached its monthly "
            "spending limit.",
        }
    if "UPSTREAM500" in prompt:
        return 500, {"code": "Internal", "error": "Internal server error."}
    width, height = standin.size_for_ratio(body.get("aspect_ratio"))
    if body.get("resolution") == "2k":
        width, height = width * 2, height * 2
    data, b64 = standin.image(width, height, "jpeg")
    as_url = body.get("response_format", "url") == "url"
    items = []
    for _ in range(standin.answer_count or n):
        item: dict[str, Any] = (
            {"url": standin.answer_url}
            if standin.answer_url
            else {"url": standin.publish(data, "image/jpeg")}
            if as_url
            else {"b64_json": f"data:image/jpeg;base64,{b64}"}
        )
        item.update({"mime_type": "image/jpeg", "revised_prompt": f"Grok's take on: {prompt}"})
        items.append(item)
    return 200, {"data": items, "usage": {"cost_in_usd_ticks": ticks_per_image * n}}


def _google_error(status: int, message: str, status_text: str, reason: str | None = None):
    error: dict[str, Any] = {"code": status, "message": message, "status": status_text}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ]
    return status, {"error": error}


def _google_key_error(key: str | None):
    if not key:
        return _google_error(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
            "PERMISSION_DENIED",
        )
    if "bad" in key.lower():
        return _google_error(
            400,
            "API key not valid. Please pass a valid API key.",
            "INVALID_ARGUMENT",
            "API_KEY_INVALID",
        )
    return None


def _google_failure(prompt: str):
    if "RATELIMIT" in prompt:
        return _google_error(
            429, "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED"
        )
    if "NOCREDIT" in prompt:
        return _google_error(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            "RESOURCE_EXHAUSTED",
        )
    if "UPSTREAM500" in prompt:
        return _google_error(500, "An internal error has occurred.", "INTERNAL")
    return None


def _imagen_predict(standin: StandIn, key, model: str, body, wait):
    if (err := _google_key_error(key)) is not None:
        return err
    try:
        prompt = str(body["instances"][0]["prompt"])
    except (KeyError, IndexError, TypeError):
        return _google_error(
            400, "Invalid JSON payload: instances[0].prompt is required.", "INVALID_ARGUMENT"
        )
    params = body.get("parameters") or {}
    # Imagen defaults to 4 images when sampleCount is left out (providers.md).
    count = params.get("sampleCount", 4)
    if not isinstance(count, int) or not 1 <= count <= 4:
        return _google_error(400, "sampleCount must be between 1 and 4.", "INVALID_ARGUMENT")
    wait()
    if (err := _google_failure(prompt)) is not None:
        return err
    if "REFUSE" in prompt:
        reason = (
            "Your current safety filter threshold filtered out the generated image. "
            "You will not be charged for blocked images. Try rephrasing the prompt."
        )
        return 200, {"predictions": [{"raiFilteredReason": reason} for _ in range(count)]}
    width, height = standin.size_for_ratio(params.get("aspectRatio"))
    if params.get("sampleImageSize") == "2K":
        width, height = width * 2, height * 2
    _, b64 = standin.image(width, height, "png")
    return 200, {
        "predictions": [
            {"bytesBase64Encoded": b64, "mimeType": "image/png"}
            for _ in range(standin.answer_count or count)
        ]
    }


def _gemini_generate(standin: StandIn, key, model: str, body, wait):
    if (err := _google_key_error(key)) is not None:
        return err
    try:
        prompt = " ".join(str(part.get("text", "")) for part in body["contents"][0]["parts"])
    except (KeyError, IndexError, TypeError, AttributeError):
        return _google_error(
            400, "Invalid JSON payload: contents[0].parts is required.", "INVALID_ARGUMENT"
        )
    config = (body.get("generationConfig") or {}).get("imageConfig") or {}
    wait()
    if (err := _google_failure(prompt)) is not None:
        return err
    usage = {"promptTokenCount": 12, "candidatesTokenCount": 1290, "totalTokenCount": 1302}
    if "REFUSE" in prompt:
        return 200, {
            "candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}],
            "usageMetadata": usage,
            "modelVersion": model,
        }
    width, height = standin.size_for_ratio(config.get("aspectRatio"))
    _, b64 = standin.image(width, height, "png")
    return 200, {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": f"Here is an image of: {prompt}"},
                        {"inlineData": {"mimeType": "image/png", "data": b64}},
                    ],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": usage,
        "modelVersion": model,
    }


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
