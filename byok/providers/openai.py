"""OpenAI Images API: `POST {base}/v1/images/generations` with `Authorization: Bearer <key>`.

Two model families with different rules (see /work/shared/providers.md):
- `gpt-image-*` always answers base64 and refuses `response_format` (400 unknown_parameter);
  it takes `output_format` and `background`.
- `dall-e-*` answers a URL unless asked for `b64_json`; `style` exists on dall-e-3 only.
Any other model id is treated like gpt-image: newer OpenAI image models follow that family, and a
URL answer is still handled (downloaded at once) if one comes back.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from byok.providers.base import (
    GenerationOutput,
    KeyCheck,
    PreparedRequest,
    ProviderAdapter,
    ProviderImage,
    decode_b64,
    download_image,
    json_safe,
    load_json,
    sniff_mime,
    text_of,
    unreadable_answer,
    unreadable_validation,
)
from byok.providers.errors import (
    BadRequest,
    ContentRefused,
    InvalidKey,
    OutOfCredit,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)

_REFUSAL_CODES = {"content_policy_violation", "moderation_blocked"}
_NO_CREDIT_CODES = {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active"}
_FORMAT_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def _is_dalle(model_id: str) -> bool:
    return model_id.startswith("dall-e")


class OpenAIAdapter(ProviderAdapter):
    slug = "openai"

    def _headers(self, key: str) -> dict:
        return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    # --- key validation --------------------------------------------------------------------------

    def validation_request(self, key: str) -> PreparedRequest:
        # Listing models is free and needs only a working key.
        return PreparedRequest("GET", f"{self.base_url}/v1/models", self._headers(key), None)

    def parse_validation(self, status: int, body: bytes, content_type: str | None) -> KeyCheck:
        if status == 200:
            return KeyCheck("valid")
        error = _error_fields(load_json(body))
        if status == 401:
            return KeyCheck(
                "invalid", text_of(error.get("message")) or gettext(InvalidKey.default_message)
            )
        if status == 403:
            # A restricted key (no "models: read" scope) or an unsupported region: the key
            # authenticates, so it is not invalid; generation will explain what it may not do.
            return KeyCheck("valid", text_of(error.get("message")))
        return unreadable_validation(status)

    # --- generation ------------------------------------------------------------------------------

    def build_request(
        self, *, key: str, model_id: str, prompt: str, options: dict
    ) -> PreparedRequest:
        body: dict[str, Any] = {
            "model": model_id,
            "prompt": prompt,
            "n": int(options.get("count") or 1),
        }
        for name in ("size", "quality"):
            if options.get(name):
                body[name] = options[name]
        if _is_dalle(model_id):
            body["response_format"] = "b64_json"
            if model_id == "dall-e-3" and options.get("style"):
                body["style"] = options["style"]
        else:
            for name in ("output_format", "background"):
                if options.get(name):
                    body[name] = options[name]
        return PreparedRequest(
            "POST", f"{self.base_url}/v1/images/generations", self._headers(key), body
        )

    def parse_response(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        *,
        max_images: int | None = None,
    ) -> GenerationOutput:
        payload = load_json(body)
        if payload is None:
            raise unreadable_answer(status)
        if status != 200:
            raise _classify_error(status, payload)
        items = payload.get("data")
        if not isinstance(items, list) or not items:
            raise ProviderUnavailable(
                gettext("The provider answered without any image."), provider_status=200
            )
        # gpt-image says the format once for the whole answer.
        declared_mime = _FORMAT_MIME.get(str(payload.get("output_format") or "").lower())
        images: list[ProviderImage] = []
        for item in items:
            if max_images is not None and len(images) >= max_images:
                break  # more than asked for: not decoded, not downloaded, not stored
            if not isinstance(item, dict):
                raise ProviderUnavailable(gettext("The provider sent an unreadable image entry."))
            revised = text_of(item.get("revised_prompt"))
            if item.get("b64_json"):
                data, _ = decode_b64(item["b64_json"])
                images.append(
                    ProviderImage(data, sniff_mime(data) or declared_mime, revised_prompt=revised)
                )
            elif item.get("url"):
                images.append(download_image(item["url"], revised_prompt=revised))
            else:
                raise ProviderUnavailable(gettext("The provider sent an image entry without data."))
        return GenerationOutput(images=images, usage=json_safe(payload.get("usage")))


def _error_fields(payload: dict | None) -> dict:
    """OpenAI errors: {"error": {"message", "type", "param", "code"}} -> that inner dict."""
    error = (payload or {}).get("error")
    if isinstance(error, dict):
        return {k: error.get(k) for k in ("message", "type", "param", "code")}
    if isinstance(error, str):  # some proxies flatten it
        return {"message": error}
    return {}


def _classify_error(status: int, payload: dict) -> ProviderError:
    error = _error_fields(payload)
    message = text_of(error.get("message"))
    code = str(error.get("code") or "")
    kind = str(error.get("type") or "")
    kwargs: dict[str, Any] = {"provider_status": status, "code": code or kind or None}

    if status == 401 or code == "invalid_api_key":
        return InvalidKey(message, **kwargs)
    if code in _NO_CREDIT_CODES or kind in _NO_CREDIT_CODES:
        return OutOfCredit(message, **kwargs)
    if status == 429:
        return RateLimited(message, **kwargs)
    if code in _REFUSAL_CODES or "safety system" in (message or "").lower():
        return ContentRefused(message, **kwargs)
    if status == 408:
        return ProviderTimeout(message, **kwargs)
    if 400 <= status < 500:
        # 400 invalid_size / unknown_parameter, 403 organisation not verified for a model,
        # 404 model_not_found: all "this request cannot work as it is".
        return BadRequest(message, **kwargs)
    return ProviderUnavailable(message, **kwargs)
