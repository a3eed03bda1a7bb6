"""The batch every backend runs: which task, and the guard events each run must produce.

A target ``"save_in_atomic.bad"`` is the guard lab's program of that name and
variant, run by ``lab.run_program``; a bare name is a task of ``lab``. The
expectations are those of the Celery worker (tests/runtime_integration): the
same programs make the same mistakes whatever runs them.
"""

from __future__ import annotations

from typing import Any

from tests.runtime_integration.support import Case, case
from tests.tasks_framework import lab

# The first unit whose off-thread query opens asgiref's shared thread's connection.
OFF_THREAD = ("AGR107",)

CASES = [
    case("save_in_atomic.bad", "AGR101", allowed=OFF_THREAD, outcome="closing"),
    case("save_in_atomic.good", outcome="closing"),
    case("read.bad", "AGR101", allowed=OFF_THREAD, outcome="SPY"),
    case("read.good", outcome="SPY"),
    # The harm, in warn mode: the write survives the caller's rollback.
    case("rollback.bad", "AGR101", allowed=OFF_THREAD, outcome="closing"),
    case("rollback.good", outcome="open"),
    case("nested_bridge.bad", "AGR109", outcome="FAILED"),
    case("nested_bridge.good", outcome="SPY"),
    case("loop_open.bad", "AGR102"),
    case("loop_open.good"),
    case("closed_loop_current.bad", "AGR103"),
    # The same thread next: the closed loop is still current, but not its doing.
    case("sync_orm.good", outcome="SPY"),
    case("closed_loop_current.good"),
    case("never_awaited.bad", "AGR106", outcome="sent"),
    case("never_awaited.good", outcome="sent"),
    case("sync_orm_in_coroutine.bad", "AGR108", outcome="FAILED"),
    case("sync_orm_in_coroutine.good", outcome="SPY"),
    # The task returns the coroutine: the backend cannot store it, nothing runs it.
    case("returns_coroutine", "AGR105", allowed=("AGR106",), outcome="FAILED"),
    case("gc_collect.good#after-returned-coroutine"),
    case("async_task", outcome="SPY"),
    case("pure_async.good"),
    # The inner task runs on the immediate backend, on the thread of the loop.
    case("enqueue_inside_loop", outcome="pong"),
    case("enqueue_outside_loop", outcome="pong"),
    case("gc_collect.good"),
]

# AGR104 belongs to the inner task (``lab.ping``), not to the one that enqueued it.
INNER = {"enqueue_inside_loop": "AGR104", "enqueue_outside_loop": None}


def task_and_args(target: str, pk: int) -> tuple[Any, tuple[Any, ...]]:
    """The ``Task`` a case runs and its arguments."""
    base = target.partition("#")[0]
    name, _, variant = base.partition(".")
    if variant:
        return lab.run_program, (name, variant, pk)
    return getattr(lab, name), (pk,)


def outcome(result: Any) -> Any:
    """What a finished run gave: its return value, or ``"FAILED"``."""
    if str(result.status) != "SUCCESSFUL":
        return str(result.status)
    return result.return_value


def unit_of(result: Any) -> str:
    return f"{result.task.module_path}[{result.id}]"


__all__ = ["CASES", "INNER", "Case", "outcome", "task_and_args", "unit_of"]
