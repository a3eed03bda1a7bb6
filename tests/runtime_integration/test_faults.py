"""The guard never breaks the application: faults injected into it from outside.

The lab's ``GUARDLAB_FAULTS`` (see ``tests/guardlab/apps.py``) replaces guard
internals by functions that raise, in a real worker and real servers. Every
task and request must then end exactly as it would without the guard (the
same result, the same status, the application's own exception unchanged), and
the guard must log its own failure once per hook, however often it fires.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runtime_integration.support import (
    Lab,
    TaskRun,
    case,
    guard_records,
    lab_env,
    make_positions,
    run_requests,
    run_tasks,
)
from tests.support.processes import celery_worker, http_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Hook name in the guard's "internal error in <hook>" line -> the internal that is broken.
IN_UNIT = {
    "database watch": "async_guard.runtime.db:foreign_query",
    "unit finish": "async_guard.runtime.loops:check_loops",
    "exception diagnosis": "async_guard.runtime.diagnosis:classify",
    "unawaited coroutine hook": "async_guard.runtime.coroutines:note_unawaited",
}
UNIT_START = {"unit start": "async_guard.runtime.unit:Unit"}


def _faults(hooks: dict[str, str]) -> dict[str, str]:
    return lab_env("warn", GUARDLAB_FAULTS=",".join(hooks.values()))


def _internal_errors(log: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in guard_records(log):
        message = record["message"]
        if message.startswith("async_guard internal error in "):
            assert record["level"] == "ERROR"
            assert "guardlab: injected fault" in message
            hook = message.removeprefix("async_guard internal error in ").split(":")[0]
            counts[hook] = counts.get(hook, 0) + 1
    return counts


def _events(log: str) -> list[str]:
    return [r["async_guard"]["code"] for r in guard_records(log) if r.get("async_guard")]


@pytest.mark.redis
def test_broken_guard_in_a_worker_logs_once_and_tasks_run_as_without_it(lab_logs: Path) -> None:
    names = [
        "guardlab.save_in_atomic.bad",
        "guardlab.save_in_atomic.bad",
        "guardlab.loop_open.bad",
        "guardlab.loop_open.bad",
        "guardlab.sync_orm_in_coroutine.bad",
        "guardlab.sync_orm_in_coroutine.bad",
        "guardlab.never_awaited.bad",
        "guardlab.never_awaited.bad",
        "guardlab.save_in_atomic.good",
        "guardlab.sync_orm.good",
    ]
    runs = [TaskRun(name, pk) for name, pk in zip(names, make_positions(len(names)), strict=True)]
    with celery_worker(lab_logs, pool="solo", env=_faults(IN_UNIT)) as worker:
        run_tasks(worker, runs)
        log = Lab(worker).process.log()

    outcomes = [(run.name, run.state, run.result) for run in runs]
    for name, state, result in outcomes:
        if name == "guardlab.sync_orm_in_coroutine.bad":
            # The application's own exception, unchanged.
            assert state == "FAILURE" and "SynchronousOnlyOperation" in result, result
        else:
            assert state == "SUCCESS", (name, result)
    assert [run.status_after for run in runs if "save_in_atomic" in run.name] == ["closing"] * 3
    assert _internal_errors(log) == dict.fromkeys(IN_UNIT, 1)
    # The broken checks report nothing; the connection check after them is skipped too.
    assert _events(log) == []


def test_broken_unit_start_under_wsgi_leaves_every_request_alone(lab_logs: Path) -> None:
    targets = ["program/sync_orm/good", "program/read/bad", "program/save_in_atomic/bad",
               "async/sync-orm/good", "async/sync-orm/bad"]  # fmt: skip
    pks = make_positions(len(targets))
    paths = {case(t).path(pk): pk for t, pk in zip(targets, pks, strict=True)}
    with http_server("gunicorn", lab_logs, env=_faults(UNIT_START)) as server:
        responses = run_requests(server, paths)
        log = server.log()

    assert [r.status for r in responses.values()] == [200, 200, 200, 200, 500]
    assert list(responses.values())[2].status_after == "closing"
    assert _internal_errors(log) == {"unit start": 1}
    # No unit started, so the only event is the escaped exception's diagnosis,
    # which Django's got_request_exception still delivers, with no unit.
    (diagnosis,) = [r["async_guard"] for r in guard_records(log) if r.get("async_guard")]
    assert (diagnosis["code"], diagnosis["unit"]) == ("AGR108", None)


def test_broken_guard_under_asgi_leaves_every_request_alone(lab_logs: Path) -> None:
    targets = ["program/sync_orm/good", "program/loop_open/bad", "program/loop_open/bad#again",
               "program/never_awaited/bad", "async/sync-orm/bad", "async/sync-orm/good",
               "async/async-to-sync/bad"]  # fmt: skip
    pks = make_positions(len(targets))
    paths = {case(t).path(pk): pk for t, pk in zip(targets, pks, strict=True)}
    with http_server("uvicorn", lab_logs, env=_faults(IN_UNIT)) as server:
        responses = run_requests(server, paths)
        log = server.log()

    assert [r.status for r in responses.values()] == [200, 200, 200, 200, 500, 200, 500]
    assert _internal_errors(log) == {
        "unit finish": 1,
        "exception diagnosis": 1,
        "unawaited coroutine hook": 1,
    }
    assert _events(log) == []
