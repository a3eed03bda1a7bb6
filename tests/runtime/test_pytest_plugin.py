"""The pytest plugin, run on a real inner test suite with pytester."""

from __future__ import annotations

import os

import pytest

from tests.support.processes import ROOT

pytest_plugins = ["pytester"]

# In-process (so coverage sees the plugin run): Django is already set up by
# the outer session, so the inner one runs without pytest-django.
ARGS = ("-p", "no:cacheprovider", "-p", "no:cov", "-p", "no:django")

INNER = """
import asyncio

import pytest

import async_guard


def leak():
    with async_guard.watch("leak"):
        asyncio.new_event_loop()


@pytest.mark.async_guard_strict
def test_marked_leak():
    leak()


@pytest.mark.async_guard_strict
def test_marked_swallowed():
    try:
        leak()
    except Exception:
        pass


@pytest.mark.async_guard_strict
def test_marked_taken(async_guard_events):
    with pytest.raises(async_guard.AsyncGuardError):
        leak()
    assert [event["code"] for event in async_guard_events] == ["AGR102"]
    assert async_guard_events[0]["unit"] == "leak"


def test_unmarked_leak():
    leak()


def test_clean():
    with async_guard.watch("clean"):
        pass
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "settings")
    monkeypatch.delenv("ASYNC_GUARD_MODE", raising=False)
    pytester.makepyfile(test_inner=INNER)
    return pytester


def test_marker(inner: pytest.Pytester) -> None:
    result = inner.runpytest_inprocess(*ARGS, "-v")
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*test_marked_leak FAILED*",
            "*test_marked_swallowed FAILED*",
            "*test_marked_taken PASSED*",
            "*test_unmarked_leak PASSED*",
            "*AsyncGuardError: AGR102*",
            "*async_guard strict mode: 1 guard event(s) fired during the test:",
            "  AGR102 event loop created*",
        ]
    )


def test_option(inner: pytest.Pytester) -> None:
    result = inner.runpytest_inprocess(*ARGS, "--async-guard-strict", "-v")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(["*test_unmarked_leak FAILED*"])


def test_ini(inner: pytest.Pytester) -> None:
    inner.makeini("[pytest]\nasync_guard_strict = true\n")
    result = inner.runpytest_inprocess(*ARGS, "-v")
    result.assert_outcomes(passed=2, failed=3)
