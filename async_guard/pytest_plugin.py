"""pytest plugin (entry point ``pytest11``): make a project's own suite fail on guard events.

Strict mode, per test with ``@pytest.mark.async_guard_strict``, for the whole
run with ``--async-guard-strict`` or ``async_guard_strict = true`` in the ini
file: the test runs with ``ASYNC_GUARD["MODE"] = "raise"`` and fails if any
guard event fired during it, unless the test took the events through the
``async_guard_events`` fixture (a list of the event dicts, in order), which
says the test expects them and checks them itself.

Nothing is imported from Django or the guard until a test needs it, so the
plugin costs nothing in projects (or runs) that do not use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from typing import Any

import pytest

FIXTURE = "async_guard_events"
MARKER = "async_guard_strict"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("async_guard")
    group.addoption(
        "--async-guard-strict",
        action="store_true",
        default=False,
        help="run every test with ASYNC_GUARD MODE=raise and fail it on any guard event",
    )
    parser.addini(
        "async_guard_strict",
        type="bool",
        default=False,
        help="like --async-guard-strict, for every run",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: run this test with ASYNC_GUARD MODE=raise and fail it on any guard event "
        f"it does not take through the {FIXTURE} fixture",
    )


def is_strict(item: pytest.Item) -> bool:
    config = item.config
    return bool(
        config.getoption("async_guard_strict")
        or config.getini("async_guard_strict")
        or item.get_closest_marker(MARKER) is not None
    )


@contextlib.contextmanager
def recording() -> Iterator[list[dict[str, Any]]]:
    from async_guard.runtime import events

    recorded: list[dict[str, Any]] = []
    listener = recorded.append
    events.subscribe(listener)
    try:
        yield recorded
    finally:
        events.unsubscribe(listener)


@contextlib.contextmanager
def raise_mode() -> Iterator[None]:
    from django.conf import settings

    if not settings.configured:
        yield
        return
    from django.test import override_settings

    from async_guard import conf

    with override_settings(ASYNC_GUARD={**conf.user_settings(), "MODE": "raise"}):
        yield


@pytest.fixture
def async_guard_events() -> Iterator[list[dict[str, Any]]]:
    """The guard events fired during the test (dicts: code, unit, thread, where, ...)."""
    with recording() as recorded:
        yield recorded


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    if not is_strict(item):
        return (yield)
    with recording() as recorded, raise_mode():
        result = yield
    if recorded and FIXTURE not in getattr(item, "fixturenames", ()):
        lines = "\n".join(f"  {event['message']}" for event in recorded)
        pytest.fail(
            f"async_guard strict mode: {len(recorded)} guard event(s) fired during the test:\n"
            f"{lines}\nFix the code, or take the events through the {FIXTURE} fixture "
            "if the test expects them.",
            pytrace=False,
        )
    return result
