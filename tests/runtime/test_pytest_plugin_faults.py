"""The pytest plugin never breaks a test suite: faults injected into the test's unit of work.

As in test_faults.py: each fault makes one internal function of the guard
raise; the test still runs to its own outcome, and one "async_guard internal
error" line is logged for the hook, however often the fault repeats.
"""

from __future__ import annotations

import os
import sys
import types
import unittest

import pytest

from async_guard import pytest_unit
from async_guard.runtime import coroutines, unit
from tests.runtime import programs

# The same faults, and the same one line per hook, as for the guard's other hooks.
from tests.runtime.test_faults import _fresh_failure_log, boom, internal_lines  # noqa: F401
from tests.support.processes import ROOT

pytest_plugins = ["pytester"]

ARGS = ("-p", "no:cacheprovider", "-p", "no:cov", "-p", "no:django", "--async-guard-strict")


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_inner="""
        import pytest

        async def quote():
            return 1

        def test_sync():
            assert 1 + 1 == 2

        def test_sync_fails():
            assert 1 + 1 == 3

        @pytest.mark.asyncio
        async def test_async():
            assert await quote() == 1

        @pytest.mark.asyncio
        async def test_async_fails():
            assert await quote() == 2
        """
    )
    return pytester


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (pytest_unit, "swap"),
        (pytest_unit, "hide_guard_frames"),
        (pytest_unit, "gc"),
        (unit, "finish"),
        (coroutines, "start_tracking"),
    ],
)
def test_a_fault_in_the_test_unit_leaves_the_outcomes_alone(
    inner, monkeypatch, caplog, module, name
):
    # gc stands for the module: only the guard's own collection fails, not pytest's.
    monkeypatch.setattr(module, name, types.SimpleNamespace(collect=boom) if name == "gc" else boom)
    result = inner.runpytest_inprocess(*ARGS)
    result.assert_outcomes(passed=2, failed=2)
    hooks = [line.split(" internal error in ")[1].split(":")[0] for line in internal_lines(caplog)]
    # start_tracking is also the sync unit's own start: its hook logs once too.
    assert "pytest test unit" in hooks and len(hooks) == len(set(hooks))


def test_a_fault_at_the_end_of_the_test_leaves_no_unit_behind(inner, monkeypatch):
    monkeypatch.setattr(unit, "finish", boom)
    inner.runpytest_inprocess(*ARGS).assert_outcomes(passed=2, failed=2)
    assert unit.current_unit.get() is None
    assert sys.get_coroutine_origin_tracking_depth() == 0


def test_a_unit_that_cannot_start_runs_the_test_alone(inner, monkeypatch, caplog):
    monkeypatch.setattr(unit.conf, "mode", boom)
    result = inner.runpytest_inprocess(*ARGS)
    result.assert_outcomes(passed=2, failed=2)
    lines = internal_lines(caplog)
    assert len(lines) == 1 and "unit start" in lines[0]


def test_an_undo_that_fails_is_logged(request, monkeypatch, caplog):
    monkeypatch.setattr(pytest_unit, "swap", lambda item: boom)
    for _ in range(2):
        with pytest_unit.as_unit(request.node):
            pass
    lines = internal_lines(caplog)
    assert len(lines) == 1 and "pytest test unit" in lines[0]


def test_an_async_test_under_another_event_loop_library_runs_without_a_unit():
    """No asyncio loop runs the coroutine (trio under anyio): no unit, the test runs."""

    async def plain():
        return 7

    coro = pytest_unit.as_async_unit(plain, "t")()
    with pytest.raises(StopIteration) as stop:
        coro.send(None)
    assert stop.value.value == 7
    assert coroutines.creator(coro) is None


def test_a_warning_text_that_cannot_be_built_leaves_pythons_own(monkeypatch, caplog):
    monkeypatch.setattr(coroutines, "never_awaited_text", boom)
    for _ in range(2):
        with pytest.warns(RuntimeWarning, match="never awaited"):
            programs.coroutine_never_awaited()
    lines = internal_lines(caplog)
    assert len(lines) == 1 and "never-awaited warning" in lines[0]


def test_without_django_settings_there_is_no_unit(request, monkeypatch):
    monkeypatch.setattr(pytest_unit, "settings", types.SimpleNamespace(configured=False))
    obj = request.node.obj
    with pytest_unit.as_unit(request.node):
        assert request.node.obj is obj


def test_an_item_without_a_function_is_left_alone():
    assert pytest_unit.swap(types.SimpleNamespace(obj=None)) is None


def test_a_method_the_test_case_already_holds_is_put_back():
    class Case(unittest.TestCase):
        def test_it(self):
            pass

    case = Case("test_it")
    held = case.test_it
    case.test_it = held  # as pytest does for a sync method under --pdb
    item = types.SimpleNamespace(obj=held, instance=case, name="test_it", nodeid="x::test_it")
    undo = pytest_unit.swap(item)
    assert case.test_it is item.obj is not held
    undo()
    assert case.test_it is held and item.obj is held
