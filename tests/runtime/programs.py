"""Misbehaving programs and their correct twins, as teams write them.

Each runs inside a unit of work (``async_guard.watch``) on the real database;
``Group`` stands for any model.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.models import Group
from django.db import transaction

import async_guard


class Rollback(Exception):
    pass


async def fetch_quote() -> dict[str, Any]:
    """Stand-in for an async SDK call."""
    await asyncio.sleep(0)
    return {"bid": "1.25"}


async def save_group(name: str) -> None:
    await fetch_quote()
    await sync_to_async(Group(name=name).save)()


async def read_groups_sync_orm() -> int:
    return Group.objects.count()  # the mistake: sync ORM inside async def


# -- AGR101 / AGR107 -----------------------------------------------------------


def lost_write_asyncio_run(name: str) -> None:
    """The bug: asyncio.run inside the unit sends the save to another thread."""
    with async_guard.watch("lost-write"), transaction.atomic():
        asyncio.run(save_group(name))


def write_async_to_sync(name: str) -> None:
    """The fix: async_to_sync brings the save back to this thread."""
    with async_guard.watch("good-write"), transaction.atomic():
        async_to_sync(save_group)(name)


def roll_back_after(bridge: str, name: str) -> None:
    """Save through ``bridge``, then roll the caller's transaction back."""
    with async_guard.watch("rollback"):
        try:
            with transaction.atomic():
                if bridge == "asyncio.run":
                    asyncio.run(save_group(name))
                else:
                    async_to_sync(save_group)(name)
                raise Rollback
        except Rollback:
            pass


# -- AGR102 / AGR103 -----------------------------------------------------------


def loop_left_open() -> asyncio.AbstractEventLoop:
    with async_guard.watch("open-loop"):
        loop = asyncio.new_event_loop()
        loop.run_until_complete(fetch_quote())
    return loop


def loop_closed_in_finally() -> None:
    with async_guard.watch("closed-loop"):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(fetch_quote())
        finally:
            loop.close()


def closed_loop_left_current() -> None:
    """A command's loop set as the thread's loop: set_event_loop(new loop) ... loop.close()."""
    with async_guard.watch("pattern-1"):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(fetch_quote())
        finally:
            loop.close()


def runner() -> None:
    with async_guard.watch("runner"), asyncio.Runner() as run:
        run.run(fetch_quote())


# -- AGR104 ----------------------------------------------------------------------


@async_guard.watch("sync-helper")
def sync_helper() -> int:
    return 1


async def sync_unit_inside_loop() -> int:
    return sync_helper()  # a sync unit started on the loop's thread


async def sync_unit_through_sync_to_async() -> int:
    return await sync_to_async(sync_helper)()


# -- AGR106 ----------------------------------------------------------------------


def coroutine_never_awaited() -> None:
    with async_guard.watch("fire-and-forget"):
        fetch_quote()  # type: ignore[unused-coroutine]


def coroutine_bridged() -> None:
    with async_guard.watch("bridged"):
        async_to_sync(fetch_quote)()


# -- AGR108 ----------------------------------------------------------------------


def sync_orm_inside_asyncio_run() -> int:
    with async_guard.watch("sync-orm-in-async"):
        return asyncio.run(read_groups_sync_orm())


def reuse_closed_loop() -> None:
    with async_guard.watch("closed-loop-reused"):
        loop = asyncio.new_event_loop()
        loop.run_until_complete(fetch_quote())
        loop.close()
        coro = fetch_quote()
        try:
            loop.run_until_complete(coro)
        finally:
            coro.close()


async def async_to_sync_in_loop() -> None:
    async with async_guard.watch("bridge-in-loop"):
        async_to_sync(fetch_quote)()


# -- AGR109 ----------------------------------------------------------------------


def nested_loop_touching_orm() -> None:
    """Sync code on a thread whose executor is itself: asyncio.run + ORM can never finish."""
    asyncio.run(save_group("never"))


def sync_code_bridged_back() -> None:
    async_to_sync(save_group)("bridged")
