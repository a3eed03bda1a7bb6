"""What a run with a cache knows of a file without reading it: its summary, by stat.

A run needs every file of the project once: whether its text holds a trigger, the
names it gives with ``as``, its renames, and the words the skip asks about. Those
come from the text alone, so they are kept, one :class:`Summary` per file, in one
snapshot beside the per-file cache, under the file's signature as the file system
reports it (inode, size, modification and change times: a write always moves the
change time). The next run reads again only the files whose signature moved: a
pre-commit run over one staged file in a large project reads that file, and takes
everything else from here.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

from async_guard.audit.atomic import atomic_write

Signature = tuple[int, int, int, int]


def signature(path: str) -> Signature | None:
    """The file's inode, size, modification and change times (None: cannot be looked at)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@dataclass(frozen=True)
class Summary:
    """One file's text, as much of it as a run needs before it reads the file."""

    signature: Signature
    #: The per-file cache's key of this text (see ``speed.cache``).
    key: str
    lines: int
    #: Its text holds a trigger (``FileWorker.load``).
    triggered: bool
    #: Its ``name as alias`` import pairs.
    renames: tuple[tuple[str, str], ...]
    #: The names after an ``as`` anywhere in it (see ``speed.journal``).
    aliases: frozenset[str]
    #: Its words, one blank between each (a file without a trigger's; see ``skip``).
    words: bytes
    #: Its ``def`` lines (for ``--stats``, when it is skipped).
    defs: int
    #: It may hold facts of the model graph (``facts.holds_graph_facts``).
    graph: bool = False


class Snapshot:
    """The summaries of one project's files, by absolute path, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "snapshot.pickle"

    def load(self) -> dict[str, Summary]:
        try:
            with self.path.open("rb") as handle:
                found = pickle.load(handle)
        except Exception:  # missing, corrupted or from another version: read the files
            return {}
        return found if isinstance(found, dict) else {}

    def store(self, summaries: dict[str, Summary]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, pickle.dumps(summaries, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # a read-only tree is still audited, just without a snapshot
