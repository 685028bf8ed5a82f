"""Rate limits on what can be turned against providers or other people: key checks (someone
testing stolen keys from Bambi's address) and generations, counted in the shared cache so
every app process sees the same numbers (CACHE_URL=redis://… in production).

A limit is "N per period" for one (action, who): the user, or the client's address (from
bambi.client_ip, proxy-aware; IPv6 by /64, what one client usually holds). A refused request
raises `RateLimitExceeded` before anything else happens (no provider is called), with the
seconds to wait; the API answers 429 + Retry-After + {"error": sentence}, pages show the
sentence with status 429 (bambi.errors: the one place statuses and headers come from).

Counting: a sliding-window estimate from two fixed-window counters (the current window and the
one before, weighted by how much of it still overlaps the last `period` seconds). Fixed windows
alone let a burst that straddles a window edge through twice (12 quick checks under "10 a
minute" can all pass when the minute turns in the middle); the estimate does not. Counters are
`cache.add` + `cache.incr`, atomic on Redis and memcached, so concurrent requests on any number
of processes cannot all slip under the limit. A refused request is counted back out, so only
requests that went through use up the allowance.

Written here rather than with django-ratelimit (4.1, 2023): its counters are fixed windows
(the edge burst above), and its decorator answers a bare 403; what it would add over these few
lines is the parsing of rate strings, which the settings below do not need.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bambi.client_ip import client_ip
from bambi.errors import BambiError

logger = logging.getLogger(__name__)

MINUTE = 60
DAY = 24 * 3600


class RateLimitExceeded(BambiError):
    """Refused by a rate limit: `message` is a sentence for the user, `retry_after` the whole
    seconds after which the same request would be accepted (sent as Retry-After)."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class Limit:
    """At most `limit` requests per `period` seconds for one (scope, who). 0 turns it off."""

    scope: str
    limit: int
    period: int


def _ident(value: str) -> str:
    """IPv6 clients by /64 (one client usually holds a whole /64); anything else as is."""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return value
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def _key(limit: Limit, who: str, window: int) -> str:
    return f"bambi:rl:{limit.scope}:{limit.period}:{who}:{window}"


def _count(limit: Limit, who: str, now: float) -> tuple[str, int, int, float]:
    """Count one request: (key incremented, current window's count, previous window's count,
    seconds elapsed in the current window)."""
    window = int(now // limit.period)
    key = _key(limit, who, window)
    # Kept two periods: the next window still reads it as its "previous" one.
    timeout = 2 * limit.period + 60
    cache.add(key, 0, timeout=timeout)
    try:
        current = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        current = 1
    previous = int(cache.get(_key(limit, who, window - 1)) or 0)
    return key, int(current), previous, now - window * limit.period


def _estimate(limit: Limit, current: int, previous: int, elapsed: float) -> float:
    return previous * (limit.period - elapsed) / limit.period + current


def _wait(limit: Limit, current: int, previous: int, elapsed: float) -> int:
    """Seconds until one more request fits, `current` not counting the refused one."""
    remaining = limit.period - elapsed
    room = limit.limit - current - 1  # what the previous window's weight must drop to
    if room >= 0 and previous > 0:
        wait = remaining - room * limit.period / previous
        if wait <= remaining:
            return max(1, math.ceil(wait))
    # In the next window this one's count becomes the weighted "previous".
    if current <= 0 or limit.limit - 1 >= current:
        return max(1, math.ceil(remaining))
    return max(1, math.ceil(remaining + limit.period * (1 - (limit.limit - 1) / current)))


def hit(checks: list[tuple[Limit, str]], message: str) -> None:
    """Count one request against every (limit, who) in `checks`; if any is over its limit,
    count it back out of all of them and raise RateLimitExceeded(message + the wait)."""
    now = time.time()
    counted: list[str] = []
    waits: list[int] = []
    for limit, who in checks:
        if limit.limit <= 0 or not who:
            continue
        key, current, previous, elapsed = _count(limit, _ident(who), now)
        counted.append(key)
        if _estimate(limit, current, previous, elapsed) > limit.limit:
            waits.append(_wait(limit, current - 1, previous, elapsed))
    if not waits:
        return
    for key in counted:
        try:
            cache.decr(key)
        except ValueError:  # expired meanwhile: nothing to give back
            pass
    retry_after = max(waits)
    logger.warning("Rate limit: %s (retry after %ss)", [c[0].scope for c in checks], retry_after)
    raise RateLimitExceeded(f"{message} {wait_sentence(retry_after)}", retry_after)


def wait_sentence(seconds: int) -> str:
    if seconds < 120:
        return ngettext(
            "Try again in %(count)d second.", "Try again in %(count)d seconds.", seconds
        ) % {"count": seconds}
    if seconds < 2 * 3600:
        minutes = math.ceil(seconds / 60)
        return ngettext(
            "Try again in %(count)d minute.", "Try again in %(count)d minutes.", minutes
        ) % {"count": minutes}
    hours = math.ceil(seconds / 3600)
    return ngettext("Try again in %(count)d hour.", "Try again in %(count)d hours.", hours) % {
        "count": hours
    }


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def key_check_allowed(*, user, request: HttpRequest | None) -> None:
    """Before asking a provider about a key (add, replace, check, re-check): at most
    RATE_LIMIT_KEY_CHECKS_PER_MINUTE and _PER_DAY per user, _PER_IP_PER_MINUTE per client."""
    user_id = str(user.pk) if getattr(user, "pk", None) else ""
    hit(
        [
            (
                Limit("key-check-user", _setting("RATE_LIMIT_KEY_CHECKS_PER_MINUTE", 10), MINUTE),
                user_id,
            ),
            (Limit("key-check-user", _setting("RATE_LIMIT_KEY_CHECKS_PER_DAY", 100), DAY), user_id),
            (
                Limit(
                    "key-check-ip", _setting("RATE_LIMIT_KEY_CHECKS_PER_IP_PER_MINUTE", 30), MINUTE
                ),
                client_ip(request) or "",
            ),
        ],
        _("Too many API key checks from your account or network."),
    )


def generation_allowed(*, user) -> None:
    """Before a generation reserves its quota slot: RATE_LIMIT_GENERATIONS_PER_MINUTE per user
    (Premium is unlimited per month, not per second)."""
    hit(
        [
            (
                Limit("generation-user", _setting("RATE_LIMIT_GENERATIONS_PER_MINUTE", 30), MINUTE),
                str(user.pk),
            )
        ],
        _("Too many generations in a minute."),
    )
