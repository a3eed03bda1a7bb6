"""The unit of work and the context variable that carries it.

Kept apart from the hooks so that every hook module can import it without
importing the others.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from async_guard.runtime.frames import Where

_get_ident = threading.get_ident

#: A unit's label, or the parts of it that :attr:`Unit.label` joins when first read.
Label = str | tuple[Any, ...]


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
    seen) is made when first asked for, so that starting one costs only
    attribute stores.
    """

    # Every attribute has a slot and is set in __init__. Python 3.11 specializes
    # an attribute read only when the instance holds the attribute: a
    # class-level default read through an instance takes the generic lookup,
    # type lookup included, at every request and task. Measured with
    # benchmarks/instructions.py: 0.5k, 0.6k and 1.7k fewer instructions for a
    # minimal sync request, an async and a sync consumer message (of the
    # guard's 28k, 31k and 44k). ``__weakref__``: a unit can be watched dying.
    __slots__ = (
        "__weakref__",
        "_connections",
        "_label",
        "_loops",
        "_owner_name",
        "_seen",
        "is_async",
        "kind",
        "origin_depth",
        "owner_ident",
        "routing",
        "slot",
        "waiting",
        "when_pending",
    )

    # ``is_async`` is positional too: a keyword argument costs a start of a unit
    # (every request and task) measurably more.
    def __init__(self, kind: str, label: Label, is_async: bool) -> None:
        self.kind = kind
        self._label = label
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
        # An async unit's view of asgiref's routing: (outer async_to_sync executor,
        # thread-sensitive context, event loop), captured where it started, except
        # the outer executor (costly to read), which waits for the unit's first
        # hop to a thread (see :func:`async_guard.runtime.loops.install`) and is
        # OUTER_PENDING until then.
        self.routing: tuple[Any, ...] | None = None
        # Set when the unit left with nothing for its end-of-unit checks yet, and
        # they wait for something (a response's close()): ``when_pending(unit,
        # target)`` arranges them once a first loop or connection is noted.
        self.waiting: weakref.ref[Any] | None = None
        self.when_pending: Callable[[Unit, Any], None] | None = None

    @property
    def label(self) -> str:
        """The unit's name in events: ``"GET /orders/"``, ``"Chat.chat_message /ws/chat/"``.

        A unit may start with its label as parts, ``(format, *parts)``, joined
        here at the first read: a Channels message's label takes several
        lookups to build, and almost no message has an event to name it in.
        """
        label = self._label
        if not isinstance(label, str):
            label = self._label = label[0](*label[1:])
        return label

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
            self._now_pending()
        return self._loops

    @property
    def connections(self) -> list[tuple[str, BaseDatabaseWrapper, str, tuple[Where, ...]]]:
        """(alias, connection object, thread name, frames where it was opened)"""
        if self._connections is None:
            self._connections = []
            self._now_pending()
        return self._connections

    def _now_pending(self) -> None:
        waiting, hook = self.waiting, self.when_pending
        if waiting is None or hook is None:
            return
        self.waiting = self.when_pending = None
        target = waiting()
        if target is not None:
            hook(self, target)

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

    def after(self, target: Any, hook: Callable[[Unit, Any], None]) -> None:
        """``hook(self, target)`` now if the end-of-unit checks have something, else once they do.

        The unit keeps ``target`` weakly meanwhile; most units never call the hook.
        """
        if self._loops or self._connections:
            hook(self, target)
        else:
            self.waiting = weakref.ref(target)
            self.when_pending = hook

    def clear(self) -> None:
        """Forget the loops and connections checked at the unit's end."""
        if self._loops:
            self._loops.clear()
        if self._connections:
            self._connections.clear()

    def __repr__(self) -> str:
        return f"<Unit {self.kind} {self.label!r} owner={self.owner_name}>"


#: The outer executor of an async unit's routing before its first hop.
OUTER_PENDING: Any = object()

current_unit: ContextVar[Unit | None] = ContextVar("async_guard_unit", default=None)
