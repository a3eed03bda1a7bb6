"""``MODE=raise`` in real processes: the off-thread write never happens, correct code still runs.

AGR101 raises before the query runs, so nothing is written; AGR109 raises
before the call that would deadlock, so the ASGI request fails at once instead
of hanging. The same processes run the correct twins, which must succeed.
The last test shows AGR109 in ``warn`` mode: logged, and the request then hangs
as it would without the guard (bounded by the client's timeout).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime_integration.support import (
    Lab,
    TaskRun,
    http_get,
    lab_env,
    make_positions,
    run_requests,
    run_tasks,
    statuses,
)
from tests.support.processes import celery_worker, http_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TASKS = [
    "guardlab.save_in_atomic.bad",
    "guardlab.rollback.bad",
    "guardlab.read.bad",
    "guardlab.save_in_atomic.good",
    "guardlab.rollback.good",
    "guardlab.read.good",
    "guardlab.sync_orm.good",
    "guardlab.pure_async.good",
    "guardlab.never_awaited.good",
    "guardlab.async_task.good",
    "guardlab.apply_inside_loop.good",
]


@pytest.fixture(scope="module")
def raised_tasks(module_db: Any, lab_logs: Path) -> Iterator[tuple[Lab, dict[str, TaskRun]]]:
    with module_db():
        pks = make_positions(len(TASKS))
        env = lab_env("raise")
    runs = [TaskRun(name, pk) for name, pk in zip(TASKS, pks, strict=True)]
    with celery_worker(lab_logs, pool="solo", env=env) as worker:
        with module_db():
            run_tasks(worker, runs)
        yield Lab(worker), {run.name: run for run in runs}


@pytest.mark.redis
@pytest.mark.parametrize(
    "name", ["guardlab.save_in_atomic.bad", "guardlab.rollback.bad", "guardlab.read.bad"]
)
def test_raise_mode_stops_the_off_thread_query(
    raised_tasks: tuple[Lab, dict[str, TaskRun]], name: str
) -> None:
    lab, runs = raised_tasks
    run = runs[name]
    assert run.state == "FAILURE"
    assert "AGR101" in run.result
    assert [e.code for e in lab.events_of(run.task_id)].count("AGR101") == 1
    # The query did not run: the position is still open (rolled back or never written).
    assert run.status_after == "open"


@pytest.mark.redis
@pytest.mark.parametrize("name", [name for name in TASKS if name.endswith(".good")])
def test_raise_mode_runs_correct_tasks(
    raised_tasks: tuple[Lab, dict[str, TaskRun]], name: str
) -> None:
    lab, runs = raised_tasks
    run = runs[name]
    assert run.state == "SUCCESS", run.result
    assert lab.events_of(run.task_id) == []


REQUESTS = {
    # (gunicorn, uvicorn) event of the bad programs
    "program/save_in_atomic/bad": ("AGR101", "AGR109"),
    "program/rollback/bad": ("AGR101", "AGR109"),
    "program/read/bad": ("AGR101", "AGR109"),
    "program/save_in_atomic/good": (None, None),
    "program/pure_async/good": (None, None),
    "async/sync-orm/good": (None, None),
}


@pytest.fixture(scope="module")
def raised_requests(request: Any, module_db: Any, lab_logs: Path) -> Iterator[Any]:
    kind = request.param
    with module_db():
        pks = make_positions(len(REQUESTS))
        env = lab_env("raise")
    paths = {target: f"/guardlab/{target}/{pk}/" for target, pk in zip(REQUESTS, pks, strict=True)}
    with http_server(kind, lab_logs, env=env) as server:
        with module_db():
            responses = run_requests(server, dict(zip(paths.values(), pks, strict=True)))
        yield kind, Lab(server), paths, responses


@pytest.mark.parametrize("raised_requests", ["gunicorn", "uvicorn"], indirect=True)
@pytest.mark.parametrize("target", list(REQUESTS))
def test_raise_mode_requests(raised_requests: Any, target: str) -> None:
    kind, lab, paths, responses = raised_requests
    path = paths[target]
    code = REQUESTS[target][0 if kind == "gunicorn" else 1]
    codes = [e.code for e in lab.events_of(path)]
    if code is None:
        assert responses[path].status == 200, responses[path].body[-2000:]
        assert codes == []
    else:
        assert responses[path].status == 500
        assert codes.count(code) == 1, codes
        # The connection the refused query opened on the other thread stays open.
        assert set(codes) <= {code, "AGR107"}, codes
        assert responses[path].status_after == "open"


def test_deadlock_in_warn_mode_is_logged_before_it_blocks(module_db: Any, lab_logs: Path) -> None:
    """AGR109 in ``warn`` mode: the event is in the log while the request still hangs."""
    with module_db():
        (pk,) = make_positions(1)
        env = lab_env("warn")
    path = f"/guardlab/program/save_in_atomic/bad/{pk}/"
    with http_server("uvicorn", lab_logs, env=env) as server:
        lab = Lab(server)
        with pytest.raises((TimeoutError, socket.timeout, OSError)):
            http_get(server.info["url"] + path, timeout=3)
        event = lab.wait_event("AGR109", path, timeout=10)
        assert event["where"]["file"].endswith("tests/guardlab/programs.py")
        # The thread is stuck for good: stop the server without waiting for it.
        server.stop(timeout=1)
    assert statuses([pk]) == {pk: "open"}
