"""The one place Bambi talks HTTP to the outside world.

Every outgoing call (provider APIs, image downloads) goes through `request()` or `download()`, so
timeouts, the user agent, the no-retry rule and redirect handling live here and nowhere else.

Rules, and why:
- No call to a private network (SSRF): a provider answer, a redirect or an operator's base URL
  must not turn Bambi into a scanner of its own network. Every request, and every redirect hop,
  goes through `GuardedAdapter`: it resolves the host once, refuses loopback, private,
  link-local, CGNAT, unique-local, multicast, unspecified and reserved addresses (IPv4, IPv6 and
  IPv4 inside IPv6), then connects to exactly the address it checked (no second DNS lookup an
  attacker's resolver could answer differently). `PROVIDER_PRIVATE_HOSTS` (host:port pairs)
  lets local stand-ins through.
- Always a (connect, read) timeout: a hung provider must not hold a worker forever.
- No retries of any kind: a generation is paid by the user; re-sending a POST after a read
  timeout could bill them twice for one picture.
- API calls do not follow redirects: `requests` drops `Authorization` on a cross-host redirect but
  keeps custom headers such as `x-goog-api-key`, so a redirect could hand a key to another host.
- Downloads send no credential at all, accept http(s) only (checked again on every redirect),
  stop at a size cap and at a total deadline.
- Answers are read with a byte cap too (counted after gzip decoding) and a total deadline: a
  provider cannot make Bambi hold gigabytes or a worker forever.

The network guard is bambi/netguard.py, the redaction of keys in logs bambi/redaction.py
(`RedactSecretsFilter` is the logging filter that settings.LOGGING attaches to every handler).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.utils.translation import gettext

# The guard and the redaction live in their own modules; callers of this seam reach them here.
from bambi.netguard import (  # noqa: F401
    GuardedAdapter,
    PrivateAddressRefused,
    is_public_address,
    parse_host_port,
    private_hosts_allowed,
    vet_url,
)
from bambi.redaction import (  # noqa: F401
    REDACTED,
    RedactSecretsFilter,
    install_redaction,
    redact,
)

logger = logging.getLogger(__name__)

USER_AGENT = "Bambi/0.1"

CONNECT_TIMEOUT = 5.0
VALIDATE_READ_TIMEOUT = 10.0
GENERATE_READ_TIMEOUT = 120.0
DOWNLOAD_READ_TIMEOUT = 30.0
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
# Base64 answers: ~4/3 of the images. 64 MiB holds ten large PNGs; nothing legitimate is bigger.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_REDIRECTS = 3
_CHUNK = 256 * 1024

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


def response_max_bytes() -> int:
    return int(_setting("PROVIDER_MAX_RESPONSE_BYTES", MAX_RESPONSE_BYTES))


def session(pool_size: int = 1) -> requests.Session:
    """A `requests.Session` with Bambi's user agent, the network guard, no retries and no
    cookie jar. `pool_size`: connections kept open per host for reuse."""
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    # max_retries=0 is requests' default too; spelled out because retrying a paid POST is the
    # one mistake this module exists to prevent.
    guarded = GuardedAdapter(max_retries=0, pool_maxsize=pool_size)
    s.mount("https://", guarded)
    s.mount("http://", guarded)
    # Ignore proxy/netrc credentials from the environment: nothing but what we pass goes out
    # (and a proxy would connect to the address itself, past the guard).
    s.trust_env = False
    # No cookies kept: the session is shared by every user's calls (see `api_session`), and
    # a cookie a provider sets for one user's key must not travel with another's.
    s.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return s


_api_session: requests.Session | None = None
_api_session_lock = threading.Lock()


def api_session() -> requests.Session:
    """The session of every provider API call in this process: its connections to each
    provider stay open and are reused (a TLS handshake costs tens of milliseconds against a
    distant API), shared safely by the worker's threads (urllib3's pools are thread-safe;
    nothing per user is kept on it: headers travel with each request, cookies are refused).
    Made on first use, so a forking server never shares it between processes. Up to
    PROVIDER_POOL_SIZE idle connections per provider address (a burst may open more; those
    are closed after use)."""
    global _api_session
    if _api_session is None:
        with _api_session_lock:
            if _api_session is None:
                _api_session = session(pool_size=int(_setting("PROVIDER_POOL_SIZE", 64)))
    return _api_session


class ResponseTooLarge(requests.RequestException):
    """The answer's body went past the byte cap (counted after content decoding)."""


class ResponseTooSlow(requests.Timeout):
    """The answer's body took longer than the total deadline (a server dripping bytes)."""


def read_body(resp: requests.Response, *, max_bytes: int, deadline: float) -> bytes:
    """The body of a streamed response, decoded (gzip…), stopping past `max_bytes` or after
    `deadline` (time.monotonic()). Raises ResponseTooLarge / ResponseTooSlow."""
    declared = resp.headers.get("Content-Length")
    encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
    if declared and declared.isdigit() and int(declared) > max_bytes and not encoded:
        raise ResponseTooLarge(f"The answer declares {declared} bytes; the cap is {max_bytes}.")
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(f"The answer is larger than {max_bytes} bytes.")
        if time.monotonic() > deadline:
            raise ResponseTooSlow("The answer took too long to arrive.")
        chunks.append(chunk)
    return b"".join(chunks)


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    data: Mapping[str, str] | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    params: Mapping[str, str] | None = None,
    timeout: Timeout | None = None,
    max_bytes: int | None = None,
) -> requests.Response:
    """Send one request, once: with a timeout, without retries, without following redirects,
    to a public address only (see `GuardedAdapter`), and read at most `max_bytes` of answer.

    The body is `json`, or a multipart form of `data` fields and `files` parts
    (`(field name, (filename, bytes, content type))`, repeated names allowed: `image[]`);
    requests then writes the boundary into Content-Type and sends a Content-Length.

    `timeout` defaults to the short validation timeout; generation callers pass
    `generate_timeout()`. The body is read here, streamed, up to `max_bytes` (default
    PROVIDER_MAX_RESPONSE_BYTES) and within connect + 2 × read timeout in total, so
    `response.content` is safe to use. Raises `requests.RequestException` subclasses on network
    failure (`requests.Timeout` for timeouts, `PrivateAddressRefused`, `ResponseTooLarge`); any
    HTTP status is returned, not raised.
    """
    timeout = timeout or validate_timeout()
    max_bytes = response_max_bytes() if max_bytes is None else max_bytes
    deadline = time.monotonic() + timeout[0] + 2 * timeout[1]
    with api_session().request(
        method,
        url,
        headers=dict(headers or {}),
        json=json,
        data=data,
        files=files,
        params=params,
        timeout=timeout,
        allow_redirects=False,
        stream=True,
    ) as resp:
        body = read_body(resp, max_bytes=max_bytes, deadline=deadline)
    # What `Response.content` would have read; stored so callers use the capped copy.
    resp._content = body
    resp._content_consumed = True
    return resp


class DownloadError(Exception):
    """An image could not be fetched: bad URL, network error, non-2xx, too large, too slow."""


class PrivateImageAddress(DownloadError):
    """The image URL (or a redirect) points at a private network: refused, nothing fetched."""


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

    No credential or provider header is sent (only the user agent). Accepts http(s) to public
    addresses only, follows at most `MAX_REDIRECTS` redirects (each target checked again, by
    scheme and by address), streams the body and gives up past `max_bytes` or when the whole
    download takes longer than the read timeout times two. Every failure raises `DownloadError`
    (`PrivateImageAddress` for a private target; never a `requests` exception) with a message
    that does not include the URL: signed image URLs carry tokens of their own.
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
                    body = read_body(resp, max_bytes=max_bytes, deadline=deadline)
                    if not body:
                        raise DownloadError(gettext("The image host sent an empty answer."))
                    return body, resp.headers.get("Content-Type")
            raise DownloadError(gettext("The image URL redirected too many times."))
    except PrivateAddressRefused as exc:
        raise PrivateImageAddress(
            gettext("The image address is on a private network; Bambi does not fetch it.")
        ) from exc
    except ResponseTooLarge as exc:
        raise DownloadError(gettext("The image is larger than the download limit.")) from exc
    except ResponseTooSlow as exc:
        raise DownloadError(gettext("The image download took too long.")) from exc
    except requests.Timeout as exc:
        raise DownloadError(gettext("The image download timed out.")) from exc
    except requests.RequestException as exc:
        raise DownloadError(gettext("The image host could not be reached.")) from exc


# --- Stripe ---------------------------------------------------------------------------------------


def stripe_http_client():
    """The HTTP client of every Stripe call (stripe-python's global one, which dj-stripe uses
    too): explicit (connect, read) timeouts instead of the library's 80 s. Retries are
    stripe.max_network_retries (STRIPE_MAX_NETWORK_RETRIES), set beside it in billing.apps."""
    import stripe

    return stripe.RequestsClient(
        timeout=(
            float(_setting("STRIPE_CONNECT_TIMEOUT", 2.0)),
            float(_setting("STRIPE_READ_TIMEOUT", 5.0)),
        )
    )
