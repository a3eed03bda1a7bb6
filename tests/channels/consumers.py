"""The Channels lab's consumers: every message is a JSON command, ``{"op": ..., "name": ...}``.

Each op is a program that is wrong or right on purpose; ``name`` is the
``Group`` row it writes, which the test then looks for. Every consumer
answers a command it carried out with ``{"op": ..., "done": true}``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.consumer import AsyncConsumer
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import (
    AsyncJsonWebsocketConsumer,
    AsyncWebsocketConsumer,
    JsonWebsocketConsumer,
)
from django.contrib.auth.models import Group


def create(name: str) -> None:
    Group.objects.create(name=name)


async def save_off_thread(name: str) -> None:
    """Async helper whose ORM work goes to a pool thread of the running loop."""
    await asyncio.sleep(0)
    await sync_to_async(create, thread_sensitive=False)(name)


async def save_thread_sensitive(name: str) -> None:
    await asyncio.sleep(0)
    await sync_to_async(create)(name)


# -- sync handlers (WebsocketConsumer): the thread running the handler owns its unit ------


def asyncio_run(name: str) -> None:
    """The mistake: a new loop in the handler sends the ORM work to another thread."""
    asyncio.run(save_off_thread(name))


def asyncio_run_thread_sensitive(name: str) -> None:
    """The same mistake with the default sync_to_async (and so the async ORM)."""
    asyncio.run(save_thread_sensitive(name))


def async_to_sync_bridge(name: str) -> None:
    """The fix: async_to_sync sends sync_to_async work back to this thread."""
    async_to_sync(save_thread_sensitive)(name)


def loop_left_open(name: str) -> None:
    loop = asyncio.new_event_loop()
    loop.run_until_complete(asyncio.sleep(0))


def closed_loop_left_current(name: str) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()


SYNC_OPS: dict[str, Callable[[str], None]] = {
    "asyncio_run": asyncio_run,
    "asyncio_run_thread_sensitive": asyncio_run_thread_sensitive,
    "async_to_sync": async_to_sync_bridge,
    "orm": create,
    "loop_open": loop_left_open,
    "closed_loop_current": closed_loop_left_current,
}


class SyncLab(JsonWebsocketConsumer):
    groups = ["sync-lab"]

    def receive_json(self, content: Any, **kwargs: Any) -> None:
        op, name = content["op"], content.get("name", "")
        if op == "group":
            async_to_sync(self.channel_layer.group_send)(
                "sync-lab", {"type": "lab.message", "op": content["group_op"], "name": name}
            )
            return
        SYNC_OPS[op](name)
        self.send_json({"op": op, "done": True})

    def lab_message(self, event: dict[str, Any]) -> None:
        """A group message: a unit of its own."""
        SYNC_OPS[event["op"]](event["name"])
        self.send_json({"op": "group", "done": True})


# -- async handlers ----------------------------------------------------------------------


async def bridge_asyncio_run(name: str) -> None:
    """The mistake from an async consumer: a sync helper that starts its own loop."""
    await database_sync_to_async(asyncio_run)(name)


async def via_database_sync_to_async(name: str) -> None:
    await database_sync_to_async(create)(name)


async def via_sync_to_async(name: str) -> None:
    await sync_to_async(create)(name)


async def via_async_orm(name: str) -> None:
    await Group.objects.acreate(name=name)


async def sync_orm(name: str) -> None:
    create(name)  # the mistake: the sync ORM in async code


ASYNC_OPS = {
    "asyncio_run": bridge_asyncio_run,
    "database_sync_to_async": via_database_sync_to_async,
    "sync_to_async": via_sync_to_async,
    "async_orm": via_async_orm,
    "sync_orm": sync_orm,
}


class AsyncLab(AsyncJsonWebsocketConsumer):
    groups = ["async-lab"]

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        op, name = content["op"], content.get("name", "")
        if op == "group":
            await self.channel_layer.group_send(
                "async-lab", {"type": "lab.message", "op": content["group_op"], "name": name}
            )
            return
        await ASYNC_OPS[op](name)
        await self.send_json({"op": op, "done": True})

    async def lab_message(self, event: dict[str, Any]) -> None:
        await ASYNC_OPS[event["op"]](event["name"])
        await self.send_json({"op": "group", "done": True})


class TextLab(AsyncWebsocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        content = json.loads(text_data or "{}")
        await ASYNC_OPS[content["op"]](content.get("name", ""))
        await self.send(text_data=json.dumps({"op": content["op"], "done": True}))


class RawLab(AsyncConsumer):
    """The bare consumer class: the handlers named after the ASGI message types."""

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        await self.send({"type": "websocket.accept"})

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        content = json.loads(message.get("text") or "{}")
        await ASYNC_OPS[content["op"]](content.get("name", ""))
        await self.send({"type": "websocket.send", "text": json.dumps({"done": True})})

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        raise StopConsumer


class SyncOrmMiddleware:
    """ASGI middleware with the sync ORM in async code: fails in the connection's own unit."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        Group.objects.filter(name="nobody").exists()
        return await self.inner(scope, receive, send)
