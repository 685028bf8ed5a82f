"""A free loopback port for a server that a test starts in another process."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now, picked by the kernel among the ephemeral ones (so tests
    running in parallel, pytest-xdist's workers included, do not pick the same one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
