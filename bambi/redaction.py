"""Keys and tokens out of logs and error texts: `redact` and the logging filter on handlers.

A key-looking string (a vendor prefix, a header or parameter that carries a key, a long
base64-ish token) becomes "[REDACTED]"; canonical UUIDs (Bambi's own ids) stay readable.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"

_SECRET_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # "Bearer <token>" (Authorization headers printed in a debug line or a repr).
    (re.compile(r"(?i)\b(bearer\s+)[^\s'\",;]+"), r"\1" + REDACTED),
    # Header/param spellings that carry a key whatever its shape.
    (
        re.compile(
            r"(?i)((?:x-goog-api-key|api[_-]?key|authorization)['\"]?\s*[:=]\s*['\"]?)"
            r"(?!\[REDACTED\]|bearer\b)[^\s'\",&;}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)([?&]key=)[^&\s'\"]+"), r"\1" + REDACTED),
    # Vendor key prefixes: OpenAI sk-..., xAI xai-..., Google AIza....
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), REDACTED),
    (re.compile(r"\bxai-[A-Za-z0-9_\-]{8,}"), REDACTED),
    (re.compile(r"\bAIza[A-Za-z0-9_\-]{20,}"), REDACTED),
    # Bambi's own personal API tokens, bmb_... (43 characters after the prefix; the 8 that
    # the token pages show as its prefix stay readable).
    (re.compile(r"(?<![A-Za-z0-9])bmb_[A-Za-z0-9_\-]{16,}"), REDACTED),
]

# Anything else long and base64-ish. Needs a letter and a digit so long words, paths and slugs
# survive; canonical UUIDs (our own primary keys) survive too - they are identifiers, not secrets.
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9+_\-])[A-Za-z0-9+_\-]{32,}={0,2}(?![A-Za-z0-9+_\-])")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _redact_long_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if _UUID.match(token):
        return token
    if not (re.search(r"[A-Za-z]", token) and re.search(r"[0-9]", token)):
        return token
    return REDACTED


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every key-looking substring replaced by "[REDACTED]".

    Pass the secrets you know of (the key of the current call) to remove them whatever their
    shape; the patterns catch the rest.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return _LONG_TOKEN.sub(_redact_long_token, text)


class RedactSecretsFilter(logging.Filter):
    """Logging filter that rewrites a record so no key-looking string reaches a handler.

    The message is formatted with its args first (a key is as likely to hide in an arg as in the
    format string), then redacted; the traceback and stack text are redacted too. It never drops
    a record. Attach it to handlers (a filter on a logger does not see records propagated from
    child loggers), as settings.LOGGING does:

        "filters": {"redact_secrets": {"()": "bambi.redaction.RedactSecretsFilter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]}},
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Attach a `RedactSecretsFilter` to every handler of `logger` (default: the root logger).

    For code that configures logging by hand (scripts, a shell); Django does it through LOGGING.
    """
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactSecretsFilter) for f in handler.filters):
            handler.addFilter(RedactSecretsFilter())
