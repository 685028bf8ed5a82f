"""xAI image generation: `POST {base}/v1/images/generations` with `Authorization: Bearer <key>`.

OpenAI-compatible (`OpenAICompatibleAdapter`), with differences that matter:
- `size` and `style` are refused ("Argument not supported"); `aspect_ratio` and `resolution`
  take their place.
- `b64_json` may carry a `data:image/…;base64,` prefix; each item says its `mime_type`.
- The answer reports the exact cost: `usage.cost_in_usd_ticks` ($1 = 10^10 ticks).
- Moderation can be silent: 200 with empty `data`, or items with `respect_moderation: false`
  and no image.
- Errors are flat `{"code": "<status text>", "error": "<message>"}` and a bad key is a 400.
- A key is checked with `GET /v1/api-key`, which says whether the key or its team is blocked.
- Edits are `POST {base}/v1/images/edits` in JSON, not multipart (the OpenAI SDK's multipart
  edit call fails there): one input image as `image: {"url": "data:…;base64,…"}`, several as
  `images: [{"url": …}, …]` (the prompt may name them <IMAGE_0>, <IMAGE_1>…). No mask.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext, gettext_lazy

from byok.providers.base import (
    ImageInput,
    KeyCheck,
    PreparedRequest,
    data_url,
    error_for_status,
    given_options,
    load_json,
    text_of,
    unreadable_validation,
)
from byok.providers.errors import (
    BadRequest,
    ContentRefused,
    InvalidKey,
    OutOfCredit,
    ProviderError,
    RateLimited,
)
from byok.providers.openai import OpenAICompatibleAdapter

USD_TICKS = Decimal(10) ** 10
_BLOCK_FLAGS = ("api_key_blocked", "api_key_disabled", "team_blocked")
# What each flag of GET /v1/api-key means, said to the user in a sentence.
_BLOCK_SENTENCES = {
    "api_key_blocked": gettext_lazy("xAI has blocked this key."),
    "api_key_disabled": gettext_lazy("This key is disabled in the xAI console."),
    "team_blocked": gettext_lazy("xAI has blocked the team this key belongs to."),
}
# xAI states its reasons in prose only, so the wording is all there is to classify on.
_KEY_WORDS = ("api key", "api-key", "apikey")
_CREDIT_WORDS = ("credit", "spending limit", "billing", "license", "purchase")
_REFUSAL_WORDS = ("moderation", "content policy", "safety", "not allowed", "usage guidelines")


def _has(message: str | None, words: tuple[str, ...]) -> bool:
    lowered = (message or "").lower()
    return any(word in lowered for word in words)


class XAIAdapter(OpenAICompatibleAdapter):
    slug = "xai"
    validation_path = "/v1/api-key"  # describes the key itself (free), blocked or not

    # --- key validation --------------------------------------------------------------------------

    def parse_validation(self, status: int, body: bytes, content_type: str | None) -> KeyCheck:
        payload = load_json(body)
        if status == 200:
            if payload is None:
                return unreadable_validation(status)
            blocked = [flag for flag in _BLOCK_FLAGS if payload.get(flag) is True]
            if blocked:
                return KeyCheck("invalid", " ".join(str(_BLOCK_SENTENCES[f]) for f in blocked))
            return KeyCheck("valid")
        if status in (400, 401, 403):
            message = self.error_fields(payload)["message"]
            return KeyCheck("invalid", message or gettext(InvalidKey.default_message))
        return unreadable_validation(status)

    # --- generation ------------------------------------------------------------------------------

    def generation_fields(self, model_id: str, options: dict) -> dict:
        # URLs are short-lived and need a second fetch; base64 arrives with the answer.
        # `quality` selects a price tier on some models; the caller only passes it when the
        # model's capabilities list it. `size`/`style` are never sent: xAI refuses them.
        return {
            "response_format": "b64_json",
            **given_options(options, "aspect_ratio", "resolution", "quality"),
        }

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
        if mask is not None:
            raise BadRequest(gettext("xAI's image models do not take a mask."))
        sources = [{"url": data_url(image.data, image.mime_type)} for image in images]
        body: dict[str, Any] = {
            "model": model_id,
            "prompt": prompt,
            "n": int(options.get("count") or 1),
            **self.generation_fields(model_id, options),
        }
        if len(sources) == 1:
            body["image"] = sources[0]
        else:
            body["images"] = sources
        return PreparedRequest("POST", self.base_url + self.edits_path, self.headers(key), body)

    def is_withheld(self, item: dict) -> bool:
        return item.get("respect_moderation") is False  # moderated slot: xAI leaves it empty

    def image_mime(self, item: dict, payload: dict, prefix_mime: str | None) -> str | None:
        return text_of(item.get("mime_type")) or prefix_mime

    def no_image_error(self) -> ContentRefused:
        # The documented silent refusal: 200 and nothing to show.
        return ContentRefused(provider_status=200)

    def cost(self, usage: dict) -> Decimal | None:
        ticks = usage.get("cost_in_usd_ticks")
        if isinstance(ticks, bool) or ticks is None:
            return None
        try:
            return Decimal(str(ticks)) / USD_TICKS
        except (InvalidOperation, ValueError):
            return None

    # --- errors ----------------------------------------------------------------------------------

    def error_fields(self, payload: dict | None) -> dict:
        """{"code": "<status text>", "error": "<message>"} -> message and code."""
        payload = payload or {}
        error = payload.get("error")
        if isinstance(error, dict):  # tolerate an OpenAI-shaped error too
            message = text_of(error.get("message"))
        else:
            message = text_of(error) or text_of(payload.get("message"))
        return {"message": message, "code": text_of(payload.get("code"))}

    def classify_error(self, status: int, payload: dict) -> ProviderError:
        error = self.error_fields(payload)
        message = error["message"]
        details: dict[str, Any] = {"provider_status": status, "code": error["code"]}

        if status == 401 or (status == 400 and _has(message, _KEY_WORDS)):
            return InvalidKey(message, **details)
        if _has(message, _CREDIT_WORDS) and status in (400, 402, 403, 429):
            # "Your team … has either used all available credits or reached its monthly spending
            # limit" comes as 429 (and as 403 for a team that never bought credits).
            return OutOfCredit(message, **details)
        if status == 429:
            return RateLimited(message, **details)
        if status in (400, 403, 422) and _has(message, _REFUSAL_WORDS):
            return ContentRefused(message, **details)
        if status == 403:
            # 403 is "blocked": the key, its team, or its access list forbids this call. Without
            # credit or moderation wording that is the key's problem, so the user must fix the key.
            return InvalidKey(message, **details)
        return error_for_status(status, message, **details)  # 404 unknown model, 422 bad field
