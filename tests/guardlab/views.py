"""Views of the lab: the programs as sync views, and the mistakes only a view can make.

Every view takes the primary key of a ``Position`` the test created. The
response body is JSON with the program's result, so a test can tell a correct
run from a failed one without reading the server log.
"""

from __future__ import annotations

import uuid
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.http import Http404, HttpRequest, JsonResponse

from tests.guardlab import programs
from tests.guardlab.tasks import ping
from trading.models import Position


def run_program(request: HttpRequest, name: str, variant: str, pk: int, tag: str = "") -> Any:
    """``programs.PROGRAMS[name]``'s ``variant`` as the request's unit of work."""
    try:
        fn = programs.program(name, variant)
    except KeyError as exc:
        raise Http404(str(exc)) from None
    return JsonResponse({"result": fn(pk)})


# -- async views: Django's own async request handling ---------------------------------


async def async_orm(request: HttpRequest, pk: int) -> JsonResponse:
    position = await Position.objects.aget(pk=pk)
    return JsonResponse({"result": position.symbol})


async def async_view_sync_orm(request: HttpRequest, pk: int) -> JsonResponse:
    position = Position.objects.get(pk=pk)  # SynchronousOnlyOperation
    return JsonResponse({"result": position.symbol})


async def async_view_async_to_sync(request: HttpRequest, pk: int) -> JsonResponse:
    # "You cannot use AsyncToSync in the same thread as an async event loop"
    quote = async_to_sync(programs.fetch_quote)()
    return JsonResponse({"result": quote})


async def async_view_await(request: HttpRequest, pk: int) -> JsonResponse:
    quote = await programs.fetch_quote()
    return JsonResponse({"result": quote})


def _inline_task_id(request: HttpRequest) -> str:
    # The request's path in the inline task's id, so a test finds both units by the path.
    return f"{request.path}#{uuid.uuid4().hex[:8]}"


async def async_view_apply_task(request: HttpRequest, pk: int) -> JsonResponse:
    # The task runs inline, on the thread whose event loop is running this view.
    result = ping.apply(args=[pk], task_id=_inline_task_id(request))
    return JsonResponse({"result": result.result})


async def async_view_apply_task_in_thread(request: HttpRequest, pk: int) -> JsonResponse:
    result = await sync_to_async(ping.apply)(args=[pk], task_id=_inline_task_id(request))
    return JsonResponse({"result": result.result})


# -- a sync view that returns a coroutine ---------------------------------------------


async def _render_quote(pk: int) -> JsonResponse:
    return JsonResponse({"result": await programs.read_symbol(pk)})


def sync_view_returns_coroutine(request: HttpRequest, pk: int) -> Any:
    return _render_quote(pk)  # the mistake under test: nobody awaits it


def sync_view_bridges_coroutine(request: HttpRequest, pk: int) -> JsonResponse:
    return async_to_sync(_render_quote)(pk)
