"""The one place Bambi talks HTTP to the outside world.

Every outgoing call (provider APIs, image downloads) goes through `request()` or `download()`, so
timeouts, the user agent, the no-retry rule and redirect handling live here and nowhere else.

Rules, and why:
- Always a (connect, read) timeout: a hung provider must not hold a worker forever.
- No retries of any kind: a generation is paid by the user; re-sending a POST after a read
  timeout could bill them twice for one picture.
- API calls do not follow redirects: `requests` drops `Authorization` on a cross-host redirect but
  keeps custom headers such as `x-goog-api-key`, so a redirect could hand a key to another host.
- Downloads send no credential at all, accept http(s) only (checked again on every redirect),
  stop at a size cap and at a total deadline.

`RedactSecretsFilter` is the logging filter that settings.LOGGING attaches to every handler.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.utils.translation import gettext
from requests.adapters import HTTPAdapter

USER_AGENT = "Bambi/0.1"

CONNECT_TIMEOUT = 5.0
VALIDATE_READ_TIMEOUT = 10.0
GENERATE_READ_TIMEOUT = 120.0
DOWNLOAD_READ_TIMEOUT = 30.0
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 3
_CHUNK = 64 * 1024

Timeout = tuple[float, float]


def _setting(name: str, default: Any) -> Any:
    """A Django setting when Django is configured, else `default` (keeps this module importable
    from plain scripts and from tests that run without settings)."""
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:  # pragma: no cover - Django is a hard dependency of the project
        return default
    try:
        return getattr(settings, name, default)
    except ImproperlyConfigured:
        return default


def validate_timeout() -> Timeout:
    """(connect, read) for cheap key checks: a slow answer there is as good as no answer."""
    return (_setting("PROVIDER_CONNECT_TIMEOUT", CONNECT_TIMEOUT), VALIDATE_READ_TIMEOUT)


def generate_timeout() -> Timeout:
    """(connect, read) for a generation: image models can take a minute or more to answer."""
    return (
        _setting("PROVIDER_CONNECT_TIMEOUT", CONNECT_TIMEOUT),
        _setting("PROVIDER_READ_TIMEOUT", GENERATE_READ_TIMEOUT),
    )


def download_timeout() -> Timeout:
    """(connect, read) for fetching an image a provider pointed us to."""
    return (_setting("PROVIDER_CONNECT_TIMEOUT", CONNECT_TIMEOUT), DOWNLOAD_READ_TIMEOUT)


def download_max_bytes() -> int:
    return int(_setting("IMAGE_DOWNLOAD_MAX_BYTES", MAX_DOWNLOAD_BYTES))


def session() -> requests.Session:
    """A fresh `requests.Session` with Bambi's user agent and retries switched off.

    A new session per call keeps threads from sharing connection pools and cookies; the cost
    (one TCP+TLS handshake) is nothing next to an image generation.
    """
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    # max_retries=0 is requests' default too; spelled out because retrying a paid POST is the
    # one mistake this module exists to prevent.
    no_retry = HTTPAdapter(max_retries=0)
    s.mount("https://", no_retry)
    s.mount("http://", no_retry)
    # Ignore proxy/netrc credentials from the environment: nothing but what we pass goes out.
    s.trust_env = False
    return s


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    params: Mapping[str, str] | None = None,
    timeout: Timeout | None = None,
) -> requests.Response:
    """Send one request, once: with a timeout, without retries, without following redirects.

    `timeout` defaults to the short validation timeout; generation callers pass
    `generate_timeout()`. Raises `requests.RequestException` subclasses on network failure
    (`requests.Timeout` for connect/read timeouts); any HTTP status is returned, not raised.
    """
    with session() as s:
        return s.request(
            method,
            url,
            headers=dict(headers or {}),
            json=json,
            params=params,
            timeout=timeout or validate_timeout(),
            allow_redirects=False,
        )


class DownloadError(Exception):
    """An image could not be fetched: bad URL, network error, non-2xx, too large, too slow."""


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadError(gettext("Only http and https image URLs are accepted."))


def download(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: Timeout | None = None,
) -> tuple[bytes, str | None]:
    """Fetch `url` and return `(body, content_type)`.

    No credential or provider header is sent (only the user agent). Accepts http(s) only, follows
    at most `MAX_REDIRECTS` redirects (each target checked again), streams the body and gives up
    past `max_bytes` or when the whole download takes longer than the read timeout times two.
    Every failure raises `DownloadError` (never a `requests` exception) with a message that does
    not include the URL: signed image URLs carry tokens of their own.
    """
    max_bytes = download_max_bytes() if max_bytes is None else max_bytes
    timeout = timeout or download_timeout()
    # A per-read timeout alone lets a server drip one byte every few seconds forever.
    deadline = time.monotonic() + timeout[0] + 2 * timeout[1]
    try:
        with session() as s:
            for _hop in range(MAX_REDIRECTS + 1):
                _check_url(url)
                with s.get(url, timeout=timeout, stream=True, allow_redirects=False) as resp:
                    if resp.is_redirect:
                        location = resp.headers.get("Location", "")
                        url = urljoin(url, location)
                        continue
                    if not 200 <= resp.status_code < 300:
                        raise DownloadError(
                            gettext("The image host answered HTTP %(status)s.")
                            % {"status": resp.status_code}
                        )
                    declared = resp.headers.get("Content-Length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise DownloadError(gettext("The image is larger than the download limit."))
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in resp.iter_content(_CHUNK):
                        size += len(chunk)
                        if size > max_bytes:
                            raise DownloadError(
                                gettext("The image is larger than the download limit.")
                            )
                        if time.monotonic() > deadline:
                            raise DownloadError(gettext("The image download took too long."))
                        chunks.append(chunk)
                    if size == 0:
                        raise DownloadError(gettext("The image host sent an empty answer."))
                    return b"".join(chunks), resp.headers.get("Content-Type")
            raise DownloadError(gettext("The image URL redirected too many times."))
    except requests.Timeout as exc:
        raise DownloadError(gettext("The image download timed out.")) from exc
    except requests.RequestException as exc:
        raise DownloadError(gettext("The image host could not be reached.")) from exc


# --- redaction -----------------------------------------------------------------------------------

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

        "filters": {"redact_secrets": {"()": "bambi.http.RedactSecretsFilter"}},
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
