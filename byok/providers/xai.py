"""xAI image generation: `POST {base}/v1/images/generations` with `Authorization: Bearer <key>`.

OpenAI-shaped, with differences that matter (see /work/shared/providers.md):
- `size` and `style` are refused ("Argument not supported"); `aspect_ratio` and `resolution`
  take their place.
- `b64_json` may carry a `data:image/…;base64,` prefix; each item says its `mime_type`.
- The answer reports the exact cost: `usage.cost_in_usd_ticks` ($1 = 10^10 ticks).
- Moderation can be silent: 200 with empty `data`, or items with `respect_moderation: false`
  and no image.
- Errors are flat `{"code": "<status text>", "error": "<message>"}` and a bad key is a 400.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext, gettext_lazy

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


class XAIAdapter(ProviderAdapter):
    slug = "xai"

    def _headers(self, key: str) -> dict:
        return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    # --- key validation --------------------------------------------------------------------------

    def validation_request(self, key: str) -> PreparedRequest:
        # Describes the key itself (free), including whether it or its team is blocked.
        return PreparedRequest("GET", f"{self.base_url}/v1/api-key", self._headers(key), None)

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
            return KeyCheck("invalid", _message(payload) or gettext(InvalidKey.default_message))
        return unreadable_validation(status)

    # --- generation ------------------------------------------------------------------------------

    def build_request(
        self, *, key: str, model_id: str, prompt: str, options: dict
    ) -> PreparedRequest:
        body: dict[str, Any] = {
            "model": model_id,
            "prompt": prompt,
            "n": int(options.get("count") or 1),
            # URLs are short-lived and need a second fetch; base64 arrives with the answer.
            "response_format": "b64_json",
        }
        # `quality` selects a price tier on some models; the caller only passes it when the
        # model's capabilities list it. `size`/`style` are never sent: xAI refuses them.
        for name in ("aspect_ratio", "resolution", "quality"):
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
        if not isinstance(items, list):
            raise ProviderUnavailable(
                gettext("The provider answered without any image."), provider_status=200
            )
        images: list[ProviderImage] = []
        moderated = 0
        for item in items:
            if max_images is not None and len(images) >= max_images:
                break  # more than asked for: not decoded, not downloaded, not stored
            if not isinstance(item, dict):
                raise ProviderUnavailable(gettext("The provider sent an unreadable image entry."))
            if item.get("respect_moderation") is False:
                moderated += 1
                continue  # moderated slot: xAI leaves it empty
            revised = text_of(item.get("revised_prompt"))
            if item.get("b64_json"):
                data, prefix_mime = decode_b64(item["b64_json"])
                mime = sniff_mime(data) or text_of(item.get("mime_type")) or prefix_mime
                images.append(ProviderImage(data, mime, revised_prompt=revised))
            elif item.get("url"):
                images.append(download_image(item["url"], revised_prompt=revised))
            else:
                raise ProviderUnavailable(gettext("The provider sent an image entry without data."))
        if not images:
            # The documented silent refusal: 200 and nothing to show.
            raise ContentRefused(provider_status=200)
        usage = json_safe(payload.get("usage"))
        return GenerationOutput(
            images=images, cost_usd=_cost(usage), usage=usage, filtered=moderated
        )


def _cost(usage: dict) -> Decimal | None:
    ticks = usage.get("cost_in_usd_ticks")
    if isinstance(ticks, bool) or ticks is None:
        return None
    try:
        return Decimal(str(ticks)) / USD_TICKS
    except (InvalidOperation, ValueError):
        return None


def _message(payload: dict | None) -> str | None:
    if not payload:
        return None
    error = payload.get("error")
    if isinstance(error, dict):  # tolerate an OpenAI-shaped error too
        return text_of(error.get("message"))
    return text_of(error) or text_of(payload.get("message"))


def _classify_error(status: int, payload: dict) -> ProviderError:
    message = _message(payload)
    kwargs: dict[str, Any] = {"provider_status": status, "code": text_of(payload.get("code"))}

    if status == 401 or (status == 400 and _has(message, _KEY_WORDS)):
        return InvalidKey(message, **kwargs)
    if _has(message, _CREDIT_WORDS) and status in (400, 402, 403, 429):
        # "Your team … has either used all available credits or reached its monthly spending
        # limit" comes as 429 (and as 403 for a team that never bought credits).
        return OutOfCredit(message, **kwargs)
    if status == 429:
        return RateLimited(message, **kwargs)
    if status in (400, 403, 422) and _has(message, _REFUSAL_WORDS):
        return ContentRefused(message, **kwargs)
    if status == 403:
        # 403 is "blocked": the key, its team, or its access list forbids this call. Without
        # credit or moderation wording that is the key's problem, so the user must fix the key.
        return InvalidKey(message, **kwargs)
    if status == 408:
        return ProviderTimeout(message, **kwargs)
    if 400 <= status < 500:
        return BadRequest(message, **kwargs)  # 404 unknown model, 422 bad field, other 400
    return ProviderUnavailable(message, **kwargs)
