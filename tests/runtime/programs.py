"""Misbehaving programs and their correct twins, as the seeds wrote them."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.models import Group
from django.db import transaction

import async_guard


async def save_group(name: str) -> None:
    await sync_to_async(Group(name=name).save)()


def lost_write_asyncio_run(name: str) -> None:
    """Seed 003's bug: asyncio.run inside the unit sends the save to another thread."""
    with async_guard.watch("lost-write"), transaction.atomic():
        asyncio.run(save_group(name))


def write_async_to_sync(name: str) -> None:
    """Seed 003's fix: async_to_sync brings the save back to this thread."""
    with async_guard.watch("good-write"), transaction.atomic():
        async_to_sync(save_group)(name)
