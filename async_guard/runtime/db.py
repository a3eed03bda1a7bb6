"""The database watch: an execute wrapper on the connections of foreign threads (AGR101, AGR107).

A unit of work's context reaches another thread only through an event
loop's ``run_in_executor`` (``sync_to_async`` and every async ORM method use
it), which :mod:`async_guard.runtime.loops` wraps while a unit is active: the
work item first calls :func:`enter_worker` on the worker thread. If that
thread is not the unit's owner it is marked *watched* for good, and
:func:`watch_query` goes into the ``execute_wrappers`` of its connections
(existing ones now, new ones on ``connection_created``).

So the threads that only ever run their own units (request threads, worker
threads, scripts) carry no wrapper at all: their queries cost nothing extra.
On watched threads (asgiref's executor threads) the wrapper's fast path is a
context-variable read and a thread-id compare.
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any

from asgiref.sync import AsyncToSync, SyncToAsync
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from async_guard.errors import AsyncGuardError
from async_guard.runtime import coroutines, events
from async_guard.runtime.frames import Where, awaiting_frames, thread_frames, user_frames
from async_guard.runtime.state import OUTER_PENDING, Unit, current_unit

_get_ident = threading.get_ident


def watch_query(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    unit = current_unit.get()
    if unit is None or unit.owner_ident == _get_ident():
        return execute(sql, params, many, context)
    try:
        foreign_query(unit, sql, context["connection"])
    except AsyncGuardError:
        raise
    except Exception as exc:
        events.internal_error("database watch", exc)
    return execute(sql, params, many, context)


def foreign_query(unit: Unit, sql: str, connection: BaseDatabaseWrapper) -> None:
    """AGR101: a query of ``unit`` on a thread that is not its owner."""
    if unit.is_async and adopt_sync_thread(unit):
        return
    owner_db = owner_connection(unit.owner_ident, connection.alias)
    in_atomic = owner_db.in_atomic_block if owner_db is not None else None
    frames = foreign_frames(unit, sys._getframe(2))
    thread = threading.current_thread().name
    message = (
        f"query on thread {thread!r}, but {unit.label!r} runs on {unit.owner_name!r}: "
        f"it uses another database connection ({connection.alias!r})"
    )
    if in_atomic:
        message += ", outside the owner's transaction: this write is outside your transaction"
    message += (
        ". sync_to_async work left the unit's thread: a new event loop (asyncio.run, "
        "new_event_loop) sends it to asgiref's shared thread, thread_sensitive=False to a "
        "pool thread; call the coroutine with async_to_sync (async_guard.bridge.run_async), "
        "and keep thread_sensitive=True for the ORM"
    )
    events.report(
        unit,
        "AGR101",
        message,
        key=(connection.alias, _get_ident()),
        frames=frames,
        db_alias=connection.alias,
        in_atomic_block=in_atomic,
        sql=sql,
        level=logging.ERROR if in_atomic else logging.WARNING,
    )


def foreign_frames(unit: Unit, frame: FrameType) -> tuple[Where, ...]:
    """Where off-thread work of ``unit`` comes from.

    The worker's own stack when it runs user code; else (``sync_to_async(obj.save)``
    runs ``save`` straight from asgiref) the coroutine awaiting it on its loop,
    then the owner thread blocked in ``asyncio.run``.
    """
    return user_frames(frame) or (
        awaiting_frames(getattr(SyncToAsync.threadlocal, "main_event_loop", None))
        + thread_frames(unit.owner_ident)
    )


# The connection objects each thread opened, by thread and alias, so that a
# query on another thread can tell whether the owner was inside atomic() at
# that moment. Noted when a connection opens (an atomic block opens one before
# it starts, and a thread keeps its connection objects when they close), so a
# unit costs nothing here until its first foreign query. Weak: a thread's
# connection objects die with it.
_opened: dict[int, dict[str, weakref.ref[BaseDatabaseWrapper]]] = {}
_opened_lock = threading.Lock()


def note_opened(connection: BaseDatabaseWrapper) -> None:
    ident = _get_ident()
    by_alias = _opened.get(ident)
    if by_alias is None:
        with _opened_lock:
            # A new thread: forget threads whose connection objects all died.
            for dead in [i for i, refs in _opened.items() if not _alive(refs)]:
                del _opened[dead]
            by_alias = _opened[ident] = {}
    by_alias[connection.alias] = weakref.ref(connection)


def _alive(refs: dict[str, weakref.ref[BaseDatabaseWrapper]]) -> bool:
    return any(ref() is not None for ref in refs.values())


def owner_connection(ident: int, alias: str) -> BaseDatabaseWrapper | None:
    """The connection object for ``alias`` that thread ``ident`` last opened, if it lives."""
    ref = _opened.get(ident, {}).get(alias)
    return ref() if ref is not None else None


def adopt_sync_thread(unit: Unit) -> bool:
    """Whether this thread is where asgiref sends the async unit's sync work.

    An async unit (an ASGI request, an async ``watch``) runs its sync code
    through ``sync_to_async(thread_sensitive=True)``, whose thread asgiref
    picks: the outer ``async_to_sync``'s CurrentThreadExecutor if any, else
    the request's ThreadSensitiveContext executor, else the loop's own
    CurrentThreadExecutor, else the process's single shared thread. If this
    query is on that thread, it becomes the unit's owner from now on.
    """
    if unit.routing is None:
        return True
    outer, context, loop = unit.routing
    if outer is OUTER_PENDING:
        # Filled at the unit's first hop from its own loop: without one, no
        # work of this unit has gone where asgiref sends it.
        return False
    worker: Any
    if outer is not None:
        threads = {outer._work_thread}
    elif context is not None:
        worker = SyncToAsync.context_to_thread_executor.get(context)
        threads = set(getattr(worker, "_threads", ()))
    elif loop in AsyncToSync.loop_thread_executors:
        threads = {AsyncToSync.loop_thread_executors[loop]._work_thread}
    else:
        worker = SyncToAsync.single_thread_executor
        threads = set(getattr(worker, "_threads", ()))
    me = threading.current_thread()
    if me not in threads:
        return False
    unit.owner_ident = _get_ident()
    unit.owner_name = me.name
    return True


class _Thread(threading.local):
    watched = False


thread_state = _Thread()


def enter_worker(unit: Unit, func: Callable[..., Any], *args: Any) -> Any:
    """Run on the executor's thread before a unit's ``run_in_executor`` work item."""
    ident = _get_ident()
    if unit.owner_ident == ident:
        if not unit.is_async:
            return func(*args)
    else:
        if not thread_state.watched:
            try:
                if not (unit.is_async and adopt_sync_thread(unit)):
                    watch_this_thread()
            except Exception as exc:
                events.internal_error("executor thread watch", exc)
        if not (unit.is_async and unit.owner_ident == ident):
            return func(*args)
    # The async unit's sync work (a sync view under ASGI): track coroutine
    # origins here while it runs, as a sync unit does on its own thread.
    # Every sync_to_async call of an ASGI request comes here.
    slot = unit.slot
    if slot is None:
        slot = coroutines.slot_of(unit)
    return coroutines.TRAMPOLINES_TRACKING[slot](func, *args)


def watch_this_thread() -> None:
    thread_state.watched = True
    for connection in connections.all(initialized_only=True):
        install(connection)


def install(connection: BaseDatabaseWrapper) -> None:
    if watch_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(watch_query)


@events.guarded("connection_created")
def on_connection_created(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Watch a new connection of a watched thread; note connections opened off-thread."""
    note_opened(connection)
    if thread_state.watched:
        install(connection)
    unit = current_unit.get()
    if unit is not None and unit.owner_ident != _get_ident():
        if unit.is_async and adopt_sync_thread(unit):
            return
        unit.connections.append(
            (
                connection.alias,
                connection,
                threading.current_thread().name,
                foreign_frames(unit, sys._getframe(1)),
            )
        )


def check_connections(unit: Unit) -> list[AsyncGuardError]:
    """AGR107: connections this unit opened on other threads and left open."""
    errors = []
    for alias, connection, thread, frames in unit.connections:
        if connection.connection is None:
            continue
        error = events.deferred(
            unit,
            "AGR107",
            f"database connection {alias!r} opened on thread {thread!r} during {unit.label!r} "
            "is still open after it: nothing closes connections on that thread, so each such "
            "unit leaks one; use async_to_sync so the work stays on the unit's own thread",
            key=(alias, thread),
            frames=frames,
            db_alias=alias,
        )
        if error is not None:
            errors.append(error)
    return errors
