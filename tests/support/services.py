"""Which of the real services the tests use are reachable.

Outside CI a test that needs a missing service is skipped with a reason that
names it; with ``CI=true`` it fails instead, because CI must never pass by
skipping the real thing.
"""

from __future__ import annotations

import functools
import os
import socket

SERVICES: dict[str, tuple[str, int]] = {
    "redis": ("127.0.0.1", 6379),
    "postgres": ("127.0.0.1", 5432),
    "rabbitmq": ("127.0.0.1", 5672),
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@functools.cache
def reachable(service: str) -> bool:
    host, port = SERVICES[service]
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def describe(service: str) -> str:
    host, port = SERVICES[service]
    return f"{service} on {host}:{port}"
