"""A task the guard fails in raise mode reads back as ``AsyncGuardError`` with its code.

Real ``celery worker`` processes in ``MODE=raise`` on every pool (prefork, threads,
solo) and both result serializers (json, pickle) run the lab's
``asyncio.run()``-over-``sync_to_async``-ORM task and its correct twin, with the
reference project's Redis result backend. The client reads the outcome as any
caller (or Flower) would: through ``AsyncResult`` and through the meta the worker
stored. An eager ``apply()`` in this process must keep the class and code too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from celery import Celery, states
from django.conf import settings
from django.db import connections
from kombu.serialization import loads

from async_guard import AsyncGuardError
from tests.runtime_integration.support import TaskRun, lab_env, make_positions, run_tasks
from tests.support.processes import celery_worker

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

BAD = "guardlab.save_in_atomic.bad"
GOOD = "guardlab.save_in_atomic.good"
ERROR_CLASS = "async_guard.errors.AsyncGuardError"

# One worker start per pool and serializer: the serializer is the worker's setting.
WORKERS = [
    (pool, serializer)
    for pool in ("prefork", "threads", "solo")
    for serializer in ("json", "pickle")
]


def client_app(serializer: str) -> Celery:
    """A caller of the lab's tasks that reads results stored with ``serializer``."""
    return Celery(
        f"error-results-{serializer}",
        set_as_current=False,
        broker=settings.CELERY_BROKER_URL,
        backend=settings.CELERY_RESULT_BACKEND,
        config_source={
            "result_serializer": serializer,
            "result_accept_content": [serializer],
            "broker_connection_retry_on_startup": True,
        },
    )


def stored_meta(app: Celery, task_id: str) -> dict[str, Any]:
    """The result meta as the worker wrote it to Redis, before Celery rebuilds anything."""
    backend = app.backend
    raw = backend.get(backend.get_key_for_task(task_id))
    assert raw is not None, f"no result stored for {task_id}"
    meta: dict[str, Any] = loads(
        raw, backend.content_type, backend.content_encoding, accept=backend.accept
    )
    return meta


def stored_class(meta: dict[str, Any]) -> str:
    result = meta["result"]
    if isinstance(result, dict):  # json: the class's place, beside its args
        return f"{result['exc_module']}.{result['exc_type']}"
    return f"{type(result).__module__}.{type(result).__qualname__}"  # pickle: the exception


@pytest.fixture(scope="module", params=WORKERS, ids=lambda p: f"{p[0]}-{p[1]}")
def worker_results(
    request: Any, module_db: Any, lab_logs: Path
) -> Iterator[tuple[Celery, dict[str, TaskRun]]]:
    pool, serializer = request.param
    with module_db():
        bad_pk, good_pk = make_positions(2)
        env = lab_env("raise", CELERY_RESULT_SERIALIZER=serializer)
    app = client_app(serializer)
    runs = [TaskRun(BAD, bad_pk), TaskRun(GOOD, good_pk)]
    try:
        with celery_worker(lab_logs, pool=pool, env=env) as worker:
            with module_db():
                run_tasks(worker, runs, app=app)
            yield app, {run.name: run for run in runs}
    finally:
        app.close()


def test_the_failed_task_reads_back_as_the_guard_error(
    worker_results: tuple[Celery, dict[str, TaskRun]],
) -> None:
    app, runs = worker_results
    run = runs[BAD]
    result = app.AsyncResult(run.task_id)
    assert result.state == states.FAILURE
    error = result.result
    assert isinstance(error, AsyncGuardError), repr(error)
    assert error.code == "AGR101"
    assert str(error).startswith("AGR101 query on thread ")
    # raise mode refused the query: the position was never marked
    assert run.status_after == "open"


def test_the_stored_meta_names_the_guard_error(
    worker_results: tuple[Celery, dict[str, TaskRun]],
) -> None:
    app, runs = worker_results
    meta = stored_meta(app, runs[BAD].task_id)
    assert meta["status"] == states.FAILURE
    assert stored_class(meta) == ERROR_CLASS
    result = meta["result"]
    code = result["exc_message"][0] if isinstance(result, dict) else result.code
    assert code == "AGR101"


def test_the_correct_twin_succeeds(worker_results: tuple[Celery, dict[str, TaskRun]]) -> None:
    app, runs = worker_results
    run = runs[GOOD]
    assert run.state == states.SUCCESS, run.result
    assert stored_meta(app, run.task_id)["status"] == states.SUCCESS
    assert run.status_after == "closing"


# -- eager ------------------------------------------------------------------------------


@pytest.fixture
def eager_app() -> Iterator[Celery]:
    """Tasks run in this process with ``apply()``, storing their results in Redis as json."""
    from tests.guardlab.programs import save_in_atomic_asyncio_run

    app = client_app("json")
    app.conf.task_store_eager_result = True
    app.task(name="error_results.bad", shared=False)(save_in_atomic_asyncio_run)
    try:
        yield app
    finally:
        app.close()
        # the refused query opened a connection on asgiref's thread: close it, or
        # PostgreSQL refuses to drop the test database at the end of the run
        SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


def test_eager_apply_keeps_the_class_and_code(eager_app: Celery, settings: Any) -> None:
    settings.ASYNC_GUARD = {"MODE": "raise"}
    (pk,) = make_positions(1)
    result = eager_app.tasks["error_results.bad"].apply(args=[pk])
    assert result.state == states.FAILURE
    assert type(result.result) is AsyncGuardError
    assert result.result.code == "AGR101"
    # what the eager run stored reads back the same
    stored = eager_app.AsyncResult(result.id)
    assert isinstance(stored.result, AsyncGuardError) and stored.result.code == "AGR101"
    assert stored_class(stored_meta(eager_app, result.id)) == ERROR_CLASS
