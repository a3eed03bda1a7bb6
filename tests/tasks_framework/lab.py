"""Tasks of the lab for Django's tasks framework.

``run_program`` runs any program of the guard lab (``tests/guardlab/programs.py``,
the same code the Celery worker and the servers run) as one task, picked by its
arguments, so that a worker process of any backend can run the whole batch.
The others are the mistakes only a task can make. Module-level ``Task``
objects: a worker finds a task by its module path.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.guardlab.programs import fetch_quote, loop_left_open, program, read_symbol
from tests.tasks_framework import FRAMEWORK

if FRAMEWORK == "django.tasks":
    from django.tasks import task
else:  # Django before 6.0: the django-tasks backport
    from django_tasks import task


@task()
def run_program(name: str, variant: str, pk: int) -> Any:
    return program(name, variant)(pk)


@task()
def returns_coroutine(pk: int) -> Any:
    return read_symbol(pk)  # the mistake under test: a plain def returns the coroutine


@task()
async def async_task(pk: int) -> str:
    """Correct: the framework runs an async task with async_to_sync on backends that allow it."""
    return await read_symbol(pk)


@task()
def ping(pk: int = 0) -> str:
    return "pong"


async def _enqueue_ping(pk: int) -> Any:
    # On the immediate backend the inner task runs right here, on the loop's thread.
    return ping.using(backend="default").enqueue(pk).return_value


@task()
def enqueue_inside_loop(pk: int) -> Any:
    return asyncio.run(_enqueue_ping(pk))


@task()
def enqueue_outside_loop(pk: int) -> Any:
    return ping.using(backend="default").enqueue(pk).return_value


class TaskFailed(Exception):
    """The task's own failure, raised after it left a loop open."""


@task()
def loop_open_then_fail(pk: int) -> None:
    loop_left_open(pk)
    raise TaskFailed(f"position {pk}")


@task()
def quote(pk: int = 0) -> Any:
    """Correct, no database: the sentinel a test enqueues last."""
    return asyncio.run(fetch_quote())


def _refuse(value: Any) -> None:
    raise TypeError(f"cannot use {value!r}")


@task()
def type_error_on_a_coroutine(pk: int) -> None:
    """Fails inside its own code, on a coroutine it made: not a coroutine it returned."""
    _refuse(read_symbol(pk))
