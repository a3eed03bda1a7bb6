"""``AsyncGuardMiddleware``: every request is a unit of work.

Sync- and async-capable like Django's own middleware: under WSGI (or with a
sync middleware chain) the request is a sync unit owned by the request's
thread; under ASGI it is an async unit whose sync work (sync views, adapted
middleware) runs on the request's thread-sensitive executor thread.

Put it first in ``MIDDLEWARE``: it then sees every query the other middleware
make. The end-of-unit checks run when the response is closed, after Django's
``request_finished`` closed the request's connections; checking any earlier
would flag every correct request under ASGI.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

from async_guard.runtime import events
from async_guard.runtime.coroutines import TRAMPOLINES_1
from async_guard.runtime.state import Unit, current_unit
from async_guard.runtime.unit import begin, end, escaped, finish, leave


# Named as a class: settings list it by this name since it was one.
@sync_and_async_middleware
def AsyncGuardMiddleware(
    get_response: Callable[[HttpRequest], Any],
) -> Callable[[HttpRequest], Any]:
    """Django's middleware factory: returns the sync or the async guard of ``get_response``.

    A function, as Django's own function-based middleware, not a class:
    Django calls the middleware once per request, and calling an instance
    goes through its type's ``__call__`` slot, where the closure returned
    here is called as a plain function. Timed around a trivial view, both
    versions alternating in one process: 150 to 250 ns less per request, of
    the 3.3 to 3.9 µs the guard's path took there.
    """
    if iscoroutinefunction(get_response):
        return _async_guard(get_response)

    def guard_request(request: HttpRequest) -> Any:
        entered = begin("request", f"{request.method} {request.path}", False, True)
        if entered is None:
            return get_response(request)
        unit = entered[0]
        # The trampoline, as coroutines.run_as; start_tracking gave the unit its slot.
        trampoline = TRAMPOLINES_1[unit.slot or 0]
        try:
            response = trampoline(get_response, request)
        except BaseException as exc:
            end(entered, exc)
            raise
        leave(entered)
        check_when_closed(unit, response)
        return response

    return guard_request


def _async_guard(
    get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]],
) -> Callable[[HttpRequest], Awaitable[HttpResponseBase]]:
    async def guard_async_request(request: HttpRequest) -> HttpResponseBase:
        # get_response is awaited here, not in a helper coroutine: every hop
        # of the request to a thread suspends and resumes each coroutine in
        # the chain, so one more level costs at every hop, a dozen per request.
        entered = begin("request", f"{request.method} {request.path}", is_async=True)
        if entered is None:
            return await get_response(request)
        try:
            response = await get_response(request)
        except BaseException as exc:
            end(entered, exc)
            raise
        leave(entered)
        check_when_closed(entered[0], response)
        return response

    return guard_async_request


def check_when_closed(unit: Unit, response: HttpResponseBase) -> None:
    """Arrange the end-of-unit checks for when the response is closed, if it needs any.

    A request with no loop or connection to check (almost every one) leaves
    the response alone; should a first one still be noted before the response
    closes (work that kept the unit's context, such as a task the view
    started), the unit hooks the response's close() then.
    """
    try:
        unit.after(response, finish_when_closed)
    except Exception as exc:
        events.internal_error("response close hook", exc)


def finish_when_closed(unit: Unit, response: HttpResponseBase) -> None:
    """Run the end-of-unit checks after ``response.close()`` (and so ``request_finished``).

    Not one of the response's ``_resource_closers``: Django runs those before
    ``request_finished`` and swallows their exceptions, and the checks must
    come after it and raise in raise mode. The wrapper holds the response
    weakly: a ``close`` attribute holding the bound method would make each
    response a reference cycle, left for the garbage collector to free.
    """
    try:
        inner = response.__dict__.get("close")
        if inner is None:
            close_response = type(response).close
            response_ref = weakref.ref(response)

            def close() -> None:
                response = response_ref()
                if response is not None:
                    close_response(response)
                finish(unit)

        else:  # another middleware's wrapper, below this one

            def close() -> None:
                inner()
                finish(unit)

        response.close = close  # type: ignore[method-assign]
    except Exception as exc:
        events.internal_error("response close hook", exc)
        finish(unit)


@events.guarded("got_request_exception")
def on_request_exception(sender: object, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """AGR108/AGR105 for an exception Django turned into a 500 response.

    Django converts a view's exception into a response before it reaches any
    middleware, so the diagnosis hooks the signal it sends on the way, from
    inside the ``except`` block (``sys.exc_info()`` is the exception).
    """
    exc = sys.exc_info()[1]
    if exc is not None:
        escaped(current_unit.get(), exc)
