"""The baseline: findings a team has accepted for now, so that only new ones fail the build.

A baseline is a JSON file::

    {"version": 1, "tool": "async-guard", "entries": [
        {"path": "apps/x/tasks.py", "code": "AG101", "fingerprint": "3f0c...",
         "symbol": "sync_prs", "line": 60, "message": "asyncio.run() in a Celery task ..."}]}

An entry matches a finding on ``path``, ``code`` and ``fingerprint`` only: a hash
of the code, the enclosing function's qualified name (``symbol``) and the
offending line's text with its whitespace normalised. Line numbers never take
part, so an edit elsewhere in the file that moves every line keeps the entries
matching; ``line`` and ``message`` are there for the humans reading a diff.
Identical lines in one function are matched by count. Entries are sorted and
written one key per line, so a baseline's diff shows what changed and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from async_guard.audit.atomic import atomic_write
from async_guard.audit.finding import Finding

VERSION = 1
TOOL = "async-guard"

_WHITESPACE = re.compile(r"\s+")


class BaselineError(ValueError):
    """A baseline file that cannot be used; the message names the file and the problem."""


def normalize_path(path: str) -> str:
    """The path as entries store it: forward slashes, no leading ``./``."""
    return PurePosixPath(path.replace("\\", "/")).as_posix().removeprefix("./")


def fingerprint(code: str, symbol: str, source_line: str) -> str:
    """What identifies a finding across edits that do not touch its line or function."""
    text = _WHITESPACE.sub(" ", source_line.strip())
    digest = hashlib.sha256(f"{code}\0{symbol}\0{text}".encode())
    return digest.hexdigest()[:20]


@dataclass(frozen=True, order=True)
class BaselineEntry:
    """One accepted finding. Order (and equality) is the matching key, then the line."""

    path: str
    code: str
    fingerprint: str
    line: int = 0
    symbol: str = field(default="", compare=False)
    message: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.code, self.fingerprint)

    @classmethod
    def of(cls, finding: Finding) -> BaselineEntry:
        return cls(
            path=normalize_path(finding.path),
            code=finding.code,
            fingerprint=fingerprint(finding.code, finding.symbol, finding.source_line),
            line=finding.line,
            symbol=finding.symbol,
            message=finding.message,
        )


def _key_of(finding: Finding) -> tuple[str, str, str]:
    return BaselineEntry.of(finding).key


@dataclass(frozen=True)
class Baseline:
    """The accepted findings, as a sorted tuple of entries."""

    entries: tuple[BaselineEntry, ...] = ()

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> Baseline:
        return cls(tuple(sorted(BaselineEntry.of(f) for f in findings)))

    def __len__(self) -> int:
        return len(self.entries)

    def split(self, findings: Iterable[Finding]) -> tuple[list[Finding], list[BaselineEntry]]:
        """(findings not in the baseline, entries that matched nothing, i.e. fixed).

        Within one key, findings and entries pair up in line order, so when a
        function gains a second copy of an accepted line, the later copy is new.
        """
        waiting: dict[tuple[str, str, str], list[BaselineEntry]] = defaultdict(list)
        for entry in self.entries:
            waiting[entry.key].append(entry)
        new: list[Finding] = []
        for finding in sorted(findings):
            matches = waiting.get(_key_of(finding))
            if matches:
                matches.pop(0)
            else:
                new.append(finding)
        fixed = sorted(entry for entries in waiting.values() for entry in entries)
        return new, fixed

    def without(self, entries: Iterable[BaselineEntry]) -> Baseline:
        """This baseline less ``entries`` (each removed once): pruning what was fixed."""
        remaining = list(self.entries)
        for entry in entries:
            if entry in remaining:
                remaining.remove(entry)
        return Baseline(tuple(remaining))

    def as_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "tool": TOOL,
            "entries": [asdict(entry) for entry in self.entries],
        }


def load(path: Path) -> Baseline:
    """Read a baseline; ``BaselineError`` names the file and what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(
            f"{path}: baseline file not found (create it with --write-baseline {path})"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(
            f"{path}: not a baseline: invalid JSON at line {error.lineno} "
            f"column {error.colno} ({error.msg})"
        ) from None
    if not isinstance(data, dict) or "entries" not in data or "version" not in data:
        raise BaselineError(f"{path}: not a baseline: expected an object with version and entries")
    if data["version"] != VERSION:
        raise BaselineError(
            f"{path}: baseline version {data['version']!r} is not supported "
            f"(this async-guard reads version {VERSION}); write it again with --write-baseline"
        )
    if not isinstance(data["entries"], list):
        raise BaselineError(f"{path}: 'entries' must be a list")
    return Baseline(tuple(sorted(_entry(path, n, raw) for n, raw in enumerate(data["entries"]))))


def _entry(path: Path, number: int, raw: object) -> BaselineEntry:
    where = f"{path}: entry {number + 1}"
    if not isinstance(raw, dict):
        raise BaselineError(f"{where}: expected an object, got {type(raw).__name__}")
    for name in ("path", "code", "fingerprint"):
        if not isinstance(raw.get(name), str) or not raw[name]:
            raise BaselineError(f"{where}: missing or empty {name!r}")
    line = raw.get("line", 0)
    if not isinstance(line, int) or isinstance(line, bool):
        raise BaselineError(f"{where}: 'line' must be an integer")
    return BaselineEntry(
        path=normalize_path(raw["path"]),
        code=raw["code"],
        fingerprint=raw["fingerprint"],
        line=line,
        symbol=str(raw.get("symbol", "")),
        message=str(raw.get("message", "")),
    )


def write(path: Path, findings: Iterable[Finding] | Baseline) -> None:
    """Write a baseline of ``findings`` (or a pruned ``Baseline``) atomically.

    The text goes to a temporary file in the same directory, then replaces
    ``path`` in one ``os.replace``: a reader (or a crash) sees the old baseline
    or the new one, never half of one.
    """
    baseline = findings if isinstance(findings, Baseline) else Baseline.of(findings)
    text = json.dumps(baseline.as_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    atomic_write(path, text.encode("utf-8"))
