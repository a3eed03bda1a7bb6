"""What an exception escaping a unit of work means (AGR108, and AGR105 for views).

The exception itself is never changed or replaced: the guard logs the
diagnosis and the fix beside Django's own traceback, then the caller re-raises.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator

from django.core.exceptions import SynchronousOnlyOperation

from async_guard.runtime.frames import Where, is_user_file

SYNC_ONLY = (
    "SynchronousOnlyOperation: the ORM (or another sync-only Django API) was called in a "
    "thread where an event loop is running, i.e. from async code. Fix: await the async ORM "
    "method (aget, acreate, asave...) or wrap the sync function in "
    "sync_to_async(func) and await it; in a sync entry point, keep the ORM outside the "
    "coroutine and bridge with async_to_sync (async_guard.bridge.run_async)"
)
LOOP_CLOSED = (
    "RuntimeError 'Event loop is closed': something bound to an event loop (an SDK "
    "session, an HTTP client, a cached get_event_loop() result) is used after that loop "
    "was closed, or the thread's current loop was closed and handed out again. Fix: "
    "create the client inside the coroutine that uses it, run the coroutine with "
    "async_to_sync or asyncio.run, and never reuse a closed loop"
)
ASYNC_TO_SYNC_IN_LOOP = (
    "RuntimeError 'You cannot use AsyncToSync in the same thread as an async event loop': "
    "async_to_sync (or a *_sync twin) was called from async code. Fix: await the coroutine "
    "directly; keep async_to_sync for sync entry points (tasks, sync views, commands)"
)
SHARED_THREAD_DEADLOCK = (
    "RuntimeError 'Single thread executor already being used, would deadlock': code running "
    "on asgiref's shared thread (a sync Channels consumer's handler, or other "
    "sync_to_async work) started an event loop (asyncio.run) whose thread-sensitive "
    "sync_to_async work (the async ORM included) needs that same, busy thread. Fix: call "
    "the coroutine with async_to_sync (async_guard.bridge.run_async), which sends that "
    "work back to this thread"
)
UNAWAITED_VIEW = (
    "a sync view returned an unawaited coroutine, so its body never ran. Fix: declare the "
    "view `async def` (Django then awaits it), or call the coroutine through async_to_sync"
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 16:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(exc: BaseException) -> tuple[str, str] | None:
    """``(code, diagnosis)`` for an async/sync error anywhere in ``exc``'s chain."""
    for item in _chain(exc):
        if isinstance(item, SynchronousOnlyOperation):
            return "AGR108", SYNC_ONLY
        text = str(item)
        if isinstance(item, RuntimeError):
            if "Event loop is closed" in text:
                return "AGR108", LOOP_CLOSED
            if "You cannot use AsyncToSync in the same thread as an async event loop" in text:
                return "AGR108", ASYNC_TO_SYNC_IN_LOOP
            if "Single thread executor already being used, would deadlock" in text:
                return "AGR108", SHARED_THREAD_DEADLOCK
        if isinstance(item, ValueError) and "unawaited coroutine" in text:
            return "AGR105", UNAWAITED_VIEW
    return None


def raised_at(exc: BaseException) -> tuple[Where, ...]:
    """User frames of the traceback, innermost first."""
    frames = [
        Where.of(frame, lineno)
        for frame, lineno in traceback.walk_tb(exc.__traceback__)
        if is_user_file(frame.f_code.co_filename)
    ]
    return tuple(reversed(frames[-6:]))
