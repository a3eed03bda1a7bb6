"""The django.tasks hook on the immediate backend: the task runs in the test's own thread.

The same batch as the database worker (``test_db_worker.py``), in warn mode, and
what raise mode does to it: an event inside the task fails the task, an
end-of-task event of a task that succeeded is raised from ``enqueue()``, and a
task that failed keeps its own exception.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from tests.tasks_framework import FRAMEWORK, SKIP_REASON

if FRAMEWORK is None:
    pytest.skip(SKIP_REASON, allow_module_level=True)

from async_guard import AsyncGuardError
from async_guard import django_tasks as hook
from tests.runtime.conftest import codes
from tests.runtime_integration.support import Event, check_events, make_positions, statuses
from tests.tasks_framework import lab
from tests.tasks_framework.cases import CASES, INNER, Case, outcome, task_and_args, unit_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", autouse=True)
def _no_closed_loop_left_current() -> Iterator[None]:
    """The batch leaves a closed loop current in this thread on purpose; later modules get none."""
    yield
    asyncio.set_event_loop(None)


def as_events(seen: list[dict[str, Any]]) -> list[Event]:
    return [Event(e["code"], e["level"], e["message"], e) for e in seen]


def enqueue(target: str, pk: int) -> Any:
    task, args = task_and_args(target, pk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the never-awaited coroutines
        result = task.enqueue(*args)
        gc.collect()
    return result


@pytest.mark.parametrize("expectation", CASES, ids=str)
def test_task_events(expectation: Case, guard_events: list[dict[str, Any]]) -> None:
    (pk,) = make_positions(1)
    result = enqueue(expectation.target, pk)
    events = as_events([e for e in guard_events if e["unit"] == unit_of(result)])
    check_events(events, expectation)
    assert all(e["unit_kind"] == "task" for e in guard_events)
    inner = INNER.get(expectation.target)
    inner_codes = [e["code"] for e in guard_events if e["unit"].startswith(lab.ping.module_path)]
    assert inner_codes == ([inner] if inner else [])
    if expectation.outcome is not None:
        got = outcome(result)
        if expectation.target.startswith(("save_in_atomic.", "rollback.")):
            got = statuses([pk])[pk]
        assert got == expectation.outcome, result.errors


def test_the_write_outside_the_transaction_is_an_error_with_its_details(
    guard_events: list[dict[str, Any]],
) -> None:
    (pk,) = make_positions(1)
    result = enqueue("save_in_atomic.bad", pk)
    (event,) = [e for e in guard_events if e["code"] == "AGR101"]
    assert event["level"] == "ERROR" and event["in_atomic_block"] is True
    assert event["unit"] == f"tests.tasks_framework.lab.run_program[{result.id}]"
    assert event["sql"].upper().startswith("UPDATE")
    assert event["where"]["file"].endswith("tests/guardlab/programs.py")


def test_returned_coroutine_points_at_the_task(guard_events: list[dict[str, Any]]) -> None:
    (pk,) = make_positions(1)
    result = enqueue("returns_coroutine", pk)
    assert str(result.status) == "FAILED"
    (event,) = [e for e in guard_events if e["code"] == "AGR105"]
    assert event["where"]["function"] == "returns_coroutine"
    assert "returned a coroutine that never ran" in event["message"]


def test_a_task_failing_on_its_own_is_not_blamed_for_a_returned_coroutine(
    guard_events: list[dict[str, Any]],
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = lab.loop_open_then_fail.enqueue(0)
        gc.collect()
    assert str(result.status) == "FAILED"
    assert result.errors[0].exception_class_path.endswith("TaskFailed")
    assert codes([e for e in guard_events if e["unit"] == unit_of(result)]) == ["AGR102"]


# -- raise mode ----------------------------------------------------------------------


def test_raise_mode_stops_the_write_and_fails_the_task(raise_mode: None, guard_events) -> None:
    (pk,) = make_positions(1)
    result = enqueue("save_in_atomic.bad", pk)
    assert str(result.status) == "FAILED"
    assert result.errors[0].exception_class_path == "async_guard.errors.AsyncGuardError"
    assert statuses([pk])[pk] == "open"
    assert "AGR101" in codes(guard_events)


def test_raise_mode_raises_an_end_of_task_event_from_enqueue(raise_mode: None, guard_events):
    with pytest.raises(AsyncGuardError) as raised:
        enqueue("loop_open.bad", 0)
    assert raised.value.code == "AGR102"


def test_raise_mode_keeps_the_task_s_own_exception(raise_mode: None, guard_events) -> None:
    result = lab.loop_open_then_fail.enqueue(0)
    assert str(result.status) == "FAILED"
    assert result.errors[0].exception_class_path.endswith("TaskFailed")
    assert codes([e for e in guard_events if e["unit"] == unit_of(result)]) == ["AGR102"]


def test_raise_mode_refuses_a_sync_task_started_inside_a_loop(raise_mode: None, guard_events):
    # Raised from the inner enqueue(), before the inner task runs: the outer task fails.
    result = enqueue("enqueue_inside_loop", 0)
    assert str(result.status) == "FAILED"
    assert result.errors[0].exception_class_path == "async_guard.errors.AsyncGuardError"
    assert "AGR104" in result.errors[0].traceback
    assert codes(guard_events) == ["AGR104"]


def test_correct_tasks_pass_in_raise_mode(raise_mode: None, guard_events) -> None:
    (pk,) = make_positions(1)
    for target in ("save_in_atomic.good", "async_task", "enqueue_outside_loop", "pure_async.good"):
        assert str(enqueue(target, pk).status) == "SUCCESSFUL", target
    assert guard_events == []


# -- the hook itself -----------------------------------------------------------------


def test_connected_to_the_framework_in_use() -> None:
    import importlib

    signals = importlib.import_module(f"{FRAMEWORK}.signals")
    count = len(signals.task_started.receivers)
    assert FRAMEWORK in hook.connect()  # idempotent: connecting again adds nothing
    hook.connect()
    assert len(signals.task_started.receivers) == count


def test_off_mode_starts_no_unit(settings: Any, guard_events) -> None:
    settings.ASYNC_GUARD = {"MODE": "off"}
    result = enqueue("loop_open.bad", 0)
    assert str(result.status) == "SUCCESSFUL"
    assert guard_events == []
    assert hook._running == {}


def test_unmatched_finish_is_ignored(guard_events) -> None:
    from types import SimpleNamespace

    hook.on_task_finished(task_result=SimpleNamespace(id="never-started", status="FAILED"))
    hook.on_task_finished(task_result=None)
    assert guard_events == []


def test_disconnected_hook_sees_nothing(guard_events) -> None:
    hook.disconnect()
    try:
        result = enqueue("loop_open.bad", 0)
    finally:
        hook.connect()
    assert str(result.status) == "SUCCESSFUL"
    assert guard_events == []
    assert codes_of(enqueue("loop_open.bad", 0), guard_events) == ["AGR102"]


def test_a_failure_reported_outside_its_except_block_is_logged_not_raised(
    raise_mode: None, guard_events
) -> None:
    """A backend that sends task_finished after its except block: the failure stays the task's."""
    from types import SimpleNamespace

    result = SimpleNamespace(id="sent-late", task=lab.ping, status="RUNNING")
    hook.on_task_started(task_result=result)
    loop = asyncio.new_event_loop()
    result.status = "FAILED"
    hook.on_task_finished(task_result=result)
    loop.close()
    assert codes(guard_events) == ["AGR102"]
    assert guard_events[0]["unit"] == f"{lab.ping.module_path}[sent-late]"


def test_a_type_error_without_traceback_is_no_returned_coroutine() -> None:
    assert not hook._failed_on_coroutine(TypeError("x"), lab.ping.func.__code__)


def codes_of(result: Any, seen: list[dict[str, Any]]) -> list[str]:
    return [e["code"] for e in seen if e["unit"] == unit_of(result)]


def test_a_task_failing_inside_its_own_code_returned_nothing(guard_events) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = lab.type_error_on_a_coroutine.enqueue(0)
        gc.collect()
    assert result.errors[0].exception_class_path == "builtins.TypeError"
    assert "AGR105" not in codes_of(result, guard_events)
