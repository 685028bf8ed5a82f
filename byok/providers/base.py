"""The provider interface (litellm-style: one small class per provider).

An adapter knows one provider's wire format and nothing else:

- `validation_request(key)` / `parse_validation(...)`: the free call that checks a key, and its
  answer read as a `KeyCheck`;
- `build_request(...)`: a prompt and options -> a `PreparedRequest` (pure);
- `build_edit_request(...)`: the same with input images (and a mask) -> the provider's edit call
  (pure); models that take no input images never get here (the form refuses them first);
- `parse_output(payload, ...)`: a successful JSON answer -> a `GenerationOutput` (pure, except
  that image URLs are downloaded at once because they expire);
- `classify_error(status, payload)`: an error answer -> one of `byok.providers.errors`.

The flow around those hooks is shared and lives here: `validate_key(key)`, and
`generate(...)` = `build_request` -> `request_images` (one call through `bambi.http`, then
`parse_response`: unreadable answer, `classify_error` or `parse_output`); with input images,
`build_edit_request` takes the place of `build_request` and the rest is the same.

Adapters never hold a key beyond the call that receives it, and never build a URL from anything
but the provider row's `api_base_url`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal, Protocol

import requests
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_variables

from bambi import http, timing
from byok.providers.errors import (
    AnswerTooLarge,
    BadRequest,
    InvalidKey,
    PrivateNetworkRefused,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)

# The wire helpers, where the adapters have always imported them from.
from byok.providers.wire import (  # noqa: F401
    data_url,
    decode_b64,
    given_options,
    json_safe,
    load_json,
    sniff_mime,
    text_of,
)


@dataclass(frozen=True)
class KeyCheck:
    """The verdict on a key. "unreachable" means we could not tell: never treat it as invalid."""

    status: Literal["valid", "invalid", "unreachable"]
    reason: str | None = None
    timed_out: bool = False

    @property
    def is_valid(self) -> bool:
        return self.status == "valid"


@dataclass(frozen=True)
class ProviderImage:
    """One image as the provider delivered it (bytes already decoded or downloaded)."""

    data: bytes
    mime_type: str | None = None
    revised_prompt: str | None = None

    def __repr__(self) -> str:  # the bytes would flood logs and test output
        return (
            f"ProviderImage({len(self.data)} bytes, mime_type={self.mime_type!r}, "
            f"revised_prompt={self.revised_prompt!r})"
        )


@dataclass(frozen=True)
class GenerationOutput:
    """What a successful generation returns.

    `cost_usd` is the exact cost when the provider reports it (xAI), else None and the caller
    falls back to the catalogue price. `usage` is the provider's raw usage block (JSON-safe).
    `filtered` counts the images the provider's safety filter withheld (not charged), when it
    says so; the caller also counts images asked for and not returned.
    """

    images: list[ProviderImage]
    cost_usd: Decimal | None = None
    usage: dict = field(default_factory=dict)
    filtered: int = 0


class ImageInput(Protocol):
    """An image sent with the prompt (generations.inputs.InputImage): bytes whose type was read
    from the bytes themselves, never from a file name or a client's word."""

    data: bytes
    mime_type: str


@dataclass(frozen=True)
class PreparedRequest:
    """An HTTP request ready to send. `headers` holds the key: never log or store this object.

    The body is `json`, or a multipart form: `data` (fields) and `files` (parts, in order)."""

    method: str
    url: str
    headers: dict
    json: dict | None
    data: dict | None = None
    files: list | None = None

    def __repr__(self) -> str:  # keeps the key out of tracebacks and debug output
        return f"PreparedRequest({self.method} {self.url})"


class ProviderAdapter:
    """Base class of the provider adapters. Subclasses set `slug` and implement the hooks."""

    slug: ClassVar[str]

    def __init__(self, base_url: str) -> None:
        """`base_url` is the provider row's `api_base_url`; every URL is built from it."""
        if not base_url or not base_url.strip():
            raise ValueError("A provider adapter needs the provider's API base URL.")
        self.base_url = base_url.strip().rstrip("/")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    # --- to implement in each provider -----------------------------------------------------------

    def validation_request(self, key: str) -> PreparedRequest:
        """The free, read-only request that tells whether `key` works."""
        raise NotImplementedError

    def parse_validation(self, status: int, body: bytes, content_type: str | None) -> KeyCheck:
        """Turn the answer to `validation_request` into a `KeyCheck`."""
        raise NotImplementedError

    def build_request(
        self, *, key: str, model_id: str, prompt: str, options: dict
    ) -> PreparedRequest:
        """The generation request. `options` is already validated against the model's
        capabilities; only the fields this model family accepts are sent."""
        raise NotImplementedError

    def build_edit_request(
        self,
        *,
        key: str,
        model_id: str,
        prompt: str,
        options: dict,
        images: list[ImageInput],
        mask: ImageInput | None = None,
    ) -> PreparedRequest:
        """The edit request: the prompt applied to `images` (one or more; the mask, if any,
        marks with transparent pixels what to change in the first). Options as for
        `build_request`. A provider without edits keeps this default."""
        raise BadRequest(gettext("This model does not take input images."))

    def parse_output(self, payload: dict, *, max_images: int | None = None) -> GenerationOutput:
        """A 200 answer's JSON object -> images, or raise a `ProviderError` subclass (a refusal
        hidden in a 200, an answer without images).

        `max_images` (the count asked for): images past it are neither decoded nor downloaded,
        so a provider that answers 30 for n=1 costs one image's work and stores one."""
        raise NotImplementedError

    def classify_error(self, status: int, payload: dict) -> ProviderError:
        """An error answer (any status but 200, its body a JSON object) -> the exception that
        says what it means for the user. Classify by body and status together: providers give
        the same status different meanings. `error_for_status` is the fallback table."""
        raise NotImplementedError

    # --- shared flow -----------------------------------------------------------------------------

    def parse_response(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        *,
        max_images: int | None = None,
    ) -> GenerationOutput:
        """Any answer to an image call -> images, or raise a `ProviderError` subclass."""
        payload = load_json(body)
        if payload is None:
            raise unreadable_answer(status)
        if status != 200:
            raise self.classify_error(status, payload)
        return self.parse_output(payload, max_images=max_images)

    @sensitive_variables()  # the key, its headers, and every frame below (requests, urllib3)
    def validate_key(self, key: str) -> KeyCheck:
        """Check `key` against a free endpoint.

        A network error, a timeout or a 5xx gives "unreachable", never "invalid": a provider
        outage must not mark every user's key as bad.
        """
        prepared = self.validation_request(key)
        try:
            response = _send(prepared, timeout=http.validate_timeout())
        except http.PrivateAddressRefused:
            return KeyCheck(
                "unreachable",
                "The provider's API address is on a private network; Bambi does not call it.",
            )
        except http.ResponseTooLarge:
            return KeyCheck("unreachable", "The provider's answer was far larger than a key check.")
        except requests.Timeout:
            return KeyCheck("unreachable", "The provider did not answer in time.", timed_out=True)
        except requests.RequestException:
            return KeyCheck("unreachable", "The provider could not be reached.")
        check = self.parse_validation(
            response.status_code, response.content, response.headers.get("Content-Type")
        )
        if check.reason:
            check = KeyCheck(check.status, http.redact(check.reason, key)[:500])
        return check

    @sensitive_variables()  # the key, its headers, and every frame below (requests, urllib3)
    def generate(
        self,
        *,
        key: str,
        model_id: str,
        prompt: str,
        options: dict,
        images: list[ImageInput] | tuple = (),
        mask: ImageInput | None = None,
    ) -> GenerationOutput:
        """Build, send once, parse. With `images` it is an edit (`build_edit_request`).
        Raises a `ProviderError` subclass on any failure."""
        if images:
            prepared = self.build_edit_request(
                key=key,
                model_id=model_id,
                prompt=prompt,
                options=options,
                images=list(images),
                mask=mask,
            )
        else:
            prepared = self.build_request(
                key=key, model_id=model_id, prompt=prompt, options=options
            )
        return self.request_images(
            prepared, key=key, max_images=max(int(options.get("count") or 1), 1)
        )

    @sensitive_variables()  # the key, its headers, and every frame below (requests, urllib3)
    def request_images(
        self, prepared: PreparedRequest, *, key: str, max_images: int
    ) -> GenerationOutput:
        """Send an image call (`prepared` carries `key`) and parse its answer: at most
        `max_images` images, or a `ProviderError` subclass with `key` scrubbed from it.

        Exactly one call: a read timeout becomes `ProviderTimeout` and is not retried, because
        the provider may have generated (and billed) the images already.
        """
        try:
            with timing.step("provider"):
                response = _send(prepared, timeout=http.generate_timeout())
        except http.PrivateAddressRefused as exc:
            raise PrivateNetworkRefused(
                gettext(
                    "The provider's API address is on a private network; Bambi does not call it."
                )
            ) from exc
        except http.ResponseTooLarge as exc:
            raise AnswerTooLarge() from exc
        except requests.Timeout as exc:
            raise ProviderTimeout() from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(gettext("The image provider could not be reached.")) from exc
        try:
            with timing.step("decode"):
                output = self.parse_response(
                    response.status_code,
                    response.content,
                    response.headers.get("Content-Type"),
                    max_images=max_images,
                )
        except ProviderError as exc:
            exc.scrub(key)
            if isinstance(exc, RateLimited):
                exc.retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            raise
        if len(output.images) > max_images:  # an adapter that did not stop early
            output = GenerationOutput(output.images[:max_images], output.cost_usd, output.usage)
        return output


def _send(prepared: PreparedRequest, *, timeout: Any) -> requests.Response:
    """One call through the outgoing-HTTP seam (timeouts, network guard, size cap)."""
    return http.request(
        prepared.method,
        prepared.url,
        headers=prepared.headers,
        json=prepared.json,
        data=prepared.data,
        files=prepared.files,
        timeout=timeout,
    )


# --- helpers shared by the adapters (reading and writing the wire: byok/providers/wire.py) --------


def download_image(url: Any, *, revised_prompt: str | None = None) -> ProviderImage:
    """Fetch an image the provider answered with a URL (they expire, so at once).

    Goes through `bambi.http.download`: no credential sent, http(s) only, size-capped.
    """
    if not isinstance(url, str) or not url:
        raise ProviderUnavailable(gettext("The provider sent an image without data."))
    try:
        data, content_type = http.download(url)
    except http.PrivateImageAddress as exc:
        raise PrivateNetworkRefused() from exc
    except http.DownloadError as exc:
        raise ProviderUnavailable(
            gettext("The generated image could not be downloaded: %(reason)s") % {"reason": exc}
        ) from exc
    mime = sniff_mime(data)
    if mime is None and content_type and content_type.lower().startswith("image/"):
        mime = content_type.split(";")[0].strip().lower()
    return ProviderImage(data=data, mime_type=mime, revised_prompt=revised_prompt)


def unreadable_answer(status: int) -> ProviderError:
    """The error for an answer that is not the JSON the provider documents (an HTML page from a
    proxy, a truncated body). A 429 keeps its meaning whatever the body looks like."""
    if status == 429:
        return RateLimited(provider_status=status)
    return ProviderUnavailable(
        gettext("The image provider sent an unreadable answer (HTTP %(status)s).")
        % {"status": status},
        provider_status=status,
    )


def error_for_status(status: int, message: str | None, **details: Any) -> ProviderError:
    """What an error answer means when its body says nothing more specific (sentry-style: by
    status). Adapters try their provider's codes and wording first, then fall back to this."""
    if status == 401:
        return InvalidKey(message, **details)
    if status == 429:
        return RateLimited(message, **details)
    if status == 408:
        return ProviderTimeout(message, **details)
    if 400 <= status < 500:
        return BadRequest(message, **details)
    return ProviderUnavailable(message, **details)


# A provider asking for more than an hour is not asking for a retry; the answer says nothing.
MAX_RETRY_AFTER = 3600


def retry_after_seconds(value: str | None) -> int | None:
    """A provider's Retry-After in whole seconds (the delay form; the date form and nonsense
    give None), passed on to Bambi's own client with the 429."""
    if value is None or not value.strip().isdigit():
        return None
    seconds = int(value.strip())
    return seconds if 0 < seconds <= MAX_RETRY_AFTER else None


def unreadable_validation(status: int) -> KeyCheck:
    return KeyCheck("unreachable", f"The provider sent an unexpected answer (HTTP {status}).")
