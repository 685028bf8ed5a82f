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

`RedactSecretsFilter` is the logging filter that settings.LOGGING attaches to every handler.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.utils.translation import gettext
from requests.adapters import HTTPAdapter
from urllib3.util.connection import allowed_gai_family

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


def response_max_bytes() -> int:
    return int(_setting("PROVIDER_MAX_RESPONSE_BYTES", MAX_RESPONSE_BYTES))


# --- network guard (SSRF) ------------------------------------------------------------------------


class PrivateAddressRefused(requests.RequestException):
    """The URL's host is (or resolves to) an address on a private or special network.

    A `RequestException`, so code that treats network failures as "the provider could not be
    reached" stays safe; callers that can say more catch this class first.
    """

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to {address}, which is not a public address")
        self.host = host
        self.address = address


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether Bambi may connect to `address`: a globally routable unicast address.

    Refused: loopback, private (RFC 1918), link-local (169.254/16, metadata services), CGNAT
    (100.64/10), unique-local (fc00::/7), multicast, unspecified, documentation and reserved
    ranges. IPv4 carried inside IPv6 (::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) is
    judged by the IPv4 address it leads to.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None:
            return is_public_address(ip.sixtofour)
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def parse_host_port(entry: str) -> tuple[str, int]:
    """ "host:port" or "[v6]:port" -> (lower-case host without brackets, port). ValueError when
    the entry is not such a pair."""
    entry = entry.strip()
    match = re.fullmatch(
        r"\[(?P<v6>[0-9A-Fa-f:.]+)\]:(?P<port>\d{1,5})|(?P<host>[^:\s/\[\]]+):(?P<p>\d{1,5})", entry
    )
    if not match:
        raise ValueError(f"“{entry}” is not a host:port pair")
    host = (match.group("v6") or match.group("host")).lower().rstrip(".")
    port = int(match.group("port") or match.group("p"))
    if not 0 < port < 65536:
        raise ValueError(f"“{entry}” has no valid port")
    return host, port


def private_hosts_allowed() -> set[tuple[str, int]]:
    """PROVIDER_PRIVATE_HOSTS as {(host, port)}: the local stand-ins an operator lets through."""
    entries: Iterable[str] | str = _setting("PROVIDER_PRIVATE_HOSTS", ()) or ()
    if isinstance(entries, str):
        entries = entries.split(",")
    allowed = set()
    for entry in entries:
        if entry.strip():
            allowed.add(parse_host_port(entry))
    return allowed


def _target(url: str) -> tuple[str, int, str]:
    """(host, port, scheme) of an http(s) URL, host lower-case and without brackets."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise requests.exceptions.InvalidURL("Only http and https URLs with a host are accepted.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise requests.exceptions.InvalidURL("The URL has an invalid port.") from exc
    return parts.hostname.lower().rstrip("."), port, parts.scheme


def vet_url(url: str) -> str | None:
    """Resolve the URL's host once and return the address to connect to.

    Raises `PrivateAddressRefused` when any address the name resolves to is not public (a name
    that answers one public and one private address is refused too: which one a later lookup
    picks is the attacker's choice). A pair listed in PROVIDER_PRIVATE_HOSTS skips the address
    rule; if it does not resolve here, None lets the transport resolve it (it will fail the
    same way).
    """
    host, port, _scheme = _target(url)
    allowed = (host, port) in private_hosts_allowed()
    try:
        # The address families urllib3 itself would use (IPv4 only on a host without IPv6).
        infos = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        if allowed:
            return None
        raise requests.ConnectionError(f"The host name {host} could not be resolved.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:  # pragma: no cover - getaddrinfo raises rather than answer nothing
        raise requests.ConnectionError(f"The host name {host} could not be resolved.")
    if not allowed:
        for address in addresses:
            if not is_public_address(address.split("%", 1)[0]):
                logger.warning("Refused a request to %s:%s (%s is not public)", host, port, address)
                raise PrivateAddressRefused(host, address)
    return addresses[0]


class GuardedAdapter(HTTPAdapter):
    """The transport adapter of every Bambi session: vets the target, then pins the connection.

    `send` resolves and checks the host (`vet_url`) before anything leaves the machine, and
    remembers the checked address on the request; `build_connection_pool_key_attributes`
    (requests' hook for choosing the connection pool) then opens the pool on that address,
    keeping the name for the `Host` header, TLS SNI and certificate checks. `send` runs for
    every hop of a redirect chain, because callers follow redirects one request at a time.
    """

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any):
        address = vet_url(request.url or "")
        request.bambi_address = address  # type: ignore[attr-defined]
        if address is None:
            return super().send(request, *args, **kwargs)
        host, port, scheme = _target(request.url or "")
        shown = f"[{host}]" if ":" in host else host
        default_port = 443 if scheme == "https" else 80
        # The pool connects to the address, so the name travels in the Host header...
        request.headers["Host"] = shown if port == default_port else f"{shown}:{port}"
        try:
            return super().send(request, *args, **kwargs)
        finally:
            # ...and only for this hop: a copy of this request for a redirect must not
            # carry it to another host.
            request.headers.pop("Host", None)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        address = getattr(request, "bambi_address", None)
        if address is None:
            return host_params, pool_kwargs
        name = host_params["host"].strip("[]")
        if host_params["scheme"] == "https" and not _is_ip_literal(name):
            # TLS keeps talking to the name: SNI and the certificate check use it, only the
            # TCP connection goes to the vetted address.
            pool_kwargs["server_hostname"] = name
            pool_kwargs["assert_hostname"] = name
        host_params["host"] = f"[{address}]" if ":" in address else address
        return host_params, pool_kwargs


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def session() -> requests.Session:
    """A fresh `requests.Session` with Bambi's user agent, the network guard and no retries.

    A new session per call keeps threads from sharing connection pools and cookies; the cost
    (one TCP+TLS handshake) is nothing next to an image generation.
    """
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    # max_retries=0 is requests' default too; spelled out because retrying a paid POST is the
    # one mistake this module exists to prevent.
    guarded = GuardedAdapter(max_retries=0)
    s.mount("https://", guarded)
    s.mount("http://", guarded)
    # Ignore proxy/netrc credentials from the environment: nothing but what we pass goes out
    # (and a proxy would connect to the address itself, past the guard).
    s.trust_env = False
    return s


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
    params: Mapping[str, str] | None = None,
    timeout: Timeout | None = None,
    max_bytes: int | None = None,
) -> requests.Response:
    """Send one request, once: with a timeout, without retries, without following redirects,
    to a public address only (see `GuardedAdapter`), and read at most `max_bytes` of answer.

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
    with session() as s:
        with s.request(
            method,
            url,
            headers=dict(headers or {}),
            json=json,
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
