"""Marks the end of every request in the server log, after the guard's own end-of-request checks.

The guard runs its end-of-request checks in ``response.close()``, after
Django's ``request_finished``, once the response went out. A test that wants to
know that a request left no event must wait for that point: this middleware,
listed before the guard's so that it wraps the guard's wrapper, replaces
``response.close`` and logs ``guardlab-finished <METHOD> <path>`` once the
guard's ``close()`` has returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

logger = logging.getLogger("guardlab")


def _mark_close(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    close = response.close
    unit = f"{request.method} {request.path}"

    def close_then_mark() -> None:
        try:
            close()
        finally:
            logger.info("guardlab-finished %s", unit)

    response.close = close_then_mark  # type: ignore[method-assign]
    return response


class FinishedMarkerMiddleware:
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
        return _mark_close(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        return _mark_close(request, await self.get_response(request))
