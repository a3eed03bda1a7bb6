"""Celery tasks of the lab: every program of ``programs.PROGRAMS`` as ``guardlab.<name>.<variant>``.

Plus the mistakes that only a task can make: an ``async def`` task (AGR105),
and a task run eagerly inside a running event loop (AGR104).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from asgiref.sync import async_to_sync
from celery import shared_task

from tests.guardlab.programs import CONTROLS, PROGRAMS, read_symbol


def _register_programs() -> None:
    for name, pair in PROGRAMS.items():
        for variant, fn in zip(("bad", "good"), pair, strict=True):
            shared_task(name=f"guardlab.{name}.{variant}")(fn)
    for name, fn in CONTROLS.items():
        shared_task(name=f"guardlab.{name}.good")(fn)


_register_programs()


@shared_task(name="guardlab.ping")
def ping(pk: int = 0) -> str:
    """The trivial task: the throughput benchmark's unit, and AGR104's victim."""
    return "pong"


@shared_task(name="guardlab.clock")
def clock() -> float:
    """The worker's own clock, so a benchmark times the worker and not its broker round trips."""
    return time.perf_counter()


@shared_task(name="guardlab.async_task.bad")
async def async_task(pk: int) -> str:  # the mistake under test: Celery never awaits it
    return await read_symbol(pk)


@shared_task(name="guardlab.async_task.good")
def bridged_task(pk: int) -> str:
    return async_to_sync(read_symbol)(pk)


# The inline task's id extends the caller's, so a test finds both units by one id.


async def _apply_ping(pk: int, task_id: str) -> Any:
    return ping.apply(args=[pk], task_id=task_id).result


@shared_task(name="guardlab.apply_inside_loop.bad", bind=True)
def apply_inside_loop(self: Any, pk: int) -> Any:
    # An async helper that runs another task inline: the inner sync task starts
    # on a thread whose event loop is running.
    return asyncio.run(_apply_ping(pk, f"{self.request.id}.inline"))


@shared_task(name="guardlab.apply_inside_loop.good", bind=True)
def apply_outside_loop(self: Any, pk: int) -> Any:
    return ping.apply(args=[pk], task_id=f"{self.request.id}.inline").result
