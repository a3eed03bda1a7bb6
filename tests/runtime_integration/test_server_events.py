"""Every request-shaped guard event, from real servers: gunicorn (WSGI) and uvicorn (ASGI).

One server per kind serves the whole batch of lab views (``tests/guardlab/views.py``)
in ``warn`` mode, one request after another; each test reads one request's
events from the server's log. The ASGI deadlock of ``asyncio.run`` + ORM in a
sync view (AGR109) cannot run in this batch in ``warn`` mode (the request
never completes): ``test_raise_mode.py`` starts servers of its own for it.
AGR109's other shape, a bridge inside a bridge, fails at once and runs here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime_integration.support import (
    Case,
    Lab,
    Response,
    case,
    check_events,
    lab_env,
    make_positions,
    run_requests,
)
from tests.support.processes import http_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OFF_THREAD = ("AGR107",)


def _program(name: str, variant: str) -> str:
    return f"program/{name}/{variant}"


# (expected on gunicorn, expected on uvicorn); the target is the path under
# /guardlab/ without the pk. ``None`` on uvicorn: the request deadlocks there
# (AGR109), see test_raise_mode.py.
BOTH: list[tuple[Case, Case | None]] = [
    (
        case(_program("save_in_atomic", "bad"), "AGR101", allowed=OFF_THREAD, outcome=200),
        None,
    ),
    (case(_program("save_in_atomic", "good"), outcome=200),) * 2,
    (case(_program("read", "bad"), "AGR101", allowed=OFF_THREAD, outcome=200), None),
    (case(_program("read", "good"), outcome=200),) * 2,
    (case(_program("rollback", "bad"), "AGR101", allowed=OFF_THREAD, outcome=200), None),
    (case(_program("rollback", "good"), outcome=200),) * 2,
    (case(_program("nested_bridge", "bad"), "AGR109", outcome=500),) * 2,
    (case(_program("nested_bridge", "good"), outcome=200),) * 2,
    (case(_program("loop_open", "bad"), "AGR102", outcome=200),) * 2,
    (case(_program("loop_open", "good"), outcome=200),) * 2,
    (case(_program("closed_loop_current", "bad"), "AGR103", outcome=200),) * 2,
    (case(_program("sync_orm", "good"), outcome=200),) * 2,
    (case(_program("closed_loop_current", "good"), outcome=200),) * 2,
    (case(_program("never_awaited", "bad"), "AGR106", outcome=200),) * 2,
    (case(_program("never_awaited", "good"), outcome=200),) * 2,
    # Made here, dropped by a later request: still this request's event.
    (case(_program("pending_coroutine", "bad"), "AGR106", outcome=200),) * 2,
    (case(_program("pending_coroutine", "good"), outcome=200),) * 2,
    (case(_program("sync_orm_in_coroutine", "bad"), "AGR108", outcome=500),) * 2,
    (case(_program("sync_orm_in_coroutine", "good"), outcome=200),) * 2,
    (case(_program("closed_loop_reused", "bad"), "AGR108", "AGR106", outcome=500),) * 2,
    # Collects the failure's traceback, and with it the coroutine above.
    (case(_program("gc_collect", "good") + "#after-reused", outcome=200),) * 2,
    (case(_program("closed_loop_reused", "good"), outcome=200),) * 2,
    # A fresh loop that never calls back into sync code: fine even under ASGI.
    (case(_program("pure_async", "good"), outcome=200),) * 2,
    (case("async/sync-orm/bad", "AGR108", outcome=500),) * 2,
    (case("async/sync-orm/good", outcome=200),) * 2,
    (case("async/async-to-sync/bad", "AGR108", outcome=500),) * 2,
    (case("async/async-to-sync/good", outcome=200),) * 2,
    (case("async/apply-task/bad", "AGR104", outcome=200),) * 2,
    (case("async/apply-task/good", outcome=200),) * 2,
    (case("sync/returns-coroutine/bad", "AGR105", allowed=("AGR106",), outcome=500),) * 2,
    (case(_program("gc_collect", "good") + "#after-returned", outcome=200),) * 2,
    (case("sync/returns-coroutine/good", outcome=200),) * 2,
    (case(_program("drop_pending", "good"), outcome=200),) * 2,
]


class Served:
    def __init__(self, lab: Lab, paths: dict[str, str], responses: dict[str, Response]) -> None:
        self.lab = lab
        self.paths = paths  # case target -> request path
        self.responses = responses


@contextlib.contextmanager
def _serve(kind: str, cases: list[Case], module_db: Any, lab_logs: Path) -> Iterator[Served]:
    with module_db():
        pks = make_positions(len(cases))
        env = lab_env("warn")
    paths = {c.target: c.path(pk) for c, pk in zip(cases, pks, strict=True)}
    with http_server(kind, lab_logs, env=env) as server:
        with module_db():
            responses = run_requests(server, dict(zip(paths.values(), pks, strict=True)))
        yield Served(Lab(server), paths, responses)


GUNICORN = [wsgi for wsgi, _ in BOTH]
UVICORN = [asgi for _, asgi in BOTH if asgi is not None]


@pytest.fixture(scope="module")
def gunicorn(module_db: Any, lab_logs: Path) -> Iterator[Served]:
    with _serve("gunicorn", GUNICORN, module_db, lab_logs) as served:
        yield served


@pytest.fixture(scope="module")
def uvicorn(module_db: Any, lab_logs: Path) -> Iterator[Served]:
    with _serve("uvicorn", UVICORN, module_db, lab_logs) as served:
        yield served


def _check(served: Served, expectation: Case) -> None:
    path = served.paths[expectation.target]
    check_events(served.lab.events_of(path), expectation)
    response = served.responses[path]
    assert response.status == expectation.outcome, response.body[-2000:]


@pytest.mark.parametrize("expectation", GUNICORN, ids=str)
def test_wsgi_request_events(gunicorn: Served, expectation: Case) -> None:
    _check(gunicorn, expectation)


@pytest.mark.parametrize("expectation", UVICORN, ids=str)
def test_asgi_request_events(uvicorn: Served, expectation: Case) -> None:
    _check(uvicorn, expectation)
