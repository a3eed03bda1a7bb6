"""Starting and ending a unit of work; ``watch()``, the unit for everything else.

A *sync* unit (a WSGI request, a Celery task, ``with watch(...)``) owns the
thread that started it: all its queries must run there. An *async* unit (an
ASGI request, ``async with watch(...)``, a watched ``async def``) starts on
its event loop's thread; its sync work runs where asgiref's thread-sensitive
mode sends it, and that thread becomes its owner at the first query.

Ending is two steps because a request's connection checks must wait until
its response is closed (Django closes a sync view's connection under ASGI on
``request_finished``, after the middleware returned): :func:`leave` restores
the context variable where the unit started, :func:`finish` runs the
end-of-unit checks wherever the unit really ends.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from contextvars import Token
from types import TracebackType
from typing import Any, TypeVar, cast

from asgiref.sync import SyncToAsync, iscoroutinefunction

from async_guard import conf
from async_guard.errors import AsyncGuardError
from async_guard.runtime import coroutines, db, diagnosis, events, loops
from async_guard.runtime.state import OUTER_PENDING, Label, Unit, current_unit

Entered = tuple[Unit, Token[Unit | None]]


def begin(
    kind: str,
    label: Label,
    is_async: bool,
    named: bool = False,
    routing: tuple[Any, ...] | None = None,
) -> Entered | None:
    """Start a unit of work in the current context; ``None`` when the guard is off.

    ``named``: the caller runs the unit's body through :func:`run` (AGR106 attribution).
    ``routing``: an async unit's asgiref routing, when the caller knows it is that of
    an enclosing async unit in the same task.
    Everything only an event needs (the owner's name and connection objects)
    is looked up when that event happens: starting a unit is on the path of
    every request and task, which pass the arguments by position (keywords
    cost a call measurably more).
    """
    try:
        if conf.off():
            return None
        unit = Unit(kind, label, is_async)
        if is_async:
            # Which thread asgiref sends this unit's sync work to. Whether an
            # outer async_to_sync is waiting (AsyncToSync.executors.current)
            # costs more to read than the rest of a unit's start together, and
            # matters only once the unit hands work to a thread: the loop hook
            # reads it at that hop.
            unit.routing = routing or (
                OUTER_PENDING,
                _thread_sensitive_context.get(None),
                asyncio.get_running_loop(),
            )
        else:
            if _get_running_loop() is not None:
                events.report(
                    unit,
                    "AGR104",
                    f"sync unit of work {unit.label!r} started in a thread where an event loop is "
                    "running: every ORM call in it raises SynchronousOnlyOperation, and "
                    "blocking calls stall the loop; call it through sync_to_async from async "
                    "code, or make it async",
                )
            unit.origin_depth = coroutines.start_tracking(unit, named)
        return unit, _set_unit(unit)
    except AsyncGuardError:
        raise
    except Exception as exc:
        events.internal_error("unit start", exc)
        return None


_set_unit = current_unit.set
_get_running_loop = asyncio._get_running_loop
_set_depth = sys.set_coroutine_origin_tracking_depth
_thread_sensitive_context = SyncToAsync.thread_sensitive_context


def leave(entered: Entered) -> None:
    """Restore the context variable to what it was before the unit started."""
    unit, token = entered
    try:
        try:
            current_unit.reset(token)
        except ValueError:
            # Ended in another context than it started in (a task that outlived
            # its parent): put back the value the unit replaced.
            previous = token.old_value
            current_unit.set(None if previous is Token.MISSING else previous)
        if unit.origin_depth is not None:
            _set_depth(unit.origin_depth)
            unit.origin_depth = None
        coroutines.release(unit)
    except Exception as exc:
        events.internal_error("unit leave", exc)


def finish(unit: Unit, exc: BaseException | None = None) -> None:
    """End-of-unit checks. Raises the first raise-mode event, unless ``exc`` escapes anyway."""
    if exc is None and not (unit._loops or unit._connections):  # unit.pending, inline
        return
    errors: list[AsyncGuardError] = []
    try:
        if exc is not None:
            escaped(unit, exc)
        errors += loops.check_loops(unit)
        errors += db.check_connections(unit)
    except Exception as error:
        events.internal_error("unit finish", error)
    finally:
        unit.clear()
    if errors and exc is None:
        raise errors[0]


def escaped(unit: Unit | None, exc: BaseException) -> None:
    """AGR108 (or AGR105 for a view's coroutine): diagnose, log, never replace ``exc``."""
    try:
        found = diagnosis.classify(exc)
        if found is None:
            return
        code, text = found
        label = unit.label if unit is not None else "the unit of work"
        events.report(
            unit,
            code,
            f"{type(exc).__name__} escaped {label!r}: {text}",
            key=type(exc).__name__,
            frames=diagnosis.raised_at(exc),
            can_raise=False,
        )
    except Exception as error:
        events.internal_error("exception diagnosis", error)


def end(entered: Entered, exc: BaseException | None = None) -> None:
    leave(entered)
    finish(entered[0], exc)


def run(entered: Entered, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run a sync unit's body, so that coroutines it makes carry the unit in their origin."""
    return coroutines.run_as(entered[0], func, *args, **kwargs)


F = TypeVar("F", bound=Callable[..., Any])


class watch:
    """Guard a block or a function as a unit of work named ``name``.

    ``with watch("nightly-sync"):`` and ``@watch()`` on a sync function start
    a sync unit; ``async with watch(...)`` and ``@watch()`` on an ``async
    def`` start an async unit. One ``watch`` object guards one block at a
    time; the decorator starts a fresh unit on every call.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self._entered: list[Entered | None] = []

    def __enter__(self) -> watch:
        self._entered.append(begin("watch", self.name or "watch", is_async=False))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        entered = self._entered.pop()
        if entered is not None:
            end(entered, exc)

    async def __aenter__(self) -> watch:
        self._entered.append(begin("watch", self.name or "watch", is_async=True))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, func: F) -> F:
        name = self.name or f"{func.__module__}.{func.__qualname__}"
        if iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with watch(name):
                    return await func(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            entered = begin("watch", name, is_async=False, named=True)
            if entered is None:
                return func(*args, **kwargs)
            try:
                result = run(entered, func, *args, **kwargs)
            except BaseException as exc:
                end(entered, exc)
                raise
            end(entered)
            return result

        return cast(F, wrapper)
