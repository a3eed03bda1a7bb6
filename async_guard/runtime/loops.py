"""Event-loop tracking (AGR102, AGR103) and the self-wait detector (AGR109).

Two methods of ``asyncio.BaseEventLoop`` are wrapped once, in ``ready()``:

* ``__init__`` notes every loop created while a unit of work is active,
  whatever created it (``asyncio.run`` through ``asyncio.Runner``,
  ``new_event_loop``, a loop factory, ``get_event_loop`` creating one);
* ``run_in_executor``, which ``sync_to_async`` (and so every async ORM method)
  uses to hand work to a thread, checks whether the chosen executor is one
  whose only thread is the calling thread. That thread is busy running this
  loop, so the work can never start: the ASGI deadlock of ``asyncio.run`` in
  a sync view, detected before it blocks. It also routes the work item
  through :func:`async_guard.runtime.db.enter_worker`, which puts the
  database watch on the worker thread if it is not the unit's own. An async
  unit's first hop from its own loop also completes the unit's view of
  asgiref's routing (:func:`outer_executor`), which decides which thread
  is the unit's own.

Outside a unit of work both cost one context-variable read.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from asgiref.current_thread_executor import CurrentThreadExecutor
from asgiref.sync import AsyncToSync

from async_guard.errors import AsyncGuardError
from async_guard.runtime import db, events
from async_guard.runtime.frames import user_frames
from async_guard.runtime.state import OUTER_PENDING, Unit, current_unit

_LOOP_LIMIT = 256
_get_ident = threading.get_ident
# The last (executor, calling thread) found not to wait on its own thread: one
# tuple, so that threads racing to replace it never pair one's executor with
# the other's thread.
_free: tuple[Executor | None, int] = (None, 0)

_originals: dict[str, Callable[..., Any]] = {}


def install() -> None:
    """Wrap the loop methods (idempotent)."""
    if _originals:
        return
    cls = asyncio.base_events.BaseEventLoop
    original_init = cls.__init__
    original_run_in_executor = cls.run_in_executor

    def __init__(self: asyncio.base_events.BaseEventLoop, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        unit = current_unit.get()
        if unit is not None:
            note_loop(unit, self)

    def run_in_executor(
        self: asyncio.base_events.BaseEventLoop, executor: Executor | None, func: Any, *args: Any
    ) -> Any:
        unit = current_unit.get()
        if unit is not None:
            routing = unit.routing
            if routing is not None and routing[0] is OUTER_PENDING and routing[2] is self:
                unit.routing = (outer_executor(), routing[1], self)
            if executor is not None:
                free = _free
                if free[0] is not executor or free[1] != _get_ident():
                    check_self_wait(unit, executor)
            # enter_worker(unit, func, *args) on the worker thread, the unit and
            # the work item passed as arguments: no partial to make and call at
            # each hop (a dozen per ASGI request).
            return original_run_in_executor(self, executor, db.enter_worker, unit, func, *args)
        return original_run_in_executor(self, executor, func, *args)

    _originals["__init__"] = original_init
    _originals["run_in_executor"] = original_run_in_executor
    cls.__init__ = __init__  # type: ignore[method-assign,assignment]
    cls.run_in_executor = run_in_executor  # type: ignore[method-assign,assignment]


def outer_executor() -> CurrentThreadExecutor | None:
    """The executor of the ``async_to_sync`` that runs this task's loop, if one does.

    Read in the unit's own task, at its first hop to a thread: the context
    there is the one the unit started in, so asgiref routes the hop by the
    same value.
    """
    return getattr(AsyncToSync.executors, "current", None)


def uninstall() -> None:
    cls = asyncio.base_events.BaseEventLoop
    for name, original in _originals.items():
        setattr(cls, name, original)
    _originals.clear()


@events.guarded("loop tracking")
def note_loop(unit: Unit, loop: asyncio.AbstractEventLoop) -> None:
    if len(unit.loops) >= _LOOP_LIMIT:
        # A long unit that creates and closes many loops keeps only the open ones.
        unit.loops[:] = [entry for entry in unit.loops if not entry[0].is_closed()]
    unit.loops.append((loop, user_frames(sys._getframe(2)), threading.current_thread().name))


def check_self_wait(unit: Unit, executor: Executor) -> None:
    """AGR109: work handed to an executor whose only thread is this (busy) thread."""
    try:
        me = threading.current_thread()
        if isinstance(executor, CurrentThreadExecutor):
            blocked = executor._work_thread is me
        elif isinstance(executor, ThreadPoolExecutor):
            blocked = executor._max_workers == 1 and me in executor._threads
        else:
            blocked = False
        if not blocked:
            # It stays so for this thread: an executor's threads are fixed
            # once started, and any it starts later are new ones. Successive
            # hops mostly go to one executor from one thread (a request's, a
            # WebSocket connection's), so the last answer spares them the check.
            global _free
            _free = (executor, _get_ident())
            return
        frames = user_frames(sys._getframe(2))
        events.report(
            unit,
            "AGR109",
            f"sync_to_async on an event loop running in thread {me.name!r} sends its work to "
            f"that same thread, which is busy running the loop for {unit.label!r}: the call "
            "can never complete. A sync view under ASGI runs on the request's one-thread "
            "executor, so asyncio.run there plus the ORM deadlocks; make the view async and "
            "await the async ORM, or keep the ORM call in the sync code outside the loop",
            key=frames[0] if frames else None,
            frames=frames,
        )
    except AsyncGuardError:
        raise
    except Exception as exc:
        events.internal_error("self-wait check", exc)


def thread_current_loop() -> asyncio.AbstractEventLoop | None:
    """The loop set as current for this thread, without creating one."""
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    loop = getattr(local, "_loop", None)
    return loop if isinstance(loop, asyncio.AbstractEventLoop) else None


def check_loops(unit: Unit) -> list[AsyncGuardError]:
    """AGR102 (loops left open) and AGR103 (this thread's current loop is dead)."""
    if not unit.loops:
        return []  # AGR103 too concerns only loops this unit created
    errors = []
    for loop, frames, thread in unit.loops:
        if loop.is_closed():
            continue
        errors.append(
            events.deferred(
                unit,
                "AGR102",
                f"event loop created on thread {thread!r} during {unit.label!r} was not "
                "closed: its selector and sockets leak, and objects bound to it fail later; "
                "use asyncio.run / asyncio.Runner, or close the loop in finally",
                key=id(loop),
                frames=frames,
            )
        )
    current = thread_current_loop()
    if current is not None and current.is_closed():
        created = next((entry for entry in unit.loops if entry[0] is current), None)
        if created is not None:
            errors.append(
                events.deferred(
                    unit,
                    "AGR103",
                    f"thread {threading.current_thread().name!r} is left with a closed event "
                    f"loop as its current loop after {unit.label!r}: the next get_event_loop() "
                    "hands out a dead loop ('Event loop is closed'); call "
                    "asyncio.set_event_loop(None) after closing it, or use asyncio.run / "
                    "async_to_sync",
                    key=id(current),
                    frames=created[1],
                )
            )
    return [error for error in errors if error is not None]
