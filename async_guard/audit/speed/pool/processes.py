"""The audit's worker processes, started by ``multiprocessing``, one duplex pipe each.

Forked where the platform can fork (the workers inherit the parent's imports
and need nothing sent at start-up), spawned elsewhere. Measured on a cold run of
the wheels corpus, the standard library's machinery costs within a few percent
of a hand-made ``os.fork`` and two raw pipes (``benchmarks/pool_cost.py``; the
numbers are in docs/performance.md), so the audit keeps no process code of its
own beyond two things ``multiprocessing`` leaves to its users:

* A forked child inherits the parent's end of its own pipe and of every worker
  started before it. Holding them open, a worker would never see the end of its
  pipe when the audit's process goes away without a word (killed, a crash), and
  would wait forever; so a new child closes them first.
* A worker told to end is let go without waiting for it (its end takes the kernel
  a few milliseconds: it unmaps the trees it kept); the console script joins the
  released workers last, so that its resource usage counts theirs.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol


class Channel(Protocol):
    def send(self, obj: Any) -> None: ...

    def recv(self) -> Any: ...

    def fileno(self) -> int: ...


#: The parent's ends of the pipes of every worker still running (closed in a new child).
_OPEN: list[Connection] = []
#: Workers told to end and let go, joined by :func:`reap`.
_RELEASED: list[Any] = []


def broadcast(channels: list[Channel], obj: Any) -> None:
    """Send ``obj`` to every channel, pickled once (the project index goes to every
    worker: hundreds of kilobytes)."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    for channel in channels:
        if isinstance(channel, Connection):
            channel.send_bytes(data)
        else:  # pragma: no cover - every channel here is a Connection
            channel.send(obj)


class Child:
    """A started worker process: its channel, and a way to wait for its end."""

    def __init__(self, channel: Connection, process: Any) -> None:
        self.channel = channel
        self.process = process
        self.pid: int | None = process.pid

    def join(self, timeout: float) -> int | None:
        """Wait for the worker's end (killed after ``timeout`` seconds): its exit code."""
        self._let_go()
        self.process.join(timeout)
        if self.process.exitcode is None:  # pragma: no cover - a worker that hangs
            self.process.kill()
            self.process.join()
        code: int | None = self.process.exitcode
        return code

    def release(self) -> None:
        """Let go of a worker that was told to end, without waiting for it."""
        self._let_go()
        _RELEASED.append(self.process)
        reap()

    def _let_go(self) -> None:
        if self.channel in _OPEN:
            _OPEN.remove(self.channel)
        self.channel.close()


def reap(wait: bool = False) -> None:
    """Join the released workers that have ended (with ``wait``, all of them)."""
    for process in list(_RELEASED):
        if wait:
            process.join()
        if wait or not process.is_alive():  # is_alive() reaps an ended child
            _RELEASED.remove(process)


def _child_main(  # pragma: no cover - runs in the child
    target: Callable[..., None], channel: Connection, inherited: list[Connection], *args: Any
) -> None:
    for connection in inherited:
        connection.close()
    target(channel, *args)


def start(target: Callable[..., None], *args: Any) -> Child:
    """Run ``target(channel, *args)`` in a new process."""
    reap()
    forking = hasattr(os, "fork")
    context: Any = multiprocessing.get_context("fork" if forking else "spawn")
    parent, child = context.Pipe()
    if forking:
        process = context.Process(
            target=_child_main, args=(target, child, [parent, *_OPEN], *args), daemon=True
        )
    else:  # pragma: no cover - a spawned child inherits no pipe but its own
        process = context.Process(target=target, args=(child, *args), daemon=True)
    process.start()
    child.close()
    _OPEN.append(parent)
    return Child(parent, process)
