"""The one bridge from sync code (views, Celery tasks, commands) to async code.

``run_async`` is :func:`asgiref.sync.async_to_sync` with the two mistakes that
hand-written bridges make ruled out: calling it with a loop already running in the thread
(which can only deadlock or fail) is a :class:`BridgeError` with a message
saying what to do instead, and a coroutine object is accepted as well as a
coroutine function, so ``run_async(service.method(arg))`` works like the
usual hand-written ``run_sync(coro)`` helper.

Threading semantics (why this and not ``asyncio.run``)
------------------------------------------------------
The calling thread blocks while the coroutine runs on an event loop in another
thread (or on the outer loop, when the caller itself runs inside
``sync_to_async``). Every ``sync_to_async`` call the coroutine makes with
``thread_sensitive=True`` (the default, and what Django's async ORM methods
``aget``/``acreate``/``asave``... use) is sent back to the calling thread and
runs there, on the calling thread's database connection, inside its open
``transaction.atomic()`` block and under its ``select_for_update()`` locks.
A rollback in the caller undoes that work.

``asyncio.run`` breaks exactly that: with no outer ``async_to_sync`` the
thread-sensitive calls go to asgiref's single shared executor thread, which has
its own connection, outside the caller's transaction: writes that silently survive a
rollback, or never happen.

Objects bound to the loop (an ``httpx`` client, a tastytrade ``Session``) must
be created and closed inside one ``run_async`` call: each call gets a new
loop, and the loop is closed when the call returns.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from asgiref.sync import async_to_sync

__all__ = ["BridgeError", "run_async", "sync_twin"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

_RUNNING_LOOP_MESSAGE = (
    "run_async() was called from a thread that is already running an event loop "
    "(inside 'async def' code, or a sync function called directly from it). The "
    "bridge would block the very loop it needs. In async code, 'await' the coroutine "
    "directly; to call sync code that uses run_async from async code, wrap that sync "
    "code in asgiref.sync.sync_to_async."
)


class BridgeError(RuntimeError):
    """``run_async`` was called where it cannot work (a loop is running in this thread)."""


def _loop_running_in_this_thread() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@overload
def run_async(coro_or_fn: Coroutine[Any, Any, R], /) -> R: ...


@overload
def run_async(coro_or_fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R: ...


def run_async(coro_or_fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    """Run async code from sync code and return its result (or raise its exception).

    ``coro_or_fn`` is either a coroutine function, called with ``*args`` and
    ``**kwargs``, or a coroutine object (then no further arguments are allowed).
    See the module docstring for where the coroutine and its ``sync_to_async``
    calls run: the latter come back to the calling thread and its transaction.

    Raises :class:`BridgeError` if an event loop is running in the calling
    thread; a coroutine object passed in is closed first, so Python does not
    also warn that it was never awaited.
    """
    is_coroutine = inspect.iscoroutine(coro_or_fn)
    if _loop_running_in_this_thread():
        if is_coroutine:
            coro_or_fn.close()
        raise BridgeError(_RUNNING_LOOP_MESSAGE)
    if is_coroutine:
        coro: Coroutine[Any, Any, Any] = coro_or_fn
        if args or kwargs:
            coro.close()
            raise TypeError(
                "run_async(coroutine) takes no further arguments: pass the coroutine "
                "function and its arguments instead, run_async(fn, *args, **kwargs)"
            )

        # async_to_sync wants a callable; the wrapper awaits the coroutine in the
        # loop async_to_sync provides, so it is awaited exactly once.
        async def _await_coroutine() -> Any:
            return await coro

        return async_to_sync(_await_coroutine)()
    if not callable(coro_or_fn):
        raise TypeError(
            f"run_async() needs a coroutine or a coroutine function, got {coro_or_fn!r}"
        )
    if inspect.iscoroutinefunction(coro_or_fn):
        return async_to_sync(coro_or_fn)(*args, **kwargs)
    fn: Callable[..., Awaitable[Any]] = coro_or_fn

    # A callable that returns an awaitable (a functools.partial of an async def,
    # an object with an async __call__ that inspect does not recognise).
    async def _call_and_await() -> Any:
        return await fn(*args, **kwargs)

    return async_to_sync(_call_and_await)()


class sync_twin(Generic[T, P, R]):
    """The ``X_sync`` twin of an async method ``X``, bridged through :func:`run_async`.

    An async service's sync entry points, without a hand-written wrapper each::

        class OrderExecutionService:
            async def cancel_order(self, order_id: str) -> bool: ...

            cancel_order_sync = sync_twin(cancel_order)

    ``service.cancel_order_sync("42")`` is ``run_async(service.cancel_order, "42")``:
    call it from sync code only (``handle()``, a Celery task, a sync view); the
    async method's ``sync_to_async``/async-ORM work runs back on the calling
    thread, inside its transaction. This assignment form is the one type
    checkers understand. Used as a decorator on the async method instead
    (``@sync_twin``), the class keeps the async method under its own name and
    gains ``<name>_sync``.
    """

    def __init__(self, fn: Callable[Concatenate[T, P], Coroutine[Any, Any, R]]) -> None:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"sync_twin() needs an 'async def' method, got {fn!r}")
        self.fn = fn
        self.__name__ = f"{fn.__name__}_sync"
        self.__qualname__ = f"{fn.__qualname__}_sync"
        self.__doc__ = (
            f"Sync twin of {fn.__qualname__} (bridged with async_guard.bridge.run_async)."
            + (f"\n\n{fn.__doc__}" if fn.__doc__ else "")
        )

    def __set_name__(self, owner: type, name: str) -> None:
        if name == self.fn.__name__:
            # Decorator form: give the name back to the async method, add the twin.
            setattr(owner, name, self.fn)
            setattr(owner, self.__name__, self)

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> sync_twin[T, P, R]: ...

    @overload
    def __get__(self, instance: T, owner: type | None = None) -> Callable[P, R]: ...

    def __get__(self, instance: T | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        fn = self.fn

        # No functools.wraps: its __wrapped__ would make tools that unwrap see
        # an async function where there is a sync one.
        def bound(*args: P.args, **kwargs: P.kwargs) -> R:
            return run_async(fn, instance, *args, **kwargs)

        bound.__name__ = self.__name__
        bound.__qualname__ = self.__qualname__
        bound.__doc__ = self.__doc__
        bound.__module__ = fn.__module__
        return bound

    def __call__(self, instance: T, /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Unbound call: ``Service.method_sync(service, ...)``."""
        return run_async(self.fn, instance, *args, **kwargs)
