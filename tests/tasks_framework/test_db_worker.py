"""The django.tasks hook in a real worker process: ``manage.py db_worker`` of django-tasks-db.

The test process enqueues on the ``database`` backend (rows in the test
database); the worker, started as a real process with the lab settings
(every guard event one JSON line in its log) and stopped by its PID, runs
them one after another in its main thread. A last task enqueued after the
batch tells when the batch is done: the worker starts it only once the
previous task's ``task_finished`` receivers, the guard's included, returned.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.tasks_framework import FRAMEWORK, SKIP_REASON

if FRAMEWORK is None:
    pytest.skip(SKIP_REASON, allow_module_level=True)
if importlib.util.find_spec("django_tasks_db") is None:
    pytest.skip("needs the django-tasks-db package (a dev dependency)", allow_module_level=True)

from tests.runtime_integration.support import Lab, check_events, lab_env, make_positions, statuses
from tests.support.processes import Process, running
from tests.tasks_framework import lab
from tests.tasks_framework.cases import CASES, Case, outcome, task_and_args, unit_of

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BACKEND = "database"
FINAL = ("SUCCESSFUL", "FAILED")


def db_worker(log_dir: Path, env: dict[str, str]) -> Any:
    """``manage.py db_worker`` on the ``database`` backend, polling every 0.1 s."""
    cmd = [
        sys.executable, "manage.py", "db_worker", "--backend", BACKEND, "--interval", "0.1",
        "--no-startup-delay", "--no-reload", "--queue-name", "*",
    ]  # fmt: skip
    return running(
        "db_worker", cmd, env=env, log_dir=log_dir, ready=lambda p: "Starting worker" in p.log()
    )


def run_batch(worker: Process, targets: list[tuple[str, int]], timeout: float = 90.0) -> list[Any]:
    """Enqueue every (target, pk) in order, then wait until the worker is past all of them."""
    results = []
    for target, pk in targets:
        task, args = task_and_args(target, pk)
        results.append(task.using(backend=BACKEND).enqueue(*args))
    last = lab.quote.using(backend=BACKEND).enqueue()
    deadline = time.monotonic() + timeout
    while str(last.status) not in FINAL:
        if worker.popen.poll() is not None:
            code = worker.popen.returncode
            raise AssertionError(f"db_worker exited with {code}:\n{worker.log()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"db_worker: batch not done within {timeout}s:\n{worker.log()}")
        time.sleep(0.1)
        last.refresh()
    for result in results:
        result.refresh()
    return results


@dataclass
class Batch:
    lab: Lab
    results: dict[str, Any]
    status_after: dict[str, str]


def start_batch(mode: str, targets: list[str], module_db: Any, log_dir: Path) -> Iterator[Batch]:
    """Run ``targets`` (one new position each) through a worker in guard ``mode``."""
    with module_db():
        pks = make_positions(len(targets))
        env = lab_env(mode)
    # Stopped (by its PID) once the batch is done: no other batch's task can reach it.
    with db_worker(log_dir, env) as worker, module_db():
        results = run_batch(worker, list(zip(targets, pks, strict=True)))
        after = statuses(pks)
    yield Batch(
        Lab(worker),
        dict(zip(targets, results, strict=True)),
        {t: after[pk] for t, pk in zip(targets, pks, strict=True)},
    )


@pytest.fixture(scope="module")
def batch(module_db: Any, lab_logs: Path) -> Iterator[Batch]:
    yield from start_batch("warn", [c.target for c in CASES], module_db, lab_logs)


@pytest.mark.parametrize("expectation", CASES, ids=str)
def test_task_events(batch: Batch, expectation: Case) -> None:
    result = batch.results[expectation.target]
    check_events(batch.lab.events_of(unit_of(result)), expectation)
    if expectation.outcome is not None:
        got = outcome(result)
        if expectation.target.startswith(("save_in_atomic.", "rollback.")):
            got = batch.status_after[expectation.target]
        assert got == expectation.outcome, result.errors


def test_every_event_belongs_to_a_task_of_the_batch(batch: Batch) -> None:
    units = {unit_of(result) for result in batch.results.values()}
    inner = [e for e in batch.lab.events() if e.unit.startswith(lab.ping.module_path + "[")]
    strays = [e for e in batch.lab.events() if e.unit not in units and e not in inner]
    assert not strays, [e.message for e in strays]
    # The inner task started on the loop's thread is the one of enqueue_inside_loop.
    assert [e.code for e in inner] == ["AGR104"]
    assert all(e["unit_kind"] == "task" for e in batch.lab.events())


def test_the_write_outside_the_transaction_is_an_error_with_its_details(batch: Batch) -> None:
    result = batch.results["save_in_atomic.bad"]
    (event,) = [e for e in batch.lab.events_of(unit_of(result)) if e.code == "AGR101"]
    assert event.level == "ERROR" and event["in_atomic_block"] is True
    assert event["thread"] != event["owner_thread"] == "MainThread"
    assert event["where"]["file"].endswith("tests/guardlab/programs.py")


RAISE_TARGETS = [
    "save_in_atomic.bad",  # AGR101 raised before the write: the task fails, nothing written
    "loop_open.bad",  # an end-of-task event: the worker records it as the task's failure
    "loop_open_then_fail",  # the task's own exception stays its failure
    "save_in_atomic.good",  # the worker goes on
]


@pytest.fixture(scope="module")
def raise_batch(module_db: Any, lab_logs: Path) -> Iterator[Batch]:
    yield from start_batch("raise", RAISE_TARGETS, module_db, lab_logs)


GUARD_ERROR = "async_guard.errors.AsyncGuardError"


def _failure(result: Any, lab: Lab) -> str:
    assert str(result.status) == "FAILED", (
        f"{result.status}; the worker's log:\n{lab.process.log()}"
    )
    return str(result.errors[-1].exception_class_path)


def test_raise_mode_in_the_worker(raise_batch: Batch) -> None:
    results = raise_batch.results
    assert _failure(results["save_in_atomic.bad"], raise_batch.lab) == GUARD_ERROR
    assert raise_batch.status_after["save_in_atomic.bad"] == "open"
    assert _failure(results["loop_open.bad"], raise_batch.lab) == GUARD_ERROR
    assert _failure(results["loop_open_then_fail"], raise_batch.lab).endswith(".TaskFailed")
    assert str(results["save_in_atomic.good"].status) == "SUCCESSFUL"
    assert raise_batch.status_after["save_in_atomic.good"] == "closing"
    logged = {
        target: [e.code for e in raise_batch.lab.events_of(unit_of(result))]
        for target, result in results.items()
    }
    assert "AGR101" in logged["save_in_atomic.bad"]
    assert logged["loop_open.bad"] == ["AGR102"]
    assert logged["loop_open_then_fail"] == ["AGR102"]
    assert logged["save_in_atomic.good"] == []
