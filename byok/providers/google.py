"""Google Gemini API (generativelanguage), with the key in `x-goog-api-key`.

The key never goes in the URL (`?key=`): URLs end up in access logs and tracebacks.

Two model families behind one key:
- Gemini image models (`gemini-*`, "Nano Banana"): `:generateContent`, images come back as
  `inlineData` parts next to text parts; a safety stop or a text-only answer is a refusal.
  Edits are the same call with the input images as `inline_data` parts before the text.
- Imagen (everything else): `:predict`. `sampleCount` defaults to 4 when left out, which would
  bill four images, so it is always sent. Filtered images come back as `raiFilteredReason`
  entries (not charged) and an all-filtered answer can be an empty object.
Vertex AI needs OAuth, not an API key, so it is not what this adapter speaks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pybase64
from django.utils.translation import gettext

from byok.providers.base import (
    GenerationOutput,
    ImageInput,
    KeyCheck,
    PreparedRequest,
    ProviderAdapter,
    ProviderImage,
    decode_b64,
    error_for_status,
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

# Finish reasons that mean "stopped by a safety or policy filter" (generateContent).
_REFUSAL_FINISH_REASONS = {
    "SAFETY",
    "IMAGE_SAFETY",
    "PROHIBITED_CONTENT",
    "IMAGE_PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "RECITATION",
    "IMAGE_RECITATION",
}
_INVALID_KEY_REASONS = {"API_KEY_INVALID", "API_KEY_EXPIRED"}
# Imagen reports a blocked prompt as a plain 400 INVALID_ARGUMENT; only the wording tells.
_REFUSAL_WORDS = ("responsible ai", "may violate our policies", "sensitive words", "safety")
# 429 RESOURCE_EXHAUSTED: "You exceeded your current quota, please check your plan and billing
# details" is what a spent free tier, a daily quota or a model the free tier does not include
# ("limit: 0") answers, and Google gives the same words for its per-minute quotas: the key's
# plan is what limits it, so the user is told to look at the plan and billing, not to wait.
_NO_CREDIT_WORDS = (
    "plan and billing",
    "billing details",
    "exceeded your current quota",
    "limit: 0",
)


def _is_gemini(model_id: str) -> bool:
    return model_id.startswith("gemini")


def _b64(data: bytes) -> str:
    return pybase64.b64encode(data).decode("ascii")


class GoogleAdapter(ProviderAdapter):
    slug = "google"

    def _headers(self, key: str) -> dict:
        return {"x-goog-api-key": key, "Content-Type": "application/json"}

    def _model_url(self, model_id: str, method: str) -> str:
        # Accept "models/imagen-…" as well as "imagen-…"; quote so an operator's typo cannot
        # change the path.
        name = model_id.removeprefix("models/")
        return f"{self.base_url}/v1beta/models/{quote(name, safe='.-_')}:{method}"

    # --- key validation --------------------------------------------------------------------------

    def validation_request(self, key: str) -> PreparedRequest:
        return PreparedRequest(
            "GET", f"{self.base_url}/v1beta/models?pageSize=1", self._headers(key), None
        )

    def parse_validation(self, status: int, body: bytes, content_type: str | None) -> KeyCheck:
        payload = load_json(body)
        if status == 200:
            return KeyCheck("valid") if payload is not None else unreadable_validation(status)
        error = _error_fields(payload)
        if status in (401, 403) or error["reasons"] & _INVALID_KEY_REASONS:
            return KeyCheck("invalid", error["message"] or gettext(InvalidKey.default_message))
        return unreadable_validation(status)

    # --- generation ------------------------------------------------------------------------------

    def build_request(
        self, *, key: str, model_id: str, prompt: str, options: dict
    ) -> PreparedRequest:
        if _is_gemini(model_id):
            return self._generate_content(key, model_id, prompt, options, images=[])
        parameters: dict[str, Any] = {"sampleCount": int(options.get("count") or 1)}
        if options.get("aspect_ratio"):
            parameters["aspectRatio"] = options["aspect_ratio"]
        if options.get("resolution"):
            parameters["sampleImageSize"] = options["resolution"]
        if options.get("person_generation"):
            parameters["personGeneration"] = options["person_generation"]
        body = {"instances": [{"prompt": prompt}], "parameters": parameters}
        url = self._model_url(model_id, "predict")
        return PreparedRequest("POST", url, self._headers(key), body)

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
        if not _is_gemini(model_id) or mask is not None:
            # Imagen's editing was always Vertex-only; Gemini edits are prompt-only (no mask).
            return super().build_edit_request(
                key=key, model_id=model_id, prompt=prompt, options=options, images=images
            )
        return self._generate_content(key, model_id, prompt, options, images=images)

    def _generate_content(
        self, key: str, model_id: str, prompt: str, options: dict, *, images: list[ImageInput]
    ) -> PreparedRequest:
        """`:generateContent`: the input images as `inline_data` parts before the text part
        (the order Google's own samples use; several images compose), then the text."""
        generation_config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
        image_config: dict[str, Any] = {}
        if options.get("aspect_ratio"):
            image_config["aspectRatio"] = options["aspect_ratio"]
        if options.get("resolution"):
            image_config["imageSize"] = options["resolution"]
        if image_config:
            generation_config["imageConfig"] = image_config
        parts: list[dict] = [
            {"inline_data": {"mime_type": image.mime_type, "data": _b64(image.data)}}
            for image in images
        ]
        parts.append({"text": prompt})
        body = {"contents": [{"parts": parts}], "generationConfig": generation_config}
        url = self._model_url(model_id, "generateContent")
        return PreparedRequest("POST", url, self._headers(key), body)

    def parse_output(self, payload: dict, *, max_images: int | None = None) -> GenerationOutput:
        # The answer's shape says which API answered; the parser does not get the model.
        if "candidates" in payload or "promptFeedback" in payload:
            return _parse_generate_content(payload, max_images)
        return _parse_predict(payload, max_images)

    # --- errors ----------------------------------------------------------------------------------

    def classify_error(self, status: int, payload: dict) -> ProviderError:
        error = _error_fields(payload)
        message = error["message"]
        lowered = (message or "").lower()
        details: dict[str, Any] = {
            "provider_status": status,
            "code": next(iter(sorted(error["reasons"])), None) or error["status"] or None,
        }

        if error["reasons"] & _INVALID_KEY_REASONS or status in (401, 403):
            # 400 API_KEY_INVALID (bad key), 401 UNAUTHENTICATED, 403 PERMISSION_DENIED (no key,
            # or a key restricted away from this API).
            return InvalidKey(message, **details)
        if status == 400 and "billed users" in lowered:
            # "Imagen API is only accessible to billed users at this time.": the key works, the
            # project behind it has no billing.
            return OutOfCredit(message, **details)
        if status == 429:
            return (OutOfCredit if _quota_spent(error) else RateLimited)(message, **details)
        if status == 400 and any(word in lowered for word in _REFUSAL_WORDS):
            return ContentRefused(message, **details)
        # 400 INVALID_ARGUMENT, 404 NOT_FOUND (a retired model): BadRequest; 5xx: unavailable.
        return error_for_status(status, message, **details)


def _parse_generate_content(payload: dict, max_images: int | None = None) -> GenerationOutput:
    usage = json_safe(payload.get("usageMetadata"))
    feedback = payload.get("promptFeedback")
    block_reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
    candidates = payload.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        if block_reason:
            raise ContentRefused(
                text_of(feedback.get("blockReasonMessage")) if isinstance(feedback, dict) else None,
                provider_status=200,
                code=str(block_reason),
            )
        raise ProviderUnavailable(
            gettext("The provider answered without any image."), provider_status=200
        )

    images: list[ProviderImage] = []
    texts: list[str] = []
    finish_reasons: list[str] = []
    for candidate in candidates:
        if not isinstance(candidate, dict):
            continue
        if candidate.get("finishReason"):
            finish_reasons.append(str(candidate["finishReason"]))
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else []:
            if not isinstance(part, dict) or part.get("thought"):
                continue  # "thinking" drafts are not the answer
            inline = part.get("inlineData")
            if isinstance(inline, dict) and inline.get("data"):
                if max_images is not None and len(images) >= max_images:
                    continue  # more than asked for: not decoded, not stored
                data, _ = decode_b64(inline["data"])
                images.append(
                    ProviderImage(data, sniff_mime(data) or text_of(inline.get("mimeType")))
                )
            elif text_of(part.get("text")):
                texts.append(part["text"].strip())
    if images:
        return GenerationOutput(images=images, usage=usage)
    refusal = next((r for r in finish_reasons if r in _REFUSAL_FINISH_REASONS), None)
    # No image part at all is a refusal too: the model explains itself in the text part.
    raise ContentRefused(
        " ".join(texts) or None,
        provider_status=200,
        code=refusal or (finish_reasons[0] if finish_reasons else None),
    )


def _parse_predict(payload: dict, max_images: int | None = None) -> GenerationOutput:
    predictions = payload.get("predictions")
    if predictions is not None and not isinstance(predictions, list):
        raise ProviderUnavailable(
            gettext("The provider sent an unreadable answer."), provider_status=200
        )
    images: list[ProviderImage] = []
    filtered: list[str] = []
    for prediction in predictions or []:
        if not isinstance(prediction, dict):
            continue
        if prediction.get("bytesBase64Encoded"):
            if max_images is not None and len(images) >= max_images:
                continue  # more than asked for: not decoded, not stored
            data, _ = decode_b64(prediction["bytesBase64Encoded"])
            mime = sniff_mime(data) or text_of(prediction.get("mimeType"))
            images.append(ProviderImage(data, mime))
        elif text_of(prediction.get("raiFilteredReason")):
            filtered.append(prediction["raiFilteredReason"].strip())
    if not images:
        # All filtered, or `{}` (what Imagen sends when every image was filtered silently).
        raise ContentRefused(" ".join(dict.fromkeys(filtered)) or None, provider_status=200)
    usage: dict[str, Any] = {"images": len(images)}
    if filtered:
        usage["filtered"] = len(filtered)  # not charged by Google
    return GenerationOutput(images=images, usage=usage, filtered=len(filtered))


def _error_fields(payload: dict | None) -> dict:
    """{"error": {"code", "message", "status", "details": [{"reason"}…]}} -> flat fields."""
    error = (payload or {}).get("error")
    error = error if isinstance(error, dict) else {}
    raw = error.get("details")
    details = [d for d in raw if isinstance(d, dict)] if isinstance(raw, list) else []
    reasons = {str(d.get("reason")) for d in details if d.get("reason")}
    violations = [
        v
        for d in details
        if str(d.get("@type", "")).endswith("QuotaFailure")
        and isinstance(d.get("violations"), list)
        for v in d["violations"]
        if isinstance(v, dict)
    ]
    return {
        "message": text_of(error.get("message")),
        "status": str(error.get("status") or ""),
        "reasons": reasons,
        "violations": violations,
    }


def _quota_spent(error: dict) -> bool:
    """Whether a 429 means "out of credit" (billing needed) rather than "too fast"."""
    violations = error["violations"]
    if any(str(v.get("quotaValue")) == "0" for v in violations):
        return True  # the free tier does not include this model at all
    lowered = (error["message"] or "").lower()
    return any(words in lowered for words in _NO_CREDIT_WORDS)
