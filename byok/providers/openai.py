"""OpenAI Images API: `POST {base}/v1/images/generations` with `Authorization: Bearer <key>`.

`OpenAICompatibleAdapter` speaks the dialect that OpenAI published and others copied (xAI):
bearer key, `{"model", "prompt", "n", …}` in, `{"data": [{"b64_json" | "url",
"revised_prompt"?}], "usage"?}` out, errors as `{"error": {"message", "type", "param", "code"}}`,
a key checked by listing models. A provider that copied it subclasses it and overrides what
differs (see xai.py).

`OpenAIAdapter` adds OpenAI's two model families, with different rules:
- `gpt-image-*` always answers base64 and refuses `response_format` (400 unknown_parameter);
  it takes `output_format` and `background`.
- `dall-e-*` answers a URL unless asked for `b64_json`; `style` exists on dall-e-3 only.
Any other model id is treated like gpt-image: newer OpenAI image models follow that family, and a
URL answer is still handled (downloaded at once) if one comes back.
"""

from __future__ import annotations

from decimal import Decimal
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
    error_for_status,
    given_options,
    json_safe,
    load_json,
    sniff_mime,
    text_of,
    unreadable_validation,
)
from byok.providers.errors import (
    ContentRefused,
    InvalidKey,
    OutOfCredit,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)

_REFUSAL_CODES = {"content_policy_violation", "moderation_blocked"}
_NO_CREDIT_CODES = {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active"}
_FORMAT_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class OpenAICompatibleAdapter(ProviderAdapter):
    """The OpenAI Images dialect. Not registered itself: providers subclass it.

    Hooks a subclass overrides where its provider differs: `validation_path` and
    `parse_validation`, `generation_fields`, `is_withheld`, `image_mime`, `no_image_error`,
    `cost`, `error_fields`, `classify_error`.
    """

    generations_path: str = "/v1/images/generations"
    validation_path: str = "/v1/models"  # listing models is free and needs only a working key

    def headers(self, key: str) -> dict:
        return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    # --- key validation --------------------------------------------------------------------------

    def validation_request(self, key: str) -> PreparedRequest:
        return PreparedRequest("GET", self.base_url + self.validation_path, self.headers(key), None)

    def parse_validation(self, status: int, body: bytes, content_type: str | None) -> KeyCheck:
        if status == 200:
            return KeyCheck("valid")
        message = text_of(self.error_fields(load_json(body)).get("message"))
        if status == 401:
            return KeyCheck("invalid", message or gettext(InvalidKey.default_message))
        if status == 403:
            # A restricted key (no "models: read" scope) or an unsupported region: the key
            # authenticates, so it is not invalid; generation will explain what it may not do.
            return KeyCheck("valid", message)
        return unreadable_validation(status)

    # --- generation ------------------------------------------------------------------------------

    def build_request(
        self, *, key: str, model_id: str, prompt: str, options: dict
    ) -> PreparedRequest:
        body: dict[str, Any] = {
            "model": model_id,
            "prompt": prompt,
            "n": int(options.get("count") or 1),
            **self.generation_fields(model_id, options),
        }
        return PreparedRequest(
            "POST", self.base_url + self.generations_path, self.headers(key), body
        )

    def generation_fields(self, model_id: str, options: dict) -> dict:
        """The body fields after model, prompt and n: only those this model accepts."""
        raise NotImplementedError

    def parse_output(self, payload: dict, *, max_images: int | None = None) -> GenerationOutput:
        items = payload.get("data")
        if not isinstance(items, list):
            raise ProviderUnavailable(
                gettext("The provider answered without any image."), provider_status=200
            )
        images: list[ProviderImage] = []
        withheld = 0
        for item in items:
            if max_images is not None and len(images) >= max_images:
                break  # more than asked for: not decoded, not downloaded, not stored
            if not isinstance(item, dict):
                raise ProviderUnavailable(gettext("The provider sent an unreadable image entry."))
            if self.is_withheld(item):
                withheld += 1
                continue
            images.append(self.image_from_item(item, payload))
        if not images:
            raise self.no_image_error()
        usage = json_safe(payload.get("usage"))
        return GenerationOutput(
            images=images, cost_usd=self.cost(usage), usage=usage, filtered=withheld
        )

    def image_from_item(self, item: dict, payload: dict) -> ProviderImage:
        """One `data` entry -> the image (its base64 decoded, or its URL downloaded)."""
        revised = text_of(item.get("revised_prompt"))
        if item.get("b64_json"):
            data, prefix_mime = decode_b64(item["b64_json"])
            mime = sniff_mime(data) or self.image_mime(item, payload, prefix_mime)
            return ProviderImage(data, mime, revised_prompt=revised)
        if item.get("url"):
            return download_image(item["url"], revised_prompt=revised)
        raise ProviderUnavailable(gettext("The provider sent an image entry without data."))

    def is_withheld(self, item: dict) -> bool:
        """Whether a `data` entry is a slot the provider's moderation left empty (not an error)."""
        return False

    def image_mime(self, item: dict, payload: dict, prefix_mime: str | None) -> str | None:
        """The type of a base64 image whose bytes do not say it: gpt-image states its
        `output_format` once for the whole answer."""
        return _FORMAT_MIME.get(str(payload.get("output_format") or "").lower())

    def no_image_error(self) -> ProviderError:
        """A 200 without any image."""
        return ProviderUnavailable(
            gettext("The provider answered without any image."), provider_status=200
        )

    def cost(self, usage: dict) -> Decimal | None:
        """The exact cost when the answer states it; OpenAI reports tokens, not money."""
        return None

    # --- errors ----------------------------------------------------------------------------------

    def error_fields(self, payload: dict | None) -> dict:
        """{"error": {"message", "type", "param", "code"}} -> that inner dict."""
        error = (payload or {}).get("error")
        if isinstance(error, dict):
            return {k: error.get(k) for k in ("message", "type", "param", "code")}
        if isinstance(error, str):  # some proxies flatten it
            return {"message": error}
        return {}

    def classify_error(self, status: int, payload: dict) -> ProviderError:
        error = self.error_fields(payload)
        message = text_of(error.get("message"))
        code = str(error.get("code") or "")
        kind = str(error.get("type") or "")
        details: dict[str, Any] = {"provider_status": status, "code": code or kind or None}

        if status == 401 or code == "invalid_api_key":
            return InvalidKey(message, **details)
        if code in _NO_CREDIT_CODES or kind in _NO_CREDIT_CODES:
            return OutOfCredit(message, **details)
        if status == 429:
            return RateLimited(message, **details)
        if code in _REFUSAL_CODES or "safety system" in (message or "").lower():
            return ContentRefused(message, **details)
        # 400 invalid_size / unknown_parameter, 403 organisation not verified for a model,
        # 404 model_not_found: all "this request cannot work as it is" (BadRequest).
        return error_for_status(status, message, **details)


class OpenAIAdapter(OpenAICompatibleAdapter):
    slug = "openai"

    def generation_fields(self, model_id: str, options: dict) -> dict:
        if model_id.startswith("dall-e"):
            fields = given_options(options, "size", "quality")
            fields["response_format"] = "b64_json"
            if model_id == "dall-e-3" and options.get("style"):
                fields["style"] = options["style"]
            return fields
        fields = given_options(options, "size", "quality", "output_format", "background")
        if options.get("output_compression") is not None:  # 0 is a level too
            fields["output_compression"] = int(options["output_compression"])
        return fields
