"""The harm itself, on PostgreSQL, in a real worker: what the guard exists to stop.

With the guard off, a write made through ``asyncio.run`` + ``sync_to_async``
inside ``transaction.atomic()`` goes through another connection: it survives
the caller's rollback, and it waits on the caller's own row lock (the lab's
settings bound that wait with ``lock_timeout``; without it the task hangs).
The ``async_to_sync`` twins do neither. With ``MODE=raise`` the guard stops the
write before it runs: nothing survives, nothing waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime_integration.support import (
    Lab,
    TaskRun,
    lab_env,
    make_positions,
    run_tasks,
)
from tests.support.processes import celery_worker

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

TASKS = [
    "guardlab.rollback.bad",
    "guardlab.rollback.good",
    "guardlab.row_lock.bad",
    "guardlab.row_lock.good",
]


@pytest.fixture(scope="module")
def harm(request: Any, module_db: Any, lab_logs: Path) -> Iterator[tuple[Lab, dict[str, TaskRun]]]:
    mode = request.param
    with module_db():
        pks = make_positions(len(TASKS))
        env = lab_env(mode)
    runs = [TaskRun(name, pk) for name, pk in zip(TASKS, pks, strict=True)]
    with celery_worker(lab_logs, pool="solo", env=env) as worker:
        with module_db():
            run_tasks(worker, runs)
        yield Lab(worker), {run.name: run for run in runs}


@pytest.mark.parametrize("harm", ["off"], indirect=True)
def test_without_the_guard_the_write_survives_the_rollback(harm: Any) -> None:
    lab, runs = harm
    bad, good = runs["guardlab.rollback.bad"], runs["guardlab.rollback.good"]
    assert (bad.state, bad.result) == ("SUCCESS", "closing")
    assert bad.status_after == "closing"  # committed by the other connection
    assert (good.state, good.result) == ("SUCCESS", "open")
    assert good.status_after == "open"
    assert lab.events() == []  # off is off


@pytest.mark.parametrize("harm", ["off"], indirect=True)
def test_without_the_guard_the_write_waits_on_its_callers_row_lock(harm: Any) -> None:
    _, runs = harm
    bad, good = runs["guardlab.row_lock.bad"], runs["guardlab.row_lock.good"]
    assert bad.state == "FAILURE"
    assert "lock timeout" in bad.result, bad.result
    assert bad.status_after == "open"
    assert (good.state, good.result) == ("SUCCESS", "closing")
    assert good.status_after == "closing"


@pytest.mark.parametrize("harm", ["raise"], indirect=True)
@pytest.mark.parametrize("name", ["guardlab.rollback.bad", "guardlab.row_lock.bad"])
def test_raise_mode_stops_the_write_before_it_runs(harm: Any, name: str) -> None:
    lab, runs = harm
    run = runs[name]
    assert run.state == "FAILURE"
    assert "AGR101" in run.result and "lock timeout" not in run.result, run.result
    assert run.status_after == "open"
    (event,) = [e for e in lab.events_of(run.task_id) if e.code == "AGR101"]
    assert event.level == "ERROR" and event["in_atomic_block"] is True


@pytest.mark.parametrize("harm", ["raise"], indirect=True)
def test_raise_mode_leaves_the_correct_twins_alone(harm: Any) -> None:
    lab, runs = harm
    assert runs["guardlab.rollback.good"].result == "open"
    assert runs["guardlab.row_lock.good"].result == "closing"
    for name in ("guardlab.rollback.good", "guardlab.row_lock.good"):
        assert lab.events_of(runs[name].task_id) == []
