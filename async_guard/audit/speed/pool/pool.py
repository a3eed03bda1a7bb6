"""A fixed set of worker processes, and the work handed out to them.

Each file's text and words stay with the worker that read it, and its tree with
the worker that parsed it (see ``worker``): the pool remembers which worker holds
what, sends each question where the data is, and hands out work in small tasks as
the workers free up. A pool of one job runs the worker in this process.
"""

from __future__ import annotations

import select
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from async_guard.audit.analysis.facts import FileFacts
from async_guard.audit.analysis.index import ProjectIndex
from async_guard.audit.analysis.source import SourceProblem
from async_guard.audit.config import Config
from async_guard.audit.speed.pool import processes
from async_guard.audit.speed.pool.worker import (
    FileWorker,
    Loaded,
    LoadItem,
    Walked,
    WalkItem,
    serve,
)


class WorkerPool:
    """A fixed set of workers. Each file's text and words stay with the worker that read
    it, and its tree with the worker that parsed it."""

    def __init__(self, config: Config, jobs: int) -> None:
        self.local = FileWorker(config) if jobs <= 1 else None
        self.sent: ProjectIndex | None = None  # the index the workers hold
        self.owner: dict[str, int] = {}  # display -> the worker that keeps its tree
        self.reader: dict[str, int] = {}  # display -> the worker that keeps its words
        self.conns: list[processes.Channel] = []
        self.procs: list[processes.Child] = []
        if self.local is None:
            for _ in range(jobs):
                worker = processes.start(serve, config)
                self.conns.append(worker.channel)
                self.procs.append(worker)

    def _ask(self, requests: list[tuple[Any, ...]]) -> list[Any]:
        """One request to each worker, in parallel; their answers in worker order."""
        for conn, request in zip(self.conns, requests, strict=True):
            conn.send(request)
        return [conn.recv() for conn in self.conns]

    def _share(
        self, method: str, tasks: list[Any], *args: Any, ahead: int = 1
    ) -> list[tuple[int, Any]]:
        """Hand ``tasks`` out as the workers free up, ``ahead`` at a time each: (worker,
        answer) per task, in the order given.

        Two ahead, a worker never waits for its next task; that is only for small tasks
        (paths to read): a large one (a file's text to parse) could fill the pipe while
        the worker fills the other one with its last answer, and both would wait.

        How long a task takes is not known before (a file's trigger decides whether it
        is parsed as it is read; parsing and walking cost more than their size says), so
        a fixed split left one worker busy long after the other (up to 75 ms of a
        0.7 s run); handing out small tasks on demand evens that out."""
        done: dict[int, tuple[int, Any]] = {}
        queue = deque(enumerate(tasks))
        numbers: list[deque[int]] = [deque() for _ in self.conns]

        def next_request(slot: int, flying: int) -> tuple[Any, ...] | None:
            if not queue or flying >= ahead:
                return None
            number, task = queue.popleft()
            numbers[slot].append(number)
            return (method, task, *args)

        def on_answer(slot: int, answer: Any) -> None:
            done[numbers[slot].popleft()] = (slot, answer)

        self._dispatch(next_request, on_answer)
        return [done[number] for number in range(len(tasks))]

    def _dispatch(
        self,
        next_request: Callable[[int, int], tuple[Any, ...] | None],
        on_answer: Callable[[int, Any], None],
    ) -> None:
        """The engine's side of the workers' loop: ask ``next_request(worker, requests in
        flight)`` for work, two at most ahead each, until every worker has answered all
        it was sent (a worker answers its requests in order)."""
        flying = [0 for _ in self.conns]
        slot_of = {id(conn): slot for slot, conn in enumerate(self.conns)}

        def give(slot: int) -> None:
            request = next_request(slot, flying[slot]) if flying[slot] < 2 else None
            if request is not None:
                self.conns[slot].send(request)
                flying[slot] += 1

        for _ in range(2):
            for slot in range(len(self.conns)):
                give(slot)
        while any(flying):
            busy = [conn for conn, count in zip(self.conns, flying, strict=True) if count]
            for ready in select.select(busy, [], [])[0]:
                slot = slot_of[id(ready)]
                answer = self.conns[slot].recv()
                flying[slot] -= 1
                on_answer(slot, answer)
                give(slot)

    def load(self, files: Sequence[LoadItem]) -> list[Loaded]:
        """Every file read (or recalled from its summary), in the order given."""
        items = list(files)
        if self.local is not None:
            return self.local.load(items)
        size = max(4, len(items) // (len(self.conns) * 24))
        chunks = [items[start : start + size] for start in range(0, len(items), size)]
        out: list[Loaded] = []
        # Paths alone are small tasks, handed out two ahead; summaries make them large
        # (see ``_share``). The texts of the files without a trigger stay with the
        # workers (shipping them all cost the engine more than the few it later needs).
        ahead = 1 if any(item[4] is not None for item in items) else 2
        for slot, answer in self._share("load", chunks, ahead=ahead):
            for loaded in answer:
                self.reader[loaded.display] = slot
                if loaded.facts is not None:
                    self.owner[loaded.display] = slot  # its tree stays there
                out.append(loaded)
        return out

    def texts_of(self, displays: list[str]) -> dict[str, str]:
        """The texts the workers kept of ``displays`` (see ``_Loaded.text``)."""
        if self.local is not None:
            return self.local.texts_of(displays)
        shards: list[list[str]] = [[] for _ in self.conns]
        for display in displays:
            shards[self.reader[display]].append(display)
        out: dict[str, str] = {}
        for answer in self._ask([("texts_of", shard) for shard in shards]):
            out.update(answer)
        return out

    def select(
        self, functions: set[bytes], methods: dict[bytes, set[bytes]], modules: set[str | None]
    ) -> tuple[list[str], list[str]]:
        if self.local is not None:
            return self.local.select(functions, methods, modules)
        answers = self._ask([("select", functions, methods, modules)] * len(self.conns))
        candidates = [display for found, _ in answers for display in found]
        partial = [display for _, found in answers for display in found]
        return candidates, partial

    def renames(self, sensitive: set[bytes]) -> list[tuple[str, str]]:
        if self.local is not None:
            return self.local.renames(sensitive)
        return [
            pair
            for answer in self._ask([("renames", sensitive)] * len(self.conns))
            for pair in answer
        ]

    def parse(
        self, items: list[tuple[str, str, bool]]
    ) -> list[tuple[str, FileFacts | SourceProblem]]:
        """Facts of ``items``, largest files first, in small tasks (see ``_share``)."""
        if self.local is not None:
            return self.local.parse(items)
        largest_first = sorted(items, key=lambda i: -len(i[1]))
        target = sum(len(i[1]) for i in items) // (len(self.conns) * 12) + 1
        tasks: list[list[tuple[str, str, bool]]] = []
        weight = target
        for item in largest_first:
            if weight >= target:
                tasks.append([])
                weight = 0
            tasks[-1].append(item)
            weight += len(item[1])
        out: list[tuple[str, FileFacts | SourceProblem]] = []
        for slot, answer in self._share("parse", tasks):
            for display, outcome in answer:
                self.owner[display] = slot
                out.append((display, outcome))
        return out

    def walk(
        self,
        index: ProjectIndex,
        aliased: frozenset[str] | None,
        items: Sequence[WalkItem],
        kept: set[str],
    ) -> dict[str, Walked | SourceProblem]:
        """Walk each file of ``items`` where its tree is (``kept``: the files whose tree
        waits in a worker; the others are parsed where they are walked), one file at a
        time, largest first.

        What a walk costs follows neither a file's size nor its parse (an async def
        with ORM work costs far more than a sync one), so a worker that has walked
        its own files takes the smallest of another's and parses it again (less than
        leaving one worker walking alone: the parse of a file costs about what its
        walk does)."""
        if self.local is not None:
            self.local.use(index, aliased)
            here = self.local.walk([(d, triggered) for d, _, triggered in items if d in kept])
            here.update(self.local.walk_texts([item for item in items if item[0] not in kept]))
            return here
        if index is not self.sent:  # each index crosses to the workers once, not per batch
            processes.broadcast(self.conns, ("use", index, aliased))
            self.sent = index
        slots = range(len(self.conns))
        by_display = {item[0]: item for item in items}
        texts = {display: text for display, text, _ in items}
        queues = [
            deque(
                sorted(
                    (d for d in by_display if d in kept and self.owner.get(d) == slot),
                    key=lambda d: -len(texts[d]),
                )
            )
            for slot in slots
        ]
        homeless = [d for d in by_display if d not in kept or self.owner.get(d) not in slots]
        out: dict[str, Walked | SourceProblem] = {}

        def next_request(slot: int, flying: int) -> tuple[Any, ...] | None:
            if queues[slot]:
                display = queues[slot].popleft()
                return ("walk", [(display, by_display[display][2])])
            if flying:
                return None  # a text only to an idle worker (see _share: both pipes could fill)
            victim = max(slots, key=lambda s: sum(len(texts[d]) for d in queues[s]))
            if queues[victim]:
                display = queues[victim].pop()
            elif homeless:
                display = homeless.pop()
            else:
                return None
            self.owner[display] = slot
            return ("walk_texts", [by_display[display]])

        self._dispatch(next_request, lambda slot, answer: out.update(answer))
        return out

    def forget(self, displays: list[str]) -> None:
        """Let the workers drop the trees of ``displays`` (they will not be walked)."""
        if self.local is not None:
            self.local.forget(displays)
            return
        shards: list[list[str]] = [[] for _ in self.conns]
        for display in displays:
            slot = self.owner.pop(display, None)
            if slot is not None:
                shards[slot].append(display)
        for conn, shard in zip(self.conns, shards, strict=True):
            if shard:
                conn.send(("forget", shard))

    def stop(self) -> None:
        """Tell the workers to end (they free their trees on their own while the engine
        writes its result; ``close`` waits for them)."""
        for conn in self.conns:
            conn.send(("stop",))
        self.conns = []

    def close(self) -> None:
        self.stop()
        for proc in self.procs:
            proc.release()  # it ends by itself; nothing here waits for that
        self.procs = []
