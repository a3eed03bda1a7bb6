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

_get_ident = threading.get_ident


class Unit:
    """One request, task or ``watch()`` block.

    ``owner_ident`` is the thread that sync database work of this unit must
    run on. For a sync unit it is the thread that started it. An async unit
    starts on its event loop's thread, where no query can legally run; its
    sync work goes wherever asgiref's thread-sensitive mode sends it, so the
    first query on another thread resolves that thread (see
    :func:`async_guard.runtime.db.adopt_sync_thread`) and makes it the owner.

    A unit starts on every request and task, and almost all of them end with
    no event: what only an event or an end-of-unit check reads (the owner
    thread's name, the lists of loops and connections, the events already
    seen) is made when first asked for, so that starting one costs a few
    attribute stores.
    """

    __slots__ = (
        "_connections",
        "_loops",
        "_owner_name",
        "_seen",
        "is_async",
        "kind",
        "label",
        "origin_depth",
        "owner_ident",
        "routing",
        "slot",
    )

    def __init__(self, kind: str, label: str, *, is_async: bool) -> None:
        self.kind = kind
        self.label = label
        self.is_async = is_async
        self.owner_ident: int = _get_ident()
        self._owner_name: str | None = None
        self._loops: list[tuple[asyncio.AbstractEventLoop, tuple[Where, ...], str]] | None = None
        self._connections: list[tuple[str, BaseDatabaseWrapper, str, tuple[Where, ...]]] | None = (
            None
        )
        self._seen: set[tuple[str, object]] | None = None
        self.origin_depth: int | None = None
        # Its place in the ring of units that track coroutine origins (AGR106).
        self.slot: int | None = None
        # An async unit's view of asgiref's routing, captured where it started.
        self.routing: tuple[Any, ...] | None = None

    @property
    def owner_name(self) -> str:
        """The owner thread's name, looked up (from any thread) when an event needs it."""
        if self._owner_name is None:
            ident = self.owner_ident
            thread = next((t for t in threading.enumerate() if t.ident == ident), None)
            # Still alive at every event but a late AGR106 (a coroutine collected
            # after its thread ended); the name stays fixed from then on.
            self._owner_name = thread.name if thread is not None else f"thread {ident}"
        return self._owner_name

    @owner_name.setter
    def owner_name(self, name: str) -> None:
        self._owner_name = name

    @property
    def loops(self) -> list[tuple[asyncio.AbstractEventLoop, tuple[Where, ...], str]]:
        """(loop, frames where it was created, thread name)"""
        if self._loops is None:
            self._loops = []
        return self._loops

    @property
    def connections(self) -> list[tuple[str, BaseDatabaseWrapper, str, tuple[Where, ...]]]:
        """(alias, connection object, thread name, frames where it was opened)"""
        if self._connections is None:
            self._connections = []
        return self._connections

    @property
    def seen(self) -> set[tuple[str, object]]:
        """(code, key) of the events already logged for this unit."""
        if self._seen is None:
            self._seen = set()
        return self._seen

    @property
    def pending(self) -> bool:
        """Whether the end-of-unit checks have anything to look at."""
        return bool(self._loops or self._connections)

    def __repr__(self) -> str:
        return f"<Unit {self.kind} {self.label!r} owner={self.owner_name}>"


current_unit: ContextVar[Unit | None] = ContextVar("async_guard_unit", default=None)
