"""A test as a unit of work: what the pytest plugin's strict mode runs each test in.

Imported by the plugin only when a strict test runs, since it imports Django.

A sync test is a sync unit owned by the test's thread, its body run under the
unit's trampoline so that a coroutine it leaves unawaited is traced back to
it. An async test (pytest-asyncio, anyio, an ``async def`` method of a Django
or ``unittest`` test case) is an async unit, started inside its own coroutine
on the loop that runs it. Collecting the young generations before the unit
ends reports the coroutines the test dropped in reference cycles (AGR106)
while the test can still fail for them. End-of-unit events are recorded,
never raised here: the plugin fails the test with all of them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import sys
import unittest
from collections.abc import Callable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings

from async_guard.errors import AsyncGuardError
from async_guard.runtime import coroutines, events, unit
from async_guard.runtime.unit import Entered

KIND = "test"
HOOK = "pytest test unit"


def hide_guard_frames() -> None:
    """Keep the guard's own frames out of a failing test's traceback.

    pytest leaves out every frame whose globals hold a true ``__tracebackhide__``:
    the traceback then goes from the test to the user's line that failed,
    through the libraries the user called, and ends with the event and its fix.
    """
    global _modules_seen
    # Once for every module imported since: walking sys.modules at each test
    # was most of what strict mode cost a test on a suite of 1,600 short ones.
    # The count alone would miss a module removed and another imported in
    # between; the newest entry (sys.modules keeps insertion order) tells.
    seen = _modules_state()
    if seen == _modules_seen:
        return
    for name, module in tuple(sys.modules.items()):
        if (name == "async_guard" or name.startswith("async_guard.")) and module is not None:
            vars(module)["__tracebackhide__"] = True
    _modules_seen = seen


def _modules_state() -> tuple[int, str | None, int]:
    """How many modules are imported, and the newest one's name and identity."""
    modules = sys.modules
    newest = next(reversed(modules), None)
    return len(modules), newest, id(modules.get(newest)) if newest is not None else 0


_modules_seen: tuple[int, str | None, int] = (0, None, 0)


@contextlib.contextmanager
def as_unit(item: Any) -> Iterator[None]:
    """Run the test function of ``item`` as a unit of work while the block runs."""
    __tracebackhide__ = True
    restore: Callable[[], None] | None = None
    try:
        if settings.configured:
            hide_guard_frames()
            restore = swap(item)
    except Exception as exc:
        events.internal_error(HOOK, exc)
    try:
        yield
    finally:
        if restore is not None:
            try:
                restore()
            except Exception as exc:
                events.internal_error(HOOK, exc)


def swap(item: Any) -> Callable[[], None] | None:
    """Put the unit's wrapper where the runner will call the test; hand back the undo."""
    func = getattr(item, "obj", None)
    if not callable(func):
        return None  # a doctest or a custom item: no function to wrap
    is_async = iscoroutinefunction(func)
    wrapped = (as_async_unit if is_async else as_sync_unit)(func, item.nodeid)
    item.obj = wrapped
    instance = getattr(item, "instance", None)
    if not isinstance(instance, unittest.TestCase):

        def undo() -> None:
            item.obj = func

        return undo
    # A test case calls the method it looks up on itself: pytest puts its
    # ``obj`` there for sync methods only, and not at all under pytest-django.
    name = item.name
    saved = instance.__dict__.get(name, wrapped)
    setattr(instance, name, wrapped)

    def undo_method() -> None:
        item.obj = func
        if saved is wrapped:
            instance.__dict__.pop(name, None)
        else:
            setattr(instance, name, saved)

    return undo_method


def as_sync_unit(func: Callable[..., Any], label: str) -> Callable[..., Any]:
    @functools.wraps(func)
    def run_test(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        aging = aging_collections()
        entered = unit.begin(KIND, label, is_async=False, named=True)
        if entered is None:
            return func(*args, **kwargs)
        try:
            result, error = unit.run(entered, func, *args, **kwargs), None
        except BaseException as exc:
            result, error = None, exc
        return settle(entered, result, error, aging)

    return run_test


def as_async_unit(func: Callable[..., Any], label: str) -> Callable[..., Any]:
    @functools.wraps(func)
    async def run_test(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        aging = aging_collections()
        # Another event loop library (trio under anyio) runs no asyncio loop.
        has_loop = asyncio._get_running_loop() is not None
        entered = unit.begin(KIND, label, is_async=True) if has_loop else None
        if entered is None:
            return await func(*args, **kwargs)
        track(entered)
        try:
            result, error = await func(*args, **kwargs), None
        except BaseException as exc:
            result, error = None, exc
        return settle(entered, result, error, aging)

    return run_test


def track(entered: Entered) -> None:
    """Record coroutine origins in an async test too, which async units do not.

    A test is no hot path: a coroutine it drops then names the test's line,
    not only the function it called. The unit's end restores the depth.
    """
    try:
        test = entered[0]
        test.origin_depth = coroutines.start_tracking(test)
    except Exception as exc:
        events.internal_error(HOOK, exc)


def settle(entered: Entered, result: Any, error: BaseException | None, aging: int) -> Any:
    """End the test's unit, then hand back what the test returned or raised."""
    __tracebackhide__ = True
    ended(entered, error, aging)
    if error is not None:
        raise error
    return result


def aging_collections() -> int:
    """How many collections so far could have moved a new object to the oldest generation.

    -1 when that cannot be read: the test's end then collects everything.
    """
    try:
        stats = gc.get_stats()
        return int(stats[1]["collections"]) + int(stats[2]["collections"])
    except Exception as exc:
        events.internal_error(HOOK, exc)
        return -1


def ended(entered: Entered, exc: BaseException | None, aging: int) -> None:
    """Collect the coroutines the test dropped inside its unit, then end the unit.

    Called outside any ``except`` block: an error in a finalizer the
    collection runs would otherwise be printed with the test's failure as
    its context, through the guard's frames.

    Everything the test made is in the young generations, unless Python ran
    a collection of the middle or the oldest one during the test (``aging``
    is their count when it started): only then does a cycle it made need a
    full collection to be found. A full collection at every test walks the
    whole heap each time: on Django REST framework's 1,600 short tests it
    took 156 s where the suite alone took 8 s.
    """
    __tracebackhide__ = True
    try:
        gc.collect(2 if aging < 0 or aging_collections() != aging else 1)
    except Exception as error:
        events.internal_error(HOOK, error)
    # Left whatever the checks do: a unit left current would leak into the next test.
    unit.leave(entered)
    try:
        unit.finish(entered[0], exc)
    except AsyncGuardError:
        pass  # recorded: the plugin fails the test with every event it saw
    except Exception as error:
        events.internal_error(HOOK, error)
