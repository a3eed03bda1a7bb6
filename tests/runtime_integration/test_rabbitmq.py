"""The canonical case once more with RabbitMQ as the broker (127.0.0.1:5672, guest/guest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings

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
    pytest.mark.rabbitmq,
    pytest.mark.redis,  # the result backend
    pytest.mark.django_db(transaction=True),
]

AMQP = "amqp://guest:guest@127.0.0.1:5672//"


def test_asyncio_run_write_is_caught_and_async_to_sync_is_not(lab_logs: Path) -> None:
    first, second = make_positions(2)
    # Not the current app: later tests' shared_task.apply_async would go to RabbitMQ.
    producer = Celery(
        "guardlab-amqp", broker=AMQP, backend=settings.CELERY_RESULT_BACKEND, set_as_current=False
    )
    producer.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"])
    runs = [
        TaskRun("guardlab.save_in_atomic.bad", first),
        TaskRun("guardlab.save_in_atomic.good", second),
    ]
    with celery_worker(lab_logs, pool="solo", env=lab_env("warn"), broker_url=AMQP) as worker:
        assert "amqp://guest:**@127.0.0.1:5672//" in worker.log()
        bad, good = run_tasks(worker, runs, app=producer)
        lab = Lab(worker)
        bad_codes = [e.code for e in lab.events_of(bad.task_id)]
        assert bad_codes.count("AGR101") == 1 and set(bad_codes) <= {"AGR101", "AGR107"}
        assert lab.events_of(good.task_id) == []
        # Celery's warm shutdown on AMQP takes ~10 s; nothing is left to finish.
        worker.stop(timeout=2)
    assert (bad.result, good.result) == ("closing", "closing")
    producer.close()
