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

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from async_guard.runtime import events
from async_guard.runtime.coroutines import TRAMPOLINES_1
from async_guard.runtime.state import Unit, current_unit
from async_guard.runtime.unit import begin, end, escaped, finish, leave


class AsyncGuardMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        entered = begin("request", f"{request.method} {request.path}", False, True)
        if entered is None:
            return self.get_response(request)
        unit = entered[0]
        # The trampoline, as coroutines.run_as; start_tracking gave the unit its slot.
        trampoline = TRAMPOLINES_1[unit.slot or 0]
        try:
            response = trampoline(self.get_response, request)
        except BaseException as exc:
            end(entered, exc)
            raise
        leave(entered)
        check_when_closed(unit, response)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # get_response is awaited here, not in a helper coroutine: every hop
        # of the request to a thread suspends and resumes each coroutine in
        # the chain, so one more level costs at every hop, a dozen per request.
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
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
