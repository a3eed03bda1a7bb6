"""The audit's worker processes (async_guard.audit.speed.pool.processes): real children."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from async_guard.audit.speed.pool import processes

# Python 3.12+ warns when a process with threads forks; these tests fork on purpose
# (the workers take no lock another thread of the test process could hold).
pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers need os.fork"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


def echo(channel: processes.Channel) -> None:
    while True:
        message = channel.recv()
        if message == "stop":
            return
        channel.send(message)


def leave_at_once(channel: processes.Channel) -> None:
    return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_messages_larger_than_a_pipe_cross_both_ways() -> None:
    worker = processes.start(echo)
    # several MiB: far more than a pipe holds, so both ends must keep reading
    big = {"text": "x" * 5_000_000, "items": list(range(100_000))}
    worker.channel.send(big)
    assert worker.channel.recv() == big
    worker.channel.send("stop")
    assert worker.join(5) == 0


def test_one_pickle_reaches_every_worker() -> None:
    workers = [processes.start(echo), processes.start(echo)]
    processes.broadcast([w.channel for w in workers], {"index": list(range(1000))})
    for worker in workers:
        assert worker.channel.recv() == {"index": list(range(1000))}
        worker.channel.send("stop")
        assert worker.join(5) == 0


def test_a_worker_that_ends_is_an_eof_not_a_hang() -> None:
    worker = processes.start(leave_at_once)
    with pytest.raises(EOFError):
        worker.channel.recv()
    assert worker.join(5) == 0


def test_a_worker_ends_when_the_engine_closes_its_pipe_without_a_word() -> None:
    """The second worker does not hold the first one's pipe open: closing the engine's
    end is enough for the first to see the end and exit, while the second runs on."""
    before = set(_children())
    first = processes.start(echo)
    second = processes.start(echo)
    pids = set(_children()) - before
    assert len(pids) == 2
    # The engine's ends closed, the first worker reads the end of its pipe and fails
    # out (exit code 1); held open by the second, it would wait until killed (-9).
    assert first.join(5) == 1
    second.channel.send("still here")
    assert second.channel.recv() == "still here"
    second.channel.send("stop")
    assert second.join(5) == 0
    assert not any(alive(pid) for pid in pids)


def _children() -> list[int]:
    """This process's children, from /proc (Linux), for the no-leftover check."""
    me = str(os.getpid())
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            found.append(int(entry))
    return found


def test_a_released_worker_is_reaped_later_not_left_a_zombie() -> None:
    worker = processes.start(echo)
    assert worker.pid is not None
    worker.channel.send("stop")
    worker.release()  # does not wait
    deadline = time.monotonic() + 5
    while worker.process in processes._RELEASED and time.monotonic() < deadline:
        time.sleep(0.01)
        processes.reap()
    assert worker.process not in processes._RELEASED
    with pytest.raises(ChildProcessError):
        os.waitpid(worker.pid, os.WNOHANG)  # reaped: no such child any more


def test_a_run_in_a_process_with_other_threads_forks_no_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forking copies the locks other threads hold: the audit stays in its process."""
    import threading

    from async_guard.audit.config import Config
    from async_guard.audit.runner import audit_paths

    bug = "import asyncio\n\n\ndef f():\n    asyncio.get_event_loop()\n"
    for n in range(60):  # enough files that a run without threads would start workers
        (tmp_path / f"m{n}.py").write_text(bug)
    started: list[object] = []
    real_start = processes.start

    def counting_start(*args: object) -> processes.Child:
        started.append(args)
        return real_start(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(processes, "start", counting_start)
    alone = threading.active_count() == 1  # (an earlier test may have left one running)
    assert len(audit_paths([str(tmp_path)], Config(cache=False, jobs=2)).findings) == 60
    assert len(started) == (2 if alone else 0)  # the two workers asked for, if forking is safe
    started.clear()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert len(audit_paths([str(tmp_path)], Config(cache=False, jobs=2)).findings) == 60
    finally:
        stop.set()
        other.join()
    assert started == []
