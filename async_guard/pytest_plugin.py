"""pytest plugin (entry point ``pytest11``): make a project's own suite fail on guard events.

Strict mode, per test with ``@pytest.mark.async_guard_strict``, for the whole
run with ``--async-guard-strict`` or ``async_guard_strict = true`` in the ini
file: the test is a unit of work of its own (see :mod:`async_guard.pytest_unit`),
runs with ``ASYNC_GUARD["MODE"] = "raise"``, and fails if any guard event
fired during it, unless the test took the events through the
``async_guard_events`` fixture (a list of the event dicts, in order), which
says the test expects them and checks them itself.

Nothing is imported from Django or the guard until a strict test runs, so the
plugin costs nothing in projects (or runs) that do not use it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Iterator
from pathlib import Path
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
    __tracebackhide__ = True
    from async_guard.pytest_unit import as_unit

    with recording() as recorded, raise_mode(), as_unit(item):
        try:
            result = yield
        except BaseException:
            report(item, recorded, failed=True)
            raise
    # A unittest test case's failure is kept on the item, not raised here.
    report(item, recorded, failed=bool(getattr(item, "_excinfo", None)))
    return result


def report(item: pytest.Item, recorded: list[dict[str, Any]], *, failed: bool) -> None:
    """Fail the test for the events it fired; beside its own failure if it already failed."""
    __tracebackhide__ = True
    recorded = [event for event in recorded if not of_another_test(event, item.nodeid)]
    if not recorded or FIXTURE in getattr(item, "fixturenames", ()):
        return
    text = describe(recorded, item.config.rootpath)
    if failed:
        item.add_report_section("call", "async_guard events", text)
        return
    pytest.fail(text, pytrace=False)


def of_another_test(event: dict[str, Any], nodeid: str) -> bool:
    """An earlier test's dropped coroutine, collected by Python during this one.

    Each test's unit collects only the young generations (see
    :mod:`async_guard.pytest_unit`): a cycle that has aged past them is found
    later, and its event names the test that made it. It is logged; failing
    this test for it would blame the wrong one.
    """
    return event.get("unit_kind") == "test" and event.get("unit") != nodeid


def describe(recorded: list[dict[str, Any]], root: Path) -> str:
    """Each event: its code, the user's line where it happened, what happened and the fix."""
    lines = [f"async_guard strict mode: {len(recorded)} guard event(s) fired during the test:"]
    for event in recorded:
        code, text, where = event["code"], event["message"], event.get("where")
        text = text.removeprefix(f"{code} ")
        place = ""
        if where:
            file = where["file"]
            text = text.removesuffix(f" [at {file}:{where['line']} in {where['function']}]")
            if file.startswith(f"{root}{os.sep}"):
                file = file[len(f"{root}{os.sep}") :]
            place = f" at {file}:{where['line']} in {where['function']}"
        lines.append(f"{code}{place}\n    {text}")
    lines.append(
        f"Fix the code, or take the events through the {FIXTURE} fixture if the test expects them."
    )
    return "\n".join(lines)
