"""Fixtures of the reference project's tests: the fake broker on a real port, demo data."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command

import async_guard
from trading import demo
from trading.models import Position
from trading.sandbox.server import SandboxBroker, SandboxServer


@pytest.fixture(autouse=True)
def unit_of_work(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test is one unit of work for the runtime guard (strict mode raises on any event).

    Without a unit the guard has no owner thread to compare queries with; the
    reference project's own entry points (commands, tasks) open theirs.
    """
    with async_guard.watch(request.node.nodeid):
        yield


@pytest.fixture
def broker() -> SandboxBroker:
    return demo.demo_broker()


@pytest.fixture
def sandbox(broker: SandboxBroker, settings: object) -> Iterator[SandboxServer]:
    """The demo broker served on 127.0.0.1, with the project's settings pointed at it."""
    with SandboxServer(broker) as server:
        settings.TASTYTRADE_API_URL = server.url  # type: ignore[attr-defined]
        settings.TASTYTRADE_PROVIDER_SECRET = demo.PROVIDER_SECRET  # type: ignore[attr-defined]
        settings.TASTYTRADE_TIMEOUT = 1.0  # type: ignore[attr-defined]
        cache.clear()
        try:
            yield server
        finally:
            cache.clear()


@pytest.fixture
def demo_positions(db: None) -> dict[str, Position]:
    """The six demo spreads, keyed by their case ("ok", "missing", ...)."""
    positions = demo.seed_database()
    return {spread.case: p for spread, p in zip(demo.SPREADS, positions, strict=True)}


def dump_database() -> str:
    """Every row of the reference project's tables, as Django serializes them."""
    out = StringIO()
    call_command("dumpdata", "auth.user", "trading", indent=1, stdout=out)
    return out.getvalue()
