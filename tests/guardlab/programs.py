"""The lab's programs: each async/sync mistake teams make, and its correct twin.

Every program is a plain sync function of a ``Position`` primary key, so that a
Celery task (``tasks.py``) and a sync view (``views.py``) run the very same code
as their unit of work. ``PROGRAMS`` maps a name to its ``(bad, good)`` pair; the
tests pick them by name and check which guard events each one produces in a real
worker or server.

The coroutines here stand for an async-only SDK call (a broker SDK's
session) followed by an ORM write through ``sync_to_async``: exactly the code
that loses writes when the bridge is ``asyncio.run`` instead of
``async_to_sync``.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.db import transaction

from trading.models import Position

Program = Callable[[int], Any]


class Rollback(Exception):
    """Raised inside ``atomic()`` to undo the caller's transaction on purpose."""


async def fetch_quote(symbol: str = "SPY") -> dict[str, Any]:
    """Stand-in for an async SDK call: no database, one trip through the loop."""
    await asyncio.sleep(0)
    return {"symbol": symbol, "bid": "1.25"}


async def mark_closing(position: Position) -> str:
    """Async helper that saves through ``sync_to_async``, as async code should."""
    await fetch_quote(position.symbol)
    position.status = Position.Status.CLOSING
    await sync_to_async(position.save)(update_fields=["status"])
    return str(position.status)


async def read_symbol(pk: int) -> str:
    """Async helper that reads through Django's async ORM."""
    position = await Position.objects.aget(pk=pk)
    return position.symbol


async def read_symbol_sync_orm(pk: int) -> str:
    """The mistake: a sync ORM call inside ``async def``."""
    return Position.objects.get(pk=pk).symbol


# -- AGR101 (and AGR107): the write that leaves the caller's thread -------------------

# The two bridges from sync code to a coroutine function: the mistake and the fix.


def via_asyncio_run(fn: Callable[..., Coroutine[Any, Any, str]], *args: Any) -> str:
    return asyncio.run(fn(*args))


def via_async_to_sync(fn: Callable[..., Coroutine[Any, Any, str]], *args: Any) -> str:
    return async_to_sync(fn)(*args)


def save_in_atomic_asyncio_run(pk: int) -> str:
    position = Position.objects.get(pk=pk)
    with transaction.atomic():
        return asyncio.run(mark_closing(position))


def save_in_atomic_async_to_sync(pk: int) -> str:
    position = Position.objects.get(pk=pk)
    with transaction.atomic():
        return async_to_sync(mark_closing)(position)


def read_asyncio_run(pk: int) -> str:
    return asyncio.run(read_symbol(pk))


def read_async_to_sync(pk: int) -> str:
    return async_to_sync(read_symbol)(pk)


def _save_then_roll_back(pk: int, bridge: Callable[..., str]) -> str:
    """Mark the position closing through ``bridge``, then roll the caller's transaction back.

    Returns the status the database holds afterwards: ``open`` when the write
    was part of the caller's transaction, ``closing`` when it escaped it.
    """
    position = Position.objects.get(pk=pk)
    try:
        with transaction.atomic():
            bridge(mark_closing, position)
            raise Rollback
    except Rollback:
        pass
    return str(Position.objects.get(pk=pk).status)


def rollback_asyncio_run(pk: int) -> str:
    return _save_then_roll_back(pk, via_asyncio_run)


def rollback_async_to_sync(pk: int) -> str:
    return _save_then_roll_back(pk, via_async_to_sync)


def _save_under_row_lock(pk: int, bridge: Callable[..., str]) -> str:
    """Lock the row, then save it through ``bridge`` (PostgreSQL: a lock wait on itself)."""
    with transaction.atomic():
        position = Position.objects.select_for_update().get(pk=pk)
        return bridge(mark_closing, position)


def row_lock_asyncio_run(pk: int) -> str:
    return _save_under_row_lock(pk, via_asyncio_run)


def row_lock_async_to_sync(pk: int) -> str:
    return _save_under_row_lock(pk, via_async_to_sync)


# -- AGR109: a bridge inside a bridge ------------------------------------------------


def _sdk_sync_twin(pk: int) -> str:
    """A ``_sync`` twin that runs its coroutine with ``asyncio.run``."""
    return asyncio.run(read_symbol(pk))


def _sdk_sync_twin_bridged(pk: int) -> str:
    return async_to_sync(read_symbol)(pk)


async def _service(pk: int, twin: Callable[[int], str]) -> str:
    # Async code calling the sync twin through sync_to_async: the twin runs on
    # the caller's thread, whose CurrentThreadExecutor is busy running it.
    return await sync_to_async(twin)(pk)


def twin_with_asyncio_run_inside_bridge(pk: int) -> str:
    return async_to_sync(_service)(pk, _sdk_sync_twin)


def twin_with_async_to_sync_inside_bridge(pk: int) -> str:
    return async_to_sync(_service)(pk, _sdk_sync_twin_bridged)


# -- AGR102: a loop left open ---------------------------------------------------------


def loop_left_open(pk: int) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    return loop.run_until_complete(fetch_quote())


def loop_closed_in_finally(pk: int) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(fetch_quote())
    finally:
        loop.close()


# -- AGR103: a new loop set as the thread's loop, then closed, stays the thread's loop --


def closed_loop_left_current(pk: int) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(fetch_quote())
    finally:
        loop.close()


def runner_resets_current_loop(pk: int) -> dict[str, Any]:
    with asyncio.Runner() as runner:
        return runner.run(fetch_quote())


# -- AGR106: a coroutine that never runs ----------------------------------------------


def coroutine_never_awaited(pk: int) -> str:
    fetch_quote()  # type: ignore[unused-coroutine]  # the mistake under test
    return "sent"


def coroutine_bridged(pk: int) -> str:
    async_to_sync(fetch_quote)()
    return "sent"


# Coroutines made in one unit and dropped by a later one ("run these later").
_pending: list[Coroutine[Any, Any, Any]] = []


def coroutine_left_pending(pk: int) -> str:
    _pending.append(fetch_quote())
    return "queued"


def drop_pending(pk: int) -> int:
    """A correct unit that drops what an earlier one left: the warning fires here."""
    count = len(_pending)
    _pending.clear()
    return count


# -- AGR108: the errors that escape, with their diagnosis -----------------------------


def sync_orm_inside_asyncio_run(pk: int) -> str:
    return asyncio.run(read_symbol_sync_orm(pk))


def async_orm_inside_async_to_sync(pk: int) -> str:
    return async_to_sync(read_symbol)(pk)


class _CachedLoopClient:
    """A client that keeps one loop and closes it after a call."""

    loop: asyncio.AbstractEventLoop | None = None

    def call(self) -> dict[str, Any]:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
        try:
            return self.loop.run_until_complete(fetch_quote())
        finally:
            self.loop.close()


def reuse_closed_loop(pk: int) -> dict[str, Any]:
    client = _CachedLoopClient()
    client.call()
    return client.call()  # RuntimeError: Event loop is closed


def fresh_loop_per_call(pk: int) -> dict[str, Any]:
    loop_closed_in_finally(pk)
    return loop_closed_in_finally(pk)


# -- correct programs without a twin ----------------------------------------------------


def asyncio_run_without_orm(pk: int) -> dict[str, Any]:
    """A fresh loop that never calls back into sync code: not an event, even under ASGI."""
    return asyncio.run(fetch_quote())


def sync_orm(pk: int) -> str:
    """The ORM in sync code, on the unit's own thread."""
    return Position.objects.get(pk=pk).symbol


PROGRAMS: dict[str, tuple[Program, Program]] = {
    "save_in_atomic": (save_in_atomic_asyncio_run, save_in_atomic_async_to_sync),
    "read": (read_asyncio_run, read_async_to_sync),
    "rollback": (rollback_asyncio_run, rollback_async_to_sync),
    "row_lock": (row_lock_asyncio_run, row_lock_async_to_sync),
    "nested_bridge": (twin_with_asyncio_run_inside_bridge, twin_with_async_to_sync_inside_bridge),
    "loop_open": (loop_left_open, loop_closed_in_finally),
    "closed_loop_current": (closed_loop_left_current, runner_resets_current_loop),
    "never_awaited": (coroutine_never_awaited, coroutine_bridged),
    "pending_coroutine": (coroutine_left_pending, coroutine_bridged),
    "sync_orm_in_coroutine": (sync_orm_inside_asyncio_run, async_orm_inside_async_to_sync),
    "closed_loop_reused": (reuse_closed_loop, fresh_loop_per_call),
}


def collect_garbage(pk: int) -> int:
    """A correct unit that runs the cycle collector: whatever it finds is an earlier unit's."""
    return gc.collect()


# Correct code that must never produce an event; run as variant "good".
CONTROLS: dict[str, Program] = {
    "pure_async": asyncio_run_without_orm,
    "sync_orm": sync_orm,
    "drop_pending": drop_pending,
    "gc_collect": collect_garbage,
}


def program(name: str, variant: str) -> Program:
    """The ``bad`` or ``good`` program called ``name``; ``KeyError`` names what is unknown."""
    if name in CONTROLS and variant == "good":
        return CONTROLS[name]
    if name not in PROGRAMS:
        known = sorted([*PROGRAMS, *CONTROLS])
        raise KeyError(f"unknown guardlab program {name!r}; known: {known}")
    if variant not in ("bad", "good"):
        raise KeyError(f"unknown variant {variant!r} of {name!r}: use 'bad' or 'good'")
    bad, good = PROGRAMS[name]
    return bad if variant == "bad" else good
