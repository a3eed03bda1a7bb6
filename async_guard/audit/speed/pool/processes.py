"""The audit's worker processes: ``os.fork`` and two pipes each, pickles framed by length.

``multiprocessing`` costs a cold run about 15 ms of imports before the first
file is read (sockets, temporary files, subprocesses: nothing a forked worker
needs), a seventh of what ruff takes for a whole tree of 1,000 files. A worker
here is a forked child that reads requests from one pipe and writes answers to
the other; where ``os.fork`` is missing (Windows), ``multiprocessing`` starts it
instead, with the same interface.

A child closes the parent's ends of the workers started before it, so that a
worker sees the end of its pipe (and ends) when the engine's process goes away
without telling it, rather than waiting forever.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable
from typing import Any, Protocol

#: The parent's ends of the pipes of every worker still running (closed in a new child).
_OPEN: set[int] = set()


class Channel(Protocol):
    def send(self, obj: Any) -> None: ...

    def recv(self) -> Any: ...

    def fileno(self) -> int: ...


class Pipes:
    """Both directions between the engine and one forked worker."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self._reader = open(read_fd, "rb", buffering=0, closefd=False)  # noqa: SIM115

    def fileno(self) -> int:
        return self.read_fd

    def send(self, obj: Any) -> None:
        self.send_pickled(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))

    def send_pickled(self, data: bytes) -> None:
        for part in (len(data).to_bytes(8, "little"), data):
            view = memoryview(part)
            while view:
                view = view[os.write(self.write_fd, view) :]

    def recv(self) -> Any:
        size = int.from_bytes(self._read(8), "little")
        return pickle.loads(self._read(size))

    def _read(self, size: int) -> bytearray:
        buffer = bytearray(size)
        view = memoryview(buffer)
        done = 0
        while done < size:
            got = self._reader.readinto(view[done:])
            if not got:
                raise EOFError("the other end of the pipe closed")
            done += got
        return buffer

    def close(self) -> None:
        if self._reader.closed:
            return
        self._reader.close()
        for fd in (self.read_fd, self.write_fd):
            _OPEN.discard(fd)
            os.close(fd)


#: Forked workers told to end that had not ended yet when let go (see ``Child.release``).
_EXITING: set[int] = set()


def broadcast(channels: list[Channel], obj: Any) -> None:
    """Send ``obj`` to every channel, pickled once (the project index goes to every
    worker: hundreds of kilobytes)."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    for channel in channels:
        if isinstance(channel, Pipes):
            channel.send_pickled(data)
        else:  # a multiprocessing connection (no ``fork``)
            channel.send(obj)


class Child:
    """A started worker process: its channel, and a way to wait for its end."""

    def __init__(
        self, channel: Channel, join: Callable[[float], int | None], pid: int | None = None
    ) -> None:
        self.channel = channel
        self._join = join
        self.pid = pid

    def join(self, timeout: float) -> int | None:
        """Wait for the worker's end (killed after ``timeout`` seconds): its exit code."""
        return self._join(timeout)

    def release(self) -> None:
        """Let go of a worker that was told to end, without waiting for it.

        A worker's end takes the kernel a few milliseconds (it unmaps the trees it
        kept), and nothing waits on it: it is reaped when this process starts another
        worker or releases one, or by the system once this process has ended.
        """
        if self.pid is None:  # started by multiprocessing, which reaps it
            self.join(5)
            return
        if isinstance(self.channel, Pipes):
            self.channel.close()
        _EXITING.add(self.pid)
        reap()


def reap(wait: bool = False) -> None:
    """Reap the released workers that have ended (with ``wait``, all of them: the
    console script does so last, so that its process's resource usage counts theirs)."""
    for pid in list(_EXITING):
        try:
            done, _ = os.waitpid(pid, 0 if wait else os.WNOHANG)
        except ChildProcessError:  # pragma: no cover - reaped elsewhere
            done = pid
        if done:
            _EXITING.discard(pid)


def start(target: Callable[..., None], *args: Any) -> Child:
    """Run ``target(channel, *args)`` in a new process."""
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        return start_with_multiprocessing(target, *args)
    reap()
    down_read, down_write = os.pipe()  # engine -> worker
    up_read, up_write = os.pipe()  # worker -> engine
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which ends with os._exit
        code = 1
        try:
            for fd in _OPEN | {down_write, up_read}:
                os.close(fd)
            target(Pipes(down_read, up_write), *args)
            code = 0
        finally:
            os._exit(code)
    os.close(down_read)
    os.close(up_write)
    channel = Pipes(up_read, down_write)
    _OPEN.update((up_read, down_write))

    def join(timeout: float) -> int | None:
        channel.close()
        _EXITING.discard(pid)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:  # pragma: no cover - a worker that hangs
                os.kill(pid, 9)
                return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            time.sleep(0.001)

    return Child(channel, join, pid)


def start_with_multiprocessing(
    target: Callable[..., None], *args: Any, method: str = "spawn"
) -> Child:
    """Run ``target(channel, *args)`` in a process ``multiprocessing`` starts: where
    there is no ``fork``, and in ``benchmarks/pool_cost.py``, which measures what the
    standard library's machinery would cost the audit."""
    import multiprocessing

    context: Any = multiprocessing.get_context(method)
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args), daemon=True)
    process.start()

    def join(timeout: float) -> int | None:
        process.join(timeout)
        code: int | None = process.exitcode
        return code

    return Child(parent, join)
