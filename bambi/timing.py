"""Per-step timings of a request, answered in a `Server-Timing` header.

    with timing.step("provider"):
        ...

A generation records its steps (validate, reserve, provider, decode, store, commit); the
middleware adds `app` (the whole request inside Django, middleware included) and sends them
back, e.g. `Server-Timing: validate;dur=1.2, reserve;dur=0.9, ..., app;dur=14.8`. Browsers
show the header in their network panel; bench/generation_overhead.py reads it to print where
the time goes. Only durations are sent, never a value from the request. A request that records
no step gets no header.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_steps: ContextVar[list[tuple[str, float]] | None] = ContextVar("bambi_timing", default=None)


@contextmanager
def step(name: str) -> Iterator[None]:
    """Time the block as step `name` of the current request (nothing outside a request)."""
    steps = _steps.get()
    if steps is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        steps.append((name, time.perf_counter() - started))


def recorded() -> list[tuple[str, float]]:
    """The steps recorded so far in this request, (name, seconds) in order."""
    return list(_steps.get() or ())


class ServerTimingMiddleware:
    """Outermost middleware: collects the steps of the request and answers them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        steps: list[tuple[str, float]] = []
        token = _steps.set(steps)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            _steps.reset(token)
        if steps:
            total = time.perf_counter() - started
            response["Server-Timing"] = ", ".join(
                f"{name};dur={seconds * 1000:.2f}" for name, seconds in [*steps, ("app", total)]
            )
        return response
