from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.db import connections

from async_guard.runtime import events


@pytest.fixture
def guard_events() -> Iterator[list[dict[str, Any]]]:
    """Every guard event reported during the test, as the listeners see them."""
    seen: list[dict[str, Any]] = []
    events.subscribe(seen.append)
    try:
        yield seen
    finally:
        events.unsubscribe(seen.append)


def codes(seen: list[dict[str, Any]]) -> list[str]:
    return [event["code"] for event in seen]


@pytest.fixture(autouse=True)
def _close_stray_connections() -> Iterator[None]:
    """The misbehaving programs open connections on asgiref's shared thread; close them.

    Left open, PostgreSQL refuses to drop the test database at the end of the run.
    """
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


@pytest.fixture
def raise_mode(settings: Any) -> None:
    settings.ASYNC_GUARD = {"MODE": "raise"}
