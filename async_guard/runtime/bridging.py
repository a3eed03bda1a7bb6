"""No origin tracking for the two coroutines ``async_to_sync`` makes for itself.

A sync unit tracks coroutine origins on its thread (AGR106), and CPython pays
for that at every coroutine made there: it walks up to 63 frames and computes
each one's line number. ``async_to_sync(f)(x)`` makes two coroutines on the
calling thread, ``f(x)`` and asgiref's own ``main_wrap`` around it, and always
awaits both, so their origins are never read; on a sync view that bridges
once, or a sync consumer's ``self.send()``, that walk was most of what the
guard cost.

So ``AsyncToSync.__call__`` runs with tracking off, and asgiref's
``CurrentThreadExecutor.run_until_future``, where the calling thread waits
for the coroutine and runs the sync work it sends back (``sync_to_async`` in
thread-sensitive mode), turns it back on for that work: whatever that work
drops unawaited is still attributed by its origin.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from asgiref.current_thread_executor import CurrentThreadExecutor
from asgiref.sync import AsyncToSync

from async_guard.runtime.coroutines import ORIGIN_DEPTH

_get_depth = sys.get_coroutine_origin_tracking_depth
_set_depth = sys.set_coroutine_origin_tracking_depth
# The depth each thread paused in AsyncToSync.__call__, None when not paused.
_paused = threading.local()
_originals: dict[str, Callable[..., Any]] = {}


def install() -> None:
    """Wrap ``AsyncToSync.__call__`` and ``CurrentThreadExecutor.run_until_future`` (idempotent)."""
    if _originals:
        return
    original_call = AsyncToSync.__call__
    original_run = CurrentThreadExecutor.run_until_future

    def __call__(self: AsyncToSync[Any, Any], *args: Any, **kwargs: Any) -> Any:
        previous = _get_depth()
        if previous < ORIGIN_DEPTH:  # nothing tracks here (async code, no unit)
            return original_call(self, *args, **kwargs)
        outer = getattr(_paused, "depth", None)
        _paused.depth = previous
        _set_depth(0)
        try:
            return original_call(self, *args, **kwargs)
        finally:
            _set_depth(previous)
            _paused.depth = outer

    def run_until_future(self: CurrentThreadExecutor, future: Any) -> Any:
        depth = getattr(_paused, "depth", None)
        if depth is None or _get_depth() != 0:  # not waiting in a paused __call__
            return original_run(self, future)
        _set_depth(depth)
        try:
            return original_run(self, future)
        finally:
            _set_depth(0)

    _originals["__call__"] = original_call
    _originals["run_until_future"] = original_run
    AsyncToSync.__call__ = __call__  # type: ignore[method-assign]
    CurrentThreadExecutor.run_until_future = run_until_future  # type: ignore[method-assign]


def uninstall() -> None:
    if _originals:
        AsyncToSync.__call__ = _originals.pop("__call__")  # type: ignore[method-assign]
        CurrentThreadExecutor.run_until_future = _originals.pop(  # type: ignore[method-assign]
            "run_until_future"
        )


def installed() -> bool:
    return bool(_originals)
