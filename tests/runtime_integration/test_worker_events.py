"""Every task-shaped guard event, from a real Celery worker on real Redis, on every pool.

One worker per pool runs the whole batch of lab tasks (``tests/guardlab/tasks.py``)
in ``warn`` mode, in the order below; each test then reads one task's events
from the worker's log. The order matters on the solo and prefork pools (one
thread runs them all): a correct task right after a misbehaving one must not be
blamed for what the earlier one left behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime_integration.support import (
    Case,
    Lab,
    TaskRun,
    case,
    check_events,
    lab_env,
    make_positions,
    run_tasks,
)
from tests.support.processes import celery_worker

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

OFF_THREAD = ("AGR107",)  # the first unit to open asgiref's shared thread's connection

CASES = [
    case("guardlab.save_in_atomic.bad", "AGR101", allowed=OFF_THREAD, outcome="closing"),
    case("guardlab.save_in_atomic.good", outcome="closing"),
    case("guardlab.read.bad", "AGR101", allowed=OFF_THREAD, outcome="SPY"),
    case("guardlab.read.good", outcome="SPY"),
    # The harm, in warn mode: the write survives the caller's rollback.
    case("guardlab.rollback.bad", "AGR101", allowed=OFF_THREAD, outcome="closing"),
    case("guardlab.rollback.good", outcome="open"),
    # A sync twin with asyncio.run, called through sync_to_async from bridged
    # code: its ORM call waits for the thread it runs on. asgiref refuses it.
    case("guardlab.nested_bridge.bad", "AGR109", outcome="FAILURE"),
    case("guardlab.nested_bridge.good", outcome="SPY"),
    case("guardlab.loop_open.bad", "AGR102"),
    case("guardlab.loop_open.good"),
    case("guardlab.closed_loop_current.bad", "AGR103"),
    # Same thread next (solo, prefork): the closed loop is still current, but not its doing.
    case("guardlab.sync_orm.good", outcome="SPY"),
    case("guardlab.closed_loop_current.good"),
    case("guardlab.never_awaited.bad", "AGR106", outcome="sent"),
    case("guardlab.never_awaited.good", outcome="sent"),
    # Made here, collected when a later unit drops it: still this unit's event.
    case("guardlab.pending_coroutine.bad", "AGR106", outcome="queued"),
    case("guardlab.pending_coroutine.good", outcome="sent"),
    case("guardlab.sync_orm_in_coroutine.bad", "AGR108", outcome="FAILURE"),
    case("guardlab.sync_orm_in_coroutine.good", outcome="SPY"),
    # The coroutine handed to the closed loop is never awaited either; CPython
    # reports it when the failure's traceback is collected, possibly later.
    case("guardlab.closed_loop_reused.bad", "AGR108", "AGR106", outcome="FAILURE"),
    case("guardlab.gc_collect.good#after-reused"),
    case("guardlab.closed_loop_reused.good"),
    # The coroutine an async task returns is never awaited either.
    case("guardlab.async_task.bad", "AGR105", allowed=("AGR106",), outcome="FAILURE"),
    case("guardlab.gc_collect.good#after-async-task"),
    case("guardlab.async_task.good", outcome="SPY"),
    case("guardlab.pure_async.good"),
    case("guardlab.apply_inside_loop.bad", "AGR104", outcome="pong"),
    case("guardlab.apply_inside_loop.good", outcome="pong"),
    # Last: collects what the earlier units left (see the cases above).
    case("guardlab.drop_pending.good", outcome=1),
    case("guardlab.gc_collect.good"),
]


class Batch:
    def __init__(self, pool: str, lab: Lab, runs: list[TaskRun]) -> None:
        self.pool = pool
        self.lab = lab
        self.runs = {c.target: run for c, run in zip(CASES, runs, strict=True)}


@pytest.fixture(scope="module", params=["prefork", "threads", "solo"])
def batch(request: Any, module_db: Any, lab_logs: Path) -> Iterator[Batch]:
    pool = request.param
    with module_db():
        pks = make_positions(len(CASES))
        env = lab_env("warn")
    runs = [TaskRun(c.task, pk) for c, pk in zip(CASES, pks, strict=True)]
    with celery_worker(
        lab_logs, pool=pool, concurrency=3 if pool == "threads" else 1, env=env
    ) as worker:
        with module_db():
            run_tasks(worker, runs)
        yield Batch(pool, Lab(worker), runs)


def _outcome(run: TaskRun) -> Any:
    return run.state if run.state != "SUCCESS" else run.result


@pytest.mark.parametrize("expectation", CASES, ids=str)
def test_task_events(batch: Batch, expectation: Case) -> None:
    run = batch.runs[expectation.target]
    events = batch.lab.events_of(run.task_id)
    check_events(events, expectation)
    if expectation.outcome is not None:
        assert _outcome(run) == expectation.outcome, run.result


def test_off_thread_write_in_atomic_is_an_error_with_its_details(batch: Batch) -> None:
    run = batch.runs["guardlab.save_in_atomic.bad"]
    (event,) = [e for e in batch.lab.events_of(run.task_id) if e.code == "AGR101"]
    assert event.level == "ERROR"
    assert event.message.startswith("AGR101 ")
    assert event["in_atomic_block"] is True
    assert event["db_alias"] == "default"
    assert event["thread"] != event["owner_thread"]
    assert event["sql"].upper().startswith("UPDATE")
    # Parameters are never logged: the new status is a parameter of the UPDATE.
    assert "closing" not in event["sql"]
    assert run.task_id in event.unit and "guardlab.save_in_atomic.bad" in event.unit
    assert event["where"]["file"].endswith("tests/guardlab/programs.py")


def test_off_thread_read_outside_atomic_is_a_warning(batch: Batch) -> None:
    run = batch.runs["guardlab.read.bad"]
    (event,) = [e for e in batch.lab.events_of(run.task_id) if e.code == "AGR101"]
    assert event.level == "WARNING"
    assert not event["in_atomic_block"]
    assert event["sql"].upper().startswith("SELECT")


def test_shared_thread_connection_left_open_is_reported_once(batch: Batch) -> None:
    """AGR107: the first unit whose off-thread query opened asgiref's shared thread's connection.

    Later units reuse that connection (it is never closed), so they open none.
    """
    off_thread = [
        run
        for name, run in batch.runs.items()
        if name.endswith(".bad") and "AGR101" in {e.code for e in batch.lab.events_of(run.task_id)}
    ]
    leaks = [e for e in batch.lab.events() if e.code == "AGR107"]
    assert leaks, "no AGR107 although off-thread queries opened a connection"
    for leak in leaks:
        assert any(run.task_id in leak.unit for run in off_thread), leak.unit
    assert len({leak["thread"] for leak in leaks}) == len(leaks)


def test_every_event_belongs_to_a_task_of_the_batch(batch: Batch) -> None:
    ids = [run.task_id for run in batch.runs.values()]
    strays = [e for e in batch.lab.events() if not any(i in e.unit for i in ids)]
    assert not strays, [e.message for e in strays]
