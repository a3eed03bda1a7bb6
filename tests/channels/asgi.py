"""The Channels lab's ASGI application: ``ProtocolTypeRouter`` wrapped by the guard.

``uvicorn tests.channels.asgi:application`` with ``tests.channels.settings``.
HTTP goes to Django (``/health/`` tells the tests the server is up);
WebSockets go to the lab's consumers. Outside the guard, a marker logs
``guardlab-finished websocket <path>`` once a connection, and so every unit
of work in it, has ended: a test that waits for it has every event of the
connection in the log.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.channels.settings")
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from tests.channels import consumers  # noqa: E402

logger = logging.getLogger("guardlab")

websocket = URLRouter(
    [
        path("ws/sync/<str:tag>/", consumers.SyncLab.as_asgi()),
        path("ws/async/<str:tag>/", consumers.AsyncLab.as_asgi()),
        path("ws/text/<str:tag>/", consumers.TextLab.as_asgi()),
        path("ws/raw/<str:tag>/", consumers.RawLab.as_asgi()),
        path(
            "ws/bad-middleware/<str:tag>/", consumers.SyncOrmMiddleware(consumers.RawLab.as_asgi())
        ),
    ]
)

router = ProtocolTypeRouter(
    {"http": django_application, "websocket": AuthMiddlewareStack(websocket)}
)


class FinishedMarker:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        try:
            return await self.inner(scope, receive, send)
        finally:
            if scope["type"] == "websocket":
                logger.info("guardlab-finished websocket %s", scope["path"])


if "async_guard" in settings.INSTALLED_APPS:
    from async_guard.channels import AsyncGuardChannelsMiddleware

    application: Any = FinishedMarker(AsyncGuardChannelsMiddleware(router))
else:
    application = FinishedMarker(router)
