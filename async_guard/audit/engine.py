"""Files -> parse (parallel, once) -> project index -> one walk per file -> findings.

``audit_paths`` reads every file once, takes what it can from the per-file
cache, parses the rest across worker processes (each keeps its trees until the
walk, so no file is parsed twice), merges the facts into the
:class:`~async_guard.audit.index.ProjectIndex`, then walks each file once with
every enabled rule.

Skipping without parsing: a file is parsed only if its text contains a trigger
of an enabled rule or of the index (``INDEX_TRIGGERS``), or if it is *linked by
name* to a parsed file: it defines a name a parsed file refers to, or mentions a
name a parsed file defines. Every cross-file fact (imports, calls, bases,
``.objects`` receivers) connects two files through an identifier written in
both, so a file outside that closure can neither produce a finding nor change
another file's. ``Config(skip=False)`` turns skipping off (the skip-safety test
compares both).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from async_guard import __version__
from async_guard.audit.cache import Cache, CacheEntry
from async_guard.audit.config import Config
from async_guard.audit.context import Walker
from async_guard.audit.finding import Finding
from async_guard.audit.index import FileFacts, ProjectIndex, collect_facts
from async_guard.audit.rules import Rule, all_rules
from async_guard.audit.source import SourceFile, SourceProblem, decode_source, read_file
from async_guard.audit.suppress import unsuppressed

#: What the index itself needs to see in a file (async defs, entry points, models).
INDEX_TRIGGERS = (
    "async", "await", "Model", "objects", "task", "receiver", "connect", "request",
    "Command", "Middleware", "View", "__main__", "asyncio", "sync", "loop", "signal",
)  # fmt: skip
SKIP_DIRS = frozenset(
    {"__pycache__", "node_modules", "site-packages", "venv", ".venv", ".git", ".hg", ".tox",
     ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".async_guard_cache", "build", "dist"}
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEFINES = re.compile(
    r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_]\w*)|^([A-Za-z_]\w*)[ \t]*[:=]", re.M
)
_IMPORTS = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_DEF_LINE = re.compile(r"^[ \t]*def[ \t]", re.M)
_ASYNC_DEF_LINE = re.compile(r"^[ \t]*async[ \t]+def[ \t]", re.M)


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
    """The ``--stats`` inventory (see seed 002)."""

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


@dataclass
class _File:
    path: Path
    display: str
    text: str
    key: str
    module: str | None = None
    facts: FileFacts | None = None
    entry: CacheEntry | None = None
    findings: list[Finding] | None = None
    run_contexts: list[str] = field(default_factory=list)
    parsed: bool = False


def enabled_rules(config: Config) -> list[type[Rule]]:
    return [rule for rule in all_rules() if rule.code != "AG000" and config.enabled(rule.code)]


def triggers(config: Config) -> tuple[str, ...]:
    """Substrings of which a file must contain one to be parsed for its own sake."""
    words: set[str] = set(INDEX_TRIGGERS)
    for rule in enabled_rules(config):
        words.update(rule.triggers)
    # configured names count like the built-in ones (an import names them in full)
    words.update(name.rsplit(".", 1)[-1] for name in (*config.known_async, *config.task_decorators))
    return tuple(sorted(w for w in words if w))


def syntax_finding(path: str, problem: SourceProblem, lines: Sequence[str] = ()) -> Finding:
    text = lines[problem.line - 1].strip() if 0 < problem.line <= len(lines) else ""
    return Finding(
        path=path, line=problem.line, col=problem.col, code="AG000", end_line=problem.line,
        end_col=problem.col, name="syntax-error", severity="error", message=problem.message,
        hint="Fix the file (or exclude it); the rest of the tree is still audited.",
        context="module", source_line=text,
    )  # fmt: skip


def walk_file(
    sf: SourceFile, index: ProjectIndex, config: Config
) -> tuple[list[Finding], list[str]]:
    """Every enabled rule over one parsed file; returns findings and asyncio.run contexts."""
    rules = [rule for rule in enabled_rules(config) if not config.ignored_in(sf.path, rule.code)]
    runs = _RunCounter()
    walker = Walker(sf, [], index, config.task_decorators)
    instances = [rule(sf, index, walker) for rule in rules]
    walker.add_visitors([*instances, runs])
    walker.run()
    findings = [f for rule in instances for f in rule.findings]
    return sorted(set(unsuppressed(findings, sf.lines))), runs.contexts


class _RunCounter:
    def __init__(self) -> None:
        self.contexts: list[str] = []

    def visit_Call(self, node: Any, scope: Any) -> None:
        func = node.func
        if getattr(func, "attr", None) == "run" and getattr(func.value, "id", None) == "asyncio":
            self.contexts.append(scope.context)


def audit_source(
    source: str, path: str = "example.py", *, config: Config | None = None
) -> list[Finding]:
    """Audit one file's text in memory (as if it were at ``path``)."""
    config = config or Config()
    try:
        sf = SourceFile.from_text(source, path)
    except SourceProblem as problem:
        if not config.enabled("AG000") or config.ignored_in(path, "AG000"):
            return []
        return unsuppressed(
            [syntax_finding(path, problem, source.splitlines())], source.splitlines()
        )
    try:
        index = ProjectIndex([collect_facts(sf, config)], config)
        return walk_file(sf, index, config)[0]
    except RecursionError:
        return [syntax_finding(path, SourceProblem("too deeply nested to audit (recursion limit)"))]


# --- workers -------------------------------------------------------------------------


class _Worker:
    """Parses files and keeps their trees until the walk (in-process or in a child)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.trees: dict[str, SourceFile] = {}

    def parse(self, items: list[tuple[str, str]]) -> list[tuple[str, FileFacts | SourceProblem]]:
        out: list[tuple[str, FileFacts | SourceProblem]] = []
        for display, text in items:
            try:
                sf = SourceFile.from_text(text, display)
                facts = collect_facts(sf, self.config)
            except SourceProblem as problem:
                out.append((display, problem))
                continue
            except RecursionError:
                out.append((display, SourceProblem("too deeply nested to audit (recursion limit)")))
                continue
            self.trees[display] = sf
            out.append((display, facts))
        return out

    def walk(
        self, index: ProjectIndex, displays: Iterable[str]
    ) -> dict[str, tuple[list[Finding], list[str]] | SourceProblem]:
        out: dict[str, tuple[list[Finding], list[str]] | SourceProblem] = {}
        for display in displays:
            sf = self.trees.pop(display, None)
            if sf is None:
                continue
            try:
                out[display] = walk_file(sf, index, self.config)
            except RecursionError:
                out[display] = SourceProblem("too deeply nested to audit (recursion limit)")
            except Exception as exc:  # a rule's bug must not stop the run
                out[display] = SourceProblem(
                    f"internal error while auditing: {type(exc).__name__}: {exc}"
                )
        return out


def _serve(conn: Connection, config: Config) -> None:  # pragma: no cover - runs in a child
    worker = _Worker(config)
    while True:
        message = conn.recv()
        if message[0] == "parse":
            conn.send(worker.parse(message[1]))
        elif message[0] == "walk":
            conn.send(worker.walk(message[1], message[2]))
        else:
            return


class _Pool:
    """A fixed set of workers; each file stays with the worker that parsed it."""

    def __init__(self, config: Config, jobs: int) -> None:
        self.local = _Worker(config) if jobs <= 1 else None
        self.owner: dict[str, int] = {}
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        if self.local is None:
            # fork shares the imported rules with the children at no cost
            ctx: Any = multiprocessing.get_context(
                "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            )
            for _ in range(jobs):
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=_serve, args=(child, config), daemon=True)
                proc.start()
                self.conns.append(parent)
                self.procs.append(proc)

    def parse(self, items: list[tuple[str, str]]) -> list[tuple[str, FileFacts | SourceProblem]]:
        if self.local is not None:
            return self.local.parse(items)
        shards: list[list[tuple[str, str]]] = [[] for _ in self.conns]
        loads = [0] * len(self.conns)
        for item in sorted(items, key=lambda i: -len(i[1])):
            slot = loads.index(min(loads))
            shards[slot].append(item)
            loads[slot] += len(item[1]) + 1000
            self.owner[item[0]] = slot
        for conn, shard in zip(self.conns, shards, strict=True):
            conn.send(("parse", shard))
        return [result for conn in self.conns for result in conn.recv()]

    def walk(self, index: ProjectIndex, displays: list[str]) -> dict[str, Any]:
        if self.local is not None:
            return self.local.walk(index, displays)
        for slot, conn in enumerate(self.conns):
            conn.send(("walk", index, [d for d in displays if self.owner.get(d) == slot]))
        out: dict[str, Any] = {}
        for conn in self.conns:
            out.update(conn.recv())
        return out

    def close(self) -> None:
        for conn in self.conns:
            conn.send(("stop",))
        for proc in self.procs:
            proc.join(timeout=5)


# --- discovery -------------------------------------------------------------------------


def discover(
    paths: Sequence[str], config: Config
) -> tuple[list[tuple[Path, str]], list[ParseError]]:
    """Python files under ``paths``, with display paths as given; missing paths are errors."""
    found: dict[str, tuple[Path, str]] = {}
    errors: list[ParseError] = []
    for raw in paths:
        path = Path(raw)
        display_root = raw.rstrip("/\\") or raw
        if not path.exists() and not path.is_symlink():
            errors.append(ParseError(raw, 1, "does not exist"))
            continue
        if not path.is_dir():
            if not config.excluded(display_root):
                found.setdefault(display_root, (path, display_root))
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            rel_folder = os.path.relpath(folder, path)
            for name in sorted(files + [d for d in dirs if d.endswith(".py")]):
                if not name.endswith(".py"):
                    continue
                display = os.path.normpath(os.path.join(display_root, rel_folder, name))
                full = Path(folder) / name
                if full.is_dir():
                    continue  # a folder named x.py: its files are walked like any folder's
                if config.excluded(display):
                    continue
                found.setdefault(display, (full, display))
    return sorted(found.values(), key=lambda pair: pair[1]), errors


# --- the run ---------------------------------------------------------------------------


def _defined_names(text: str) -> set[str]:
    names = {a or b for a, b in _DEFINES.findall(text)}
    for block in _IMPORTS.findall(text):
        names.update(_WORD.findall(block))
    return names


def _linked_names(facts: FileFacts) -> tuple[set[str], set[str]]:
    """(names this file defines, names it refers to), last components, dunders left out."""

    def last(name: str) -> str:
        return name.rsplit(".", 1)[-1]

    defined = {last(q) for q in [*facts.functions, *facts.classes]}
    referred: set[str] = set()
    for values in [*facts.calls.values(), *facts.classes.values(), *facts.orm_refs.values()]:
        referred.update(last(v) for v in values)
    referred.update(last(v) for v in facts.imports.values())
    referred.update(last(k) for k in facts.entries)
    dunder = {n for n in defined | referred if n.startswith("__") and n.endswith("__")}
    return defined - dunder, referred - dunder - {"<script>", "<module>", "<lambda>"}


def audit_paths(
    paths: Sequence[str],
    config: Config | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> AuditResult:
    """Audit every Python file under ``paths``."""
    config = config or Config()
    started = time.perf_counter()
    files, errors = discover(paths, config)
    findings: list[Finding] = []
    stats = Stats(files=len(files))
    cache = (
        Cache(Path(config.cache_dir), __version__, config.fingerprint()) if config.cache else None
    )
    syntax_enabled = config.enabled("AG000")

    records: list[_File] = []
    for path, display in files:
        try:
            data = read_file(path)
            text = decode_source(data)
        except SourceProblem as problem:
            errors.append(ParseError(display, problem.line, problem.message))
            if syntax_enabled and not problem.unreadable:
                findings.append(syntax_finding(display, problem))
            continue
        key = hashlib.sha256(display.encode() + b"\0" + data).hexdigest()
        record = _File(path, display, text, key)
        stats.lines += text.count("\n") + (1 if text and not text.endswith("\n") else 0)
        if cache is not None:
            record.entry = cache.load(key)
        records.append(record)
    by_display = {r.display: r for r in records}

    jobs = config.jobs or os.cpu_count() or 1
    pool: _Pool | None = None
    done = 0

    def parse(batch: list[_File]) -> None:
        nonlocal pool, done
        if not batch:
            return
        if pool is None:
            pool = _Pool(config, jobs if len(batch) >= 40 * max(jobs, 1) else 1)
        step = 100 * max(jobs, 1)  # small enough for the progress display to move
        for start in range(0, len(batch), step):
            chunk = batch[start : start + step]
            for display, outcome in pool.parse([(r.display, r.text) for r in chunk]):
                record = by_display[display]
                record.parsed = True
                if isinstance(outcome, SourceProblem):
                    record.facts = None
                    record.findings = []
                    _problem(record, outcome, errors, findings, syntax_enabled)
                else:
                    record.facts = outcome
            done += len(chunk)
            if progress:
                progress(min(done, len(records)), len(records))

    try:
        # Cached facts stand in for parsing; problems recorded in the cache repeat.
        pending: list[_File] = []
        for record in records:
            entry = record.entry
            if entry is not None and entry.problem is not None:
                record.findings = []
                _problem(
                    record,
                    SourceProblem(entry.problem[1], entry.problem[0]),
                    errors,
                    findings,
                    syntax_enabled,
                )
            elif entry is not None and entry.facts is not None:
                record.facts = entry.facts
                stats.cached += 1
            elif entry is not None and entry.skipped:
                pending.append(record)
            else:
                pending.append(record)

        if config.skip:
            words = triggers(config)
            first = [r for r in pending if any(w in r.text for w in words)]
            rest = [r for r in pending if not any(w in r.text for w in words)]
            parse(first)
            rest_words = {id(r): set(_WORD.findall(r.text)) for r in rest}
            rest_defs = {id(r): _defined_names(r.text) for r in rest}
            known = [r for r in records if r.facts is not None]
            defined: set[str] = set()
            referred: set[str] = set()
            new = known
            while new and rest:
                for record in new:
                    if record.facts is not None:
                        d, ref = _linked_names(record.facts)
                        defined |= d
                        referred |= ref
                linked = [
                    r for r in rest
                    if rest_words[id(r)] & defined or rest_defs[id(r)] & referred
                ]  # fmt: skip
                rest = [
                    r
                    for r in rest
                    if not (rest_words[id(r)] & defined or rest_defs[id(r)] & referred)
                ]
                parse(linked)
                new = linked
            for record in rest:
                record.findings = []
                stats.skipped += 1
                _count_text(record.text, stats)
        else:
            parse(pending)

        index = ProjectIndex([r.facts for r in records if r.facts is not None], config)
        digest = index.digest()
        walk: list[_File] = []
        for record in records:
            if record.facts is None:
                continue
            if not record.parsed and record.entry is not None and record.entry.digest == digest:
                record.findings = list(record.entry.findings)
                record.run_contexts = list(record.entry.run_contexts)
            else:
                walk.append(record)
        parse([r for r in walk if not r.parsed])
        if walk:
            assert pool is not None
            for display, outcome in pool.walk(index, [r.display for r in walk]).items():
                record = by_display[display]
                if isinstance(outcome, SourceProblem):
                    record.findings = []
                    _problem(record, outcome, errors, findings, syntax_enabled)
                else:
                    record.findings, record.run_contexts = outcome
    finally:
        if pool is not None:
            pool.close()

    for record in records:
        if record.facts is not None:
            stats.parsed += 1
            _count_facts(record, stats)
        findings.extend(record.findings or ())
        if cache is not None and (record.parsed or record.entry is None):
            cache.store(
                record.key,
                CacheEntry(
                    facts=record.facts,
                    findings=tuple(record.findings or ()),
                    run_contexts=tuple(record.run_contexts),
                    digest=digest if record.facts is not None else "",
                    problem=_recorded_problem(record, errors),
                    skipped=record.facts is None and not record.parsed,
                ),
            )
    stats.parsed -= stats.cached
    stats.parse_errors = len(errors)
    return AuditResult(
        findings=sorted(set(findings)),
        files_scanned=len(files),
        parse_errors=sorted(errors, key=lambda e: (e.path, e.line)),
        duration_s=round(time.perf_counter() - started, 3),
        stats=stats,
    )


def _problem(
    record: _File,
    problem: SourceProblem,
    errors: list[ParseError],
    findings: list[Finding],
    syntax_enabled: bool,
) -> None:
    errors.append(ParseError(record.display, problem.line, problem.message))
    if syntax_enabled:
        lines = record.text.splitlines()
        findings.extend(unsuppressed([syntax_finding(record.display, problem, lines)], lines))


def _recorded_problem(record: _File, errors: list[ParseError]) -> tuple[int, str] | None:
    if record.facts is not None or not record.parsed:
        return None
    for error in errors:
        if error.path == record.display:
            return (error.line, error.message)
    return None  # pragma: no cover - every parse failure is recorded


def _count_text(text: str, stats: Stats) -> None:
    sync = len(_DEF_LINE.findall(text))
    stats.sync_functions += sync


def _count_facts(record: _File, stats: Stats) -> None:
    assert record.facts is not None
    n_async = sum(1 for is_async in record.facts.functions.values() if is_async)
    n_sync = len(record.facts.functions) - n_async
    stats.async_functions += n_async
    stats.sync_functions += n_sync
    if n_async and n_sync:
        stats.mixed_files += 1
    stats.asyncio_run_by_context.update(record.run_contexts)


__all__ = ["AuditResult", "ParseError", "Stats", "audit_paths", "audit_source", "discover"]
