"""The unit of work and the context variable that carries it.

Kept apart from the hooks so that every hook module can import it without
importing the others.
"""

from __future__ import annotations

import asyncio
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from async_guard.runtime.frames import Where


class Unit:
    """One request, task or ``watch()`` block.

    ``owner_ident`` is the thread that sync database work of this unit must
    run on. For a sync unit it is the thread that started it. An async unit
    starts on its event loop's thread, where no query can legally run; its
    sync work goes wherever asgiref's thread-sensitive mode sends it, so the
    first query on another thread resolves that thread (see
    :func:`async_guard.runtime.db.adopt_sync_thread`) and makes it the owner.
    """

    __slots__ = (
        "connections",
        "is_async",
        "kind",
        "label",
        "loops",
        "origin_depth",
        "owner_dbs",
        "owner_ident",
        "owner_name",
        "routing",
        "seen",
        "slot",
    )

    def __init__(self, kind: str, label: str, *, is_async: bool) -> None:
        thread = threading.current_thread()
        self.kind = kind
        self.label = label
        self.is_async = is_async
        self.owner_ident: int = thread.ident or 0
        self.owner_name = thread.name
        # The owner thread's connection objects, so that a query on another
        # thread can tell whether the owner was inside atomic() at that moment.
        self.owner_dbs: dict[str, BaseDatabaseWrapper] = {}
        # (loop, frames where it was created, thread name)
        self.loops: list[tuple[asyncio.AbstractEventLoop, tuple[Where, ...], str]] = []
        # (alias, connection object, thread name, frames where it was opened)
        self.connections: list[tuple[str, BaseDatabaseWrapper, str, tuple[Where, ...]]] = []
        self.seen: set[tuple[str, object]] = set()
        self.origin_depth: int | None = None
        # Its place in the ring of units that track coroutine origins (AGR106).
        self.slot: int | None = None
        # An async unit's view of asgiref's routing, captured where it started.
        self.routing: tuple[Any, ...] | None = None

    def __repr__(self) -> str:
        return f"<Unit {self.kind} {self.label!r} owner={self.owner_name}>"


current_unit: ContextVar[Unit | None] = ContextVar("async_guard_unit", default=None)
