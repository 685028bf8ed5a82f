"""The client's IP address, the one way every part of Bambi reads it.

Behind the load balancer of the README's production layout, REMOTE_ADDR is the proxy's address
for every client: login lockouts, rate limits and the audit log would all see one client. The
proxy appends the address it saw to `X-Forwarded-For`; everything to the left of what our own
proxies wrote is whatever the client sent, so it is never believed.

With `TRUSTED_PROXY_COUNT = n` (n proxies of ours in a chain in front of the app), the client is
the n-th entry from the right of `X-Forwarded-For`. With 0 (the default: the app is reached
directly) the header is ignored. Used by allauth (AccountAdapter.get_client_ip: login and
signup rate limits), the audit log (accounts.services) and Bambi's rate limits (bambi.ratelimit).
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest

logger = logging.getLogger(__name__)


def _clean(value: str | None) -> str | None:
    """A canonical IP address from a header or REMOTE_ADDR value, or None when it is not one.
    Accepts "[v6]:port" and "v4:port" (some proxies write ports); IPv4-mapped IPv6 -> IPv4."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # a.b.c.d:port
        value = value.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def client_ip(request: HttpRequest | None) -> str | None:
    """The address of the client that sent `request` (None when there is no request or no
    usable address)."""
    if request is None:
        return None
    remote = _clean(request.META.get("REMOTE_ADDR"))
    trusted = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if trusted <= 0:
        return remote
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < trusted:
        # Fewer entries than proxies: this request did not come through all of ours (a health
        # check, or someone reaching the app directly). Its own address is all we know.
        return remote
    forwarded = _clean(hops[-trusted])
    if forwarded is None:
        logger.warning("X-Forwarded-For entry %r is not an IP address", hops[-trusted][:64])
        return remote
    return forwarded
