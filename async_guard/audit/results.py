"""What a run of the audit returns: findings, the files it could not read, statistics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from async_guard.audit.finding import Finding


@dataclass(frozen=True)
class ParseError:
    """A file the audit could not (fully) read; reported, never fatal."""

    path: str
    line: int
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message}


@dataclass
class Stats:
    """The ``--stats`` inventory: what the tree holds, and what the run did with it."""

    files: int = 0
    parsed: int = 0
    skipped: int = 0
    cached: int = 0
    lines: int = 0
    async_functions: int = 0
    sync_functions: int = 0
    asyncio_run_by_context: Counter[str] = field(default_factory=Counter)
    mixed_files: int = 0
    parse_errors: int = 0

    def count(self, functions: Mapping[str, bool], run_contexts: Iterable[str]) -> None:
        """Add a parsed file's functions (qualified name -> async) and the contexts of its
        ``asyncio.run()`` calls to the inventory."""
        n_async = sum(1 for is_async in functions.values() if is_async)
        n_sync = len(functions) - n_async
        self.async_functions += n_async
        self.sync_functions += n_sync
        if n_async and n_sync:
            self.mixed_files += 1
        self.asyncio_run_by_context.update(run_contexts)

    def as_json(self) -> dict[str, Any]:
        data = dict(vars(self))
        data["asyncio_run_by_context"] = dict(sorted(self.asyncio_run_by_context.items()))
        return data


@dataclass
class AuditResult:
    findings: list[Finding]
    files_scanned: int
    parse_errors: list[ParseError]
    duration_s: float
    stats: Stats
    #: Paths given whose every Python file the configured ``exclude`` left out.
    excluded_roots: list[str] = field(default_factory=list)
