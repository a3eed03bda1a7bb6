"""A run of the audit over a tree: :func:`audit_paths`.

The phases of :class:`AuditRun`, in order:

1. ``discover``: the Python files under the paths given (the *targets*, whose
   findings are reported) and every other Python file of their project (read only
   for what the targets need to know: models, coroutine functions, callers);
2. a whole result from the cache, when no file changed since a run over the same
   files (known from the file system alone, then from the files' contents);
3. ``load``: the workers read every file once, test its text for triggers and (without
   a cache) parse the files that hold one;
4. ``gather_facts``: facts for the files that can matter (``speed.skip``), from the
   cache or by parsing; the rest are skipped unread;
5. ``walk_until_stable``: walk the full files with every enabled rule, then replay
   their journals (``speed.journal``) on the index of every file read so far, read
   the unread modules an answer passed through, and walk again the files whose
   answers changed, until every answer stands;
6. ``finish``: statistics, the cache, the result.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from async_guard import __version__
from async_guard.audit.analysis.facts import FileFacts
from async_guard.audit.analysis.index import ProjectIndex
from async_guard.audit.analysis.source import SourceProblem
from async_guard.audit.config import Config
from async_guard.audit.discover import project_files, project_roots, source_roots
from async_guard.audit.finding import Finding
from async_guard.audit.results import AuditResult, ParseError, Stats
from async_guard.audit.rules import all_rules
from async_guard.audit.speed.cache import Cache, CacheEntry, sha256
from async_guard.audit.speed.journal import demanded, replay
from async_guard.audit.speed.pool.pool import WorkerPool
from async_guard.audit.speed.pool.worker import FileWorker, Walked
from async_guard.audit.speed.records import FileRecord
from async_guard.audit.speed.skip import Closure, Sensitivity
from async_guard.audit.speed.snapshot import Signature, Snapshot, Summary, signature
from async_guard.audit.speed.words import may_define
from async_guard.audit.suppress import unsuppressed
from async_guard.audit.walk import syntax_finding

Progress = Callable[[int, int], None]
#: Characters of text to walk again below which the run does it itself (see
#: ``walk``): parsing them here costs less than sending the index to the workers.
_WALK_HERE = 50_000


def audit_paths(
    paths: Sequence[str], config: Config | None = None, *, progress: Progress | None = None
) -> AuditResult:
    """Audit every Python file under ``paths``.

    The cyclic garbage collector is off for the run: the trees kept for the walk
    are millions of objects without cycles, and each full collection traversed
    them all (about 40% of a cold run). What the run allocates is freed by
    reference counting; the one cycle per walked file (a walker and its rules) is
    broken by ``walk_file``.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return AuditRun(paths, config or Config(), progress).run()
    finally:
        if collecting:
            gc.enable()


class AuditRun:
    def __init__(self, paths: Sequence[str], config: Config, progress: Progress | None) -> None:
        self.paths = list(paths)
        #: The projects the paths belong to (see ``discover.project_roots``).
        self.roots = project_roots(self.paths, config)
        # the run's own configuration: where the imports start
        config = replace(config, src=source_roots(self.roots, config))
        self.config = config
        self.progress = progress
        self.started = time.perf_counter()
        self.findings: list[Finding] = []
        self.errors: list[ParseError] = []
        self.excluded_roots: list[str] = []
        self.files: list[tuple[str, str, bool]] = []
        self.records: list[FileRecord] = []
        self.by_display: dict[str, FileRecord] = {}
        self.aliased: set[str] = set()
        self.stats = Stats()
        self.cache = (
            Cache(Path(config.cache_dir), __version__, config.fingerprint())
            if config.cache
            else None
        )
        self.syntax_enabled = config.enabled("AG000")
        jobs = config.jobs or os.cpu_count() or 1
        if threading.active_count() > 1:
            # Forking a process with other threads running copies the locks they hold
            # (a worker could wait forever on one; Python 3.12+ warns): inside a server
            # or a test run that started threads, the run stays in this process.
            jobs = 1
        self.jobs = jobs
        self.batch_size = 100 * max(jobs, 1)  # the progress display moves between batches
        self.settled: set[int] = set()
        self.pool: WorkerPool | None = None
        #: With a cache: each file's signature (None: cannot be looked at), the summaries
        #: kept from the last run (``speed.snapshot``), and this run's.
        self.signatures: dict[str, Signature | None] = {}
        self.snapshot = Snapshot(self.cache.folder) if self.cache is not None else None
        self.known: dict[str, Summary] = {}
        self.summaries: dict[str, Summary] = {}

    def run(self) -> AuditResult:
        self.files, self.errors = project_files(
            self.paths, self.roots, self.config, self.excluded_roots
        )
        self.stats.files = sum(target for _, _, target in self.files)
        if self.cache is not None:
            self.signatures = {path: signature(path) for path, _, _ in self.files}
        stat_key = self.stat_key()
        if self.cache is not None and stat_key is not None:
            previous = self.cache.load_run(stat_key)
            if previous is not None:
                return self.reused(previous)
        # The rules are imported before the workers start, so that they share them
        # (each would import them again, and this process later, for the report).
        all_rules()
        if self.snapshot is not None:
            self.known = self.snapshot.load()
        # Few files to read (a small tree, or a large one that changed little since its
        # summaries were taken) are read in this process: starting workers costs more.
        to_read = sum(self.recalled(path) is None for path, _, _ in self.files)
        self.pool = WorkerPool(self.config, 1 if to_read < 20 * self.jobs else self.jobs)
        try:
            parsed_at_load = self.load()
            if self.snapshot is not None and self.summaries != self.known:
                self.snapshot.store(self.summaries)
            run_key = ""
            if self.cache is not None:
                run_key = self.content_key()
                previous = self.cache.load_run(run_key)
                if previous is not None:
                    if stat_key is not None:
                        self.cache.store_run(previous, run_key, stat_key)  # touched, unchanged
                    return self.reused(previous)
            for display, outcome in parsed_at_load:
                self.take(display, outcome, True)
            self.gather_facts()
            self.walk_until_stable()
            self.pool.stop()  # joined once the result is written: they exit meanwhile
            result = self.finish()
            if self.cache is not None:
                self.cache.store_run(result, run_key, *([stat_key] if stat_key else []))
            return result
        finally:
            self.pool.close()

    # --- keys of a whole run ---------------------------------------------------------

    def stat_key(self) -> str | None:
        """What the file system says of every file, without reading one: inode, size,
        modification and change times (a write always moves the change time, which no
        tool sets back). None when a file cannot be looked at: its run reads it."""
        if self.cache is None:
            return None
        seen: list[tuple[str, Signature]] = []
        for path, display, _ in self.files:
            stat = self.signatures[path]
            if stat is None:
                return None
            seen.append((display, stat))
        return "stat-" + sha256(repr(self._run_identity(seen)).encode())

    def content_key(self) -> str:
        """What the files hold: a run over exactly these files and contents."""
        contents = [(r.display, r.key) for r in self.records]
        return sha256(repr(self._run_identity(contents)).encode())

    def _run_identity(self, files: object) -> tuple[object, ...]:
        # The paths given, and what the configuration left out of them, are part of a
        # run: two runs of wholly excluded paths have no file in common to tell them
        # apart, and each warns about its own paths.
        return (files, self.errors, self.findings, self.paths, self.roots, self.excluded_roots)

    def reused(self, previous: AuditResult) -> AuditResult:
        stats = replace(
            previous.stats, cached=previous.stats.parsed + previous.stats.cached, parsed=0
        )
        duration = round(time.perf_counter() - self.started, 3)
        return replace(previous, stats=stats, duration_s=duration)

    # --- reading -----------------------------------------------------------------------

    def load(self) -> list[tuple[str, FileFacts | SourceProblem]]:
        """Every file read by the workers; the facts of the files parsed as they were read."""
        assert self.pool is not None
        parsed: list[tuple[str, FileFacts | SourceProblem]] = []
        items = [
            (path, display, target, self.signatures.get(path), self.recalled(path))
            for path, display, target in self.files
        ]
        loaded_files = self.pool.load(items)
        for (path, display, target), loaded in zip(self.files, loaded_files, strict=True):
            summary = loaded.summary or self.recalled(path)
            if summary is not None:
                self.summaries[os.path.abspath(path)] = summary
            if loaded.problem is not None:
                problem = loaded.problem
                if target:
                    self.errors.append(ParseError(display, problem.line, problem.message))
                    if self.syntax_enabled and not problem.unreadable:
                        self.findings.append(syntax_finding(display, problem))
                continue
            record = FileRecord(path, display, loaded.text or "", loaded.key, loaded.module)
            record.fetched = loaded.text is not None
            record.alias, record.target = loaded.alias, target
            record.triggered = loaded.full
            record.full = loaded.full and target
            record.renames, record.defs = loaded.renames, loaded.defs
            self.aliased.update(loaded.aliases)
            if target:
                self.stats.lines += loaded.lines
            self.records.append(record)
            if loaded.facts is not None:
                parsed.append((display, loaded.facts))
        self.by_display = {r.display: r for r in self.records}
        return parsed

    def recalled(self, path: str) -> Summary | None:
        """The summary of a file unchanged since the last run took it, if any."""
        known = self.known.get(os.path.abspath(path)) if self.known else None
        if known is None or known.signature != self.signatures.get(path):
            return None
        return known

    def fetch(self, batch: Iterable[FileRecord]) -> None:
        """Bring the texts of ``batch`` that stayed with the workers."""
        assert self.pool is not None
        missing = [r.display for r in batch if not r.fetched]
        for display, text in self.pool.texts_of(missing).items() if missing else ():
            record = self.by_display[display]
            record.text, record.fetched = text, True

    def fail(self, record: FileRecord, problem: SourceProblem) -> None:
        """Report a file that cannot be audited (AG000 quotes its line: fetch its text);
        a file of the project that is not audited goes on without its facts."""
        if not record.target:
            return
        self.fetch([record])
        self.errors.append(ParseError(record.display, problem.line, problem.message))
        if self.syntax_enabled:
            lines = record.text.splitlines()
            finding = syntax_finding(record.display, problem, lines)
            self.findings.extend(unsuppressed([finding], lines))

    def entry(self, record: FileRecord) -> CacheEntry | None:
        """What the cache holds of this very text (looked up once, when first needed:
        most files of a project are never read for their facts)."""
        if self.cache is not None and not record.looked_up:
            record.looked_up = True
            record.entry = self.cache.load(record.key)
        return record.entry

    def settle(self, batch: Iterable[FileRecord]) -> None:
        """The progress display: these files need nothing more (read for facts only, or
        walked; a file walked again is not counted twice)."""
        before = len(self.settled)
        self.settled.update(id(r) for r in batch)
        if self.progress and len(self.settled) > before:
            self.progress(len(self.settled), len(self.records))

    # --- facts -------------------------------------------------------------------------

    def take(self, display: str, outcome: FileFacts | SourceProblem, kept: bool) -> None:
        record = self.by_display[display]
        record.parsed = True
        record.kept = kept
        if isinstance(outcome, SourceProblem):
            record.facts = None
            record.findings = []
            self.fail(record, outcome)
        else:
            record.facts = outcome

    def parse(self, batch: list[FileRecord], keep: bool) -> None:
        """Facts of ``batch``; with ``keep``, each tree stays with its worker for a walk."""
        assert self.pool is not None
        for start in range(0, len(batch), self.batch_size):
            chunk = batch[start : start + self.batch_size]
            self.fetch(chunk)
            kept = {r.display: r.target and (keep or r.full) for r in chunk}
            items = [(r.display, r.text, kept[r.display]) for r in chunk]
            for display, outcome in self.pool.parse(items):
                self.take(display, outcome, kept[display])
            for record in chunk:
                if not record.full and record.facts is not None:
                    # read for its facts only: its text is not needed again (fetched
                    # again if it is), and a large project's would weigh on memory
                    record.text, record.fetched = "", False
            self.settle(r for r in chunk if not r.full)

    def obtain(self, batch: list[FileRecord], keep: bool = False) -> None:
        """Facts for ``batch``: from the cache where it has them, else by parsing (with
        ``keep``, the tree of a file that may be walked stays with its worker)."""
        fresh: list[FileRecord] = []
        for record in batch:
            if record.parsed:
                continue  # as it was read
            entry = self.entry(record)
            if entry is not None and entry.problem is not None:
                record.findings = []
                self.fail(record, SourceProblem(entry.problem[1], entry.problem[0]))
            elif entry is not None and entry.facts is not None:
                record.facts = entry.facts
                self.stats.cached += 1
            else:
                fresh.append(record)
        self.parse(fresh, keep)

    def gather_facts(self) -> None:
        assert self.pool is not None
        if self.config.skip:
            Closure(self.records, self.pool, self.obtain, Sensitivity.of(self.config)).run()
            # the trees of the candidates the closure did not make full: never walked
            unwalked = [r for r in self.records if r.kept and not r.full]
            for record in unwalked:
                record.kept = False
            self.pool.forget([r.display for r in unwalked])
        else:
            self.obtain(self.records, keep=True)  # every file is full (see FileWorker.load)

    # --- the walk ----------------------------------------------------------------------

    def walk_until_stable(self) -> None:
        """Walk, then read what the answers passed through, until the answers stand: a
        file's findings are final once replaying its journal on the index of every file
        read gives the same answers and demands no unread module."""
        unread_by_module: dict[str, list[FileRecord]] = {}
        for record in self.records:
            if record.facts is None and record.findings is None:
                unread_by_module.setdefault(record.module_name(), []).append(record)
        walkable = [r for r in self.records if r.facts is not None and r.full]
        for record in walkable:
            entry = self.entry(record) if not record.parsed else None
            if entry is not None and entry.journal is not None:
                record.journal = entry.journal  # a walk of this very text, cached
                record.findings = list(entry.findings)
                record.run_contexts = list(entry.run_contexts)
        known: dict[tuple[str, str, bool], bool] = {}

        def undefined(module: str, name: str, classes: bool) -> bool:
            key = (module, name, classes)
            if key not in known:
                found = unread_by_module.get(module, ())
                self.fetch(found)
                known[key] = not any(may_define(r.text, name, classes=classes) for r in found)
            return known[key]

        def read(modules: set[str]) -> bool:
            """Read the unread files of ``modules``; True if any was read."""
            before = sum(r.facts is not None for r in self.records)
            self.obtain(
                [r for m in sorted(modules) for r in unread_by_module.get(m, ()) if r.facts is None]
            )
            return sum(r.facts is not None for r in self.records) != before

        aliased = frozenset(self.aliased)
        asking = walkable  # the journals that may still lead to an unread module
        while True:
            pending = {
                module
                for module, found in unread_by_module.items()
                if any(r.facts is None and r.findings is None for r in found)
            }
            read_facts = [r.facts for r in self.records if r.facts is not None]
            index = ProjectIndex(read_facts, self.config, pending if self.config.skip else ())
            again: list[FileRecord] = []
            missing: set[str] = set()
            for record in asking:
                if record.journal is None:
                    continue
                if record.walk_misses is not None and record.walked_with == len(read_facts):
                    # walked on an index of these very facts: its walk's misses are what
                    # replaying its journal here would find
                    found = demanded(record.walk_misses, undefined)
                else:
                    found = demanded(replay(index, record.journal, aliased)[1], undefined)
                if found:
                    again.append(record)
                    missing |= found
            if missing and read(missing):
                asking = again  # a question without a miss passed through read modules only
                continue
            stale: list[FileRecord] = []
            for record in walkable:
                if record.journal is None:
                    stale.append(record)
                    continue
                same, misses = replay(index, record.journal, aliased)
                missing |= demanded(misses, undefined)
                if not same:
                    stale.append(record)
            if missing and read(missing):
                asking = walkable  # never seen; ask every journal again, to be sure
                continue
            if not stale:
                return
            self.walk(stale, index, aliased, len(read_facts))
            asking = stale

    def walk(
        self, stale: list[FileRecord], index: ProjectIndex, aliased: frozenset[str], size: int
    ) -> None:
        assert self.pool is not None
        outcomes: dict[str, Walked | SourceProblem] = {}
        # A file read for its facts only let its text go, and became one to walk when
        # the skip promoted it: bring the texts back before weighing or walking them.
        # (In this process a kept tree is walked as it is: only the others need text.)
        self.fetch(stale if self.pool.local is None else [r for r in stale if not r.kept])
        if self.pool.local is None and sum(len(r.text) for r in stale) <= _WALK_HERE:
            # A few small files walked again (an answer changed after a read): here,
            # rather than sending the whole index to every worker for them.
            here = FileWorker(self.config)
            here.use(index, aliased)
            outcomes = here.walk_texts([(r.display, r.text, r.triggered) for r in stale])
            self.settle(stale)
        else:
            # a tree that was let go is parsed again where the file is walked (its facts
            # are known: the parse is for the walk alone)
            for start in range(0, len(stale), self.batch_size):
                batch = stale[start : start + self.batch_size]
                items = [(r.display, r.text, r.triggered) for r in batch]
                kept = {r.display for r in batch if r.kept}
                outcomes.update(self.pool.walk(index, aliased, items, kept))
                self.settle(batch)
        for display, outcome in outcomes.items():
            record = self.by_display[display]
            record.kept = False  # the worker let its tree go
            if isinstance(outcome, SourceProblem):
                record.findings = []
                record.journal = {}  # not walked again in this run ...
                record.walk_failed = True  # ... nor trusted from the cache in the next
                self.fail(record, outcome)
            else:
                record.findings = outcome.walk.findings
                record.run_contexts = outcome.walk.run_contexts
                record.journal, record.walk_misses = outcome.journal, outcome.misses
                record.walked_with = size

    # --- the result --------------------------------------------------------------------

    def finish(self) -> AuditResult:
        stats = self.stats
        for record in self.records:
            if record.facts is None and record.findings is None:
                record.findings = []
                stats.skipped += 1
                if record.target:
                    stats.sync_functions += record.defs
            elif record.facts is not None and not record.full:
                record.findings = []  # read for its facts only: it holds no trigger
        for record in self.records:
            if record.facts is not None:
                stats.parsed += 1
                if record.target:
                    stats.count(record.facts.functions, record.run_contexts)
            if record.target:
                self.findings.extend(record.findings or ())
            if self.cache is not None and (record.parsed or record.walked_with >= 0):
                self.cache.store(record.key, self.cache_entry(record))
        stats.parsed -= stats.cached
        stats.parse_errors = len(self.errors)
        return AuditResult(
            findings=sorted(set(self.findings)),
            files_scanned=stats.files,
            parse_errors=sorted(self.errors, key=lambda e: (e.path, e.line)),
            duration_s=round(time.perf_counter() - self.started, 3),
            stats=stats,
            excluded_roots=self.excluded_roots,
        )

    def cache_entry(self, record: FileRecord) -> CacheEntry:
        problem = None
        if record.facts is None and record.parsed:
            problem = next(
                ((e.line, e.message) for e in self.errors if e.path == record.display), None
            )
        return CacheEntry(
            facts=record.facts,
            findings=tuple(record.findings or ()),
            run_contexts=tuple(record.run_contexts),
            journal=None if record.facts is None or record.walk_failed else record.journal,
            problem=problem,
        )
