"""The lab's consumers in the test process, driven by asgiref's ``ApplicationCommunicator``.

(Channels' own ``channels.testing`` needs daphne, which the tests do not otherwise use.)
"""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.routing import URLRouter
from django.urls import path

from async_guard.channels import AsyncGuardChannelsMiddleware
from tests.channels import consumers

ROUTES = [
    path("ws/sync/<str:tag>/", consumers.SyncLab.as_asgi()),
    path("ws/async/<str:tag>/", consumers.AsyncLab.as_asgi()),
]
IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def application() -> Any:
    return AsyncGuardChannelsMiddleware(URLRouter(ROUTES))


def converse(app: Any, path: str, *commands: dict[str, Any]) -> list[Any]:
    """Connect, send each command and read its reply, disconnect: the replies."""
    scope = {"type": "websocket", "path": path, "headers": [], "query_string": b"",
             "subprotocols": []}  # fmt: skip

    async def run() -> list[Any]:
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "websocket.connect"})
        assert (await communicator.receive_output(10))["type"] == "websocket.accept"
        replies = []
        try:
            for command in commands:
                await communicator.send_input(
                    {"type": "websocket.receive", "text": json.dumps(command)}
                )
                replies.append(json.loads((await communicator.receive_output(10))["text"]))
        finally:
            await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
            await communicator.wait(10)
        return replies

    return async_to_sync(run)()
