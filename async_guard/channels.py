"""Django Channels: a WebSocket connection is a unit of work, and so is every message.

Two hooks, because Channels has two levels:

* :class:`AsyncGuardChannelsMiddleware` (``guard`` for short) wraps the
  ``ProtocolTypeRouter`` (or any ASGI application): each WebSocket connection
  is an async unit, ``"websocket /ws/chat/"``, from the handshake to the
  disconnect. It covers what runs outside the consumer's handlers: ASGI
  middleware such as ``AuthMiddlewareStack`` and the URL routing.
* :func:`install`, called from ``AppConfig.ready()`` when Channels is
  importable, wraps the ``dispatch`` of Channels' two base consumers, which
  every consumer inherits: each message a consumer handles
  (``websocket_receive`` with the ``receive`` / ``receive_json`` it calls,
  ``websocket_connect``, a group message such as ``chat_message``) is a unit
  of its own, ``"ChatConsumer.chat_message /ws/chat/"``. An async consumer's
  message is an async unit in the connection's task; a sync consumer's
  (``WebsocketConsumer``, whose ``dispatch`` Channels runs through
  ``database_sync_to_async``) is a sync unit owned by the thread that runs
  the handler, as a sync view is under WSGI.

The handler units need no setup, so consumers are guarded wherever they run
(under a server, or driven by ``channels.testing`` communicators); patching
``dispatch`` rather than asking every consumer to take a mixin means that no
consumer is left out by mistake. Channels itself is imported only by
:func:`install`: the middleware is plain ASGI, and the package works without
Channels installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from async_guard.errors import AsyncGuardError
from async_guard.runtime import events
from async_guard.runtime.coroutines import TRAMPOLINES_ARGS
from async_guard.runtime.loops import outer_executor
from async_guard.runtime.state import OUTER_PENDING, Label, current_unit
from async_guard.runtime.unit import Entered, begin, end, leave

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class AsyncGuardChannelsMiddleware:
    """ASGI middleware: every WebSocket connection is an async unit of work.

    ``application = AsyncGuardChannelsMiddleware(ProtocolTypeRouter({...}))``.
    Other scope types pass through untouched: HTTP requests are units through
    :class:`async_guard.middleware.AsyncGuardMiddleware` in Django's own stack.
    """

    def __init__(self, inner: Callable[..., Awaitable[Any]]) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope.get("type") != "websocket":
            return await self.inner(scope, receive, send)
        entered = start("websocket", True, connection_label, scope)
        if entered is None:
            return await self.inner(scope, receive, send)
        try:
            result = await self.inner(scope, receive, send)
        except BaseException as exc:
            # A handler's unit already diagnosed it (AGR108): once is enough.
            stop(entered, _DIAGNOSED if getattr(exc, _MARK, False) else exc)
            raise
        stop(entered)
        return result


guard = AsyncGuardChannelsMiddleware


def connection_label(scope: Scope) -> str:
    return f"websocket {scope.get('path', '')}"


def message_label(consumer: Any, message: Any) -> tuple[Any, ...]:
    """The parts of ``"ChatConsumer.chat_message /ws/chat/"``: the handler and the path.

    The unit joins them only if an event names it (see ``Unit.label``): the
    consumer's class, the message's type and the connection's path. Not the
    message itself, whose payload can be large.
    """
    scope = getattr(consumer, "scope", None) or {}
    return (message_text, type(consumer), message.get("type", ""), scope.get("path", ""))


def message_text(consumer_class: type, message_type: object, path: object) -> str:
    handler = str(message_type).replace(".", "_")
    return f"{consumer_class.__name__}.{handler} {path}".rstrip()


def start(kind: str, is_async: bool, label: Callable[..., Label], *args: Any) -> Entered | None:
    """Begin a ``kind`` unit named ``label(*args)``.

    The guard's own failure is logged once and the unit skipped. Arguments go
    by position: this is on the path of every message.
    """
    try:
        if is_async:
            return begin(kind, label(*args), True, False, connection_routing())
        return begin(kind, label(*args), False, True)
    except AsyncGuardError:
        raise
    except Exception as exc:
        events.internal_error(f"channels {kind} start", exc)
        return None


def stop(entered: Entered, exc: BaseException | None = None) -> None:
    try:
        end(entered, exc)
    except AsyncGuardError:
        raise
    except Exception as error:
        events.internal_error(f"channels {entered[0].kind} end", error)
        # Whatever failed, the unit must not outlive its handler: left current,
        # or with origin tracking left on for a thread that runs other work.
        leave(entered)


def connection_routing() -> tuple[Any, ...] | None:
    """The connection unit's asgiref routing, which an async handler's unit shares.

    An async consumer dispatches in the connection's own task, right under the
    middleware that started the connection's unit, so asgiref routes its sync
    work the same way; reusing the routing spares each message most of the
    cost of starting its unit.
    """
    parent = current_unit.get()
    if parent is None or parent.kind != "websocket":
        return None
    routing = parent.routing
    if routing is None or routing[2] is not _get_running_loop():
        return None
    if routing[0] is OUTER_PENDING:
        # Read once for the connection rather than at each message's first hop
        # (Channels closes old database connections through a hop per message).
        routing = parent.routing = (outer_executor(), routing[1], routing[2])
    return routing


_get_running_loop = asyncio._get_running_loop


# Set on an exception that escaped a handler's unit, which diagnosed it; the
# connection's unit then ends as if with an exception nothing can diagnose
# (its end-of-unit events are logged, not raised over the application's own).
_MARK = "_async_guard_diagnosed"
_DIAGNOSED = Exception("diagnosed in a consumer handler's unit")


def escaped_handler(entered: Entered, exc: BaseException) -> None:
    stop(entered, exc)
    with contextlib.suppress(Exception):  # an exception type that takes no attributes
        setattr(exc, _MARK, True)


# -- the consumers' dispatch ---------------------------------------------------------

_originals: dict[str, Any] = {}


@events.guarded("channels install")
def install() -> None:
    """Wrap ``AsyncConsumer.dispatch`` and ``SyncConsumer.dispatch`` (idempotent)."""
    if _originals:
        return
    consumer = importlib.import_module("channels.consumer")
    database_sync_to_async = importlib.import_module("channels.db").database_sync_to_async
    async_cls, sync_cls = consumer.AsyncConsumer, consumer.SyncConsumer
    async_dispatch = async_cls.__dict__["dispatch"]
    sync_dispatch = sync_cls.__dict__["dispatch"]
    # SyncConsumer.dispatch is database_sync_to_async(<function>): the
    # function itself runs on the worker thread, where the sync unit belongs.
    sync_body = sync_dispatch.func

    @functools.wraps(async_dispatch)
    async def dispatch(self: Any, message: Any) -> None:
        entered = start("message", True, message_label, self, message)
        if entered is None:
            return await async_dispatch(self, message)  # type: ignore[no-any-return]
        try:
            await async_dispatch(self, message)
        except BaseException as exc:
            escaped_handler(entered, exc)
            raise
        stop(entered)

    @functools.wraps(sync_body)
    def sync_dispatch_body(self: Any, message: Any) -> None:
        entered = start("message", False, message_label, self, message)
        if entered is None:
            return sync_body(self, message)  # type: ignore[no-any-return]
        try:
            # run(entered, ...), without its keyword-argument call: this is every message.
            TRAMPOLINES_ARGS[entered[0].slot or 0](sync_body, self, message)
        except BaseException as exc:
            escaped_handler(entered, exc)
            raise
        stop(entered)

    _originals["async"] = (async_cls, async_dispatch)
    _originals["sync"] = (sync_cls, sync_dispatch)
    async_cls.dispatch = dispatch
    sync_cls.dispatch = database_sync_to_async(sync_dispatch_body)


def uninstall() -> None:
    """Put Channels' own ``dispatch`` methods back."""
    for cls, original in _originals.values():
        cls.dispatch = original
    _originals.clear()


def installed() -> bool:
    return bool(_originals)
