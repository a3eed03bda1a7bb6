"""Views of the tests-only urlconf (``tests.runtime.urls``)."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from tests.runtime import programs


def save_asyncio_run(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        asyncio.run(programs.save_group(request.GET.get("name", "view")))
    return HttpResponse("ok")


def save_async_to_sync(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        async_to_sync(programs.save_group)(request.GET.get("name", "view"))
    return HttpResponse("ok")


def sync_orm(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(Group.objects.count()))


def sync_orm_in_async_def(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(asyncio.run(programs.read_groups_sync_orm())))


def returns_coroutine(request: HttpRequest) -> HttpResponse:
    return programs.fetch_quote()  # type: ignore[return-value]


def loop_left_open(request: HttpRequest) -> HttpResponse:
    loop = asyncio.new_event_loop()
    loop.run_until_complete(programs.fetch_quote())
    return HttpResponse("ok")


async def async_orm(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(await Group.objects.acount()))


def nested_loop_touching_orm(request: HttpRequest) -> HttpResponse:
    programs.nested_loop_touching_orm()
    return HttpResponse("ok")


def save_thread_insensitive(request: HttpRequest) -> HttpResponse:
    """A sync view under ASGI whose coroutine saves on a pool thread, outside its atomic()."""
    from asgiref.sync import sync_to_async

    async def save() -> None:
        await sync_to_async(Group(name="pool").save, thread_sensitive=False)()

    with transaction.atomic():
        asyncio.run(save())
    return HttpResponse("ok")
