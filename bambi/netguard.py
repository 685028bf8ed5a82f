"""The network guard (SSRF): Bambi never connects to a private network for a provider.

Every outgoing session (bambi/http.py) mounts `GuardedAdapter`: it resolves the host once,
refuses loopback, private, link-local, CGNAT, unique-local, multicast, unspecified and reserved
addresses (IPv4, IPv6 and IPv4 inside IPv6), then connects to exactly the address it checked (no
second DNS lookup an attacker's resolver could answer differently). `PROVIDER_PRIVATE_HOSTS`
(host:port pairs) lets local stand-ins through. The admin vets a provider's base URL with
`vet_url` too.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from urllib3.util.connection import allowed_gai_family

logger = logging.getLogger(__name__)


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
    try:
        entries: Iterable[str] | str = getattr(settings, "PROVIDER_PRIVATE_HOSTS", ()) or ()
    except ImproperlyConfigured:  # a plain script without Django settings: none is allowed
        entries = ()
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
