"""Files -> parse (parallel, once) -> project index -> one walk per file -> findings.

``audit_paths`` shares the files out among worker processes (``_Pool``), which
read each once and test its text; it takes what it can from the per-file cache,
has the workers parse the rest (each keeps its trees until the walk, so no file
is parsed twice; without a cache a triggered file is parsed as it is read),
merges the facts into the :class:`~async_guard.audit.index.ProjectIndex`, then
walks each file once with every enabled rule. The words of the files without a
trigger stay in the worker that read them: the skip below asks the workers
which files mention a name.

Skipping without parsing: a file is parsed only if its text contains a trigger
of an enabled rule (or of ``INDEX_TRIGGERS``), or if it is *linked* to a parsed
file:

* it mentions, as a word, a context-sensitive function or class of an audited
  file (under any name an import gives it): it may call it from an entry point
  (the callee's context) or subclass it; it is audited too when a name it refers
  to resolves to one (``_closure``);
* an answer of the index that an audited file's walk was given passed through
  its module (a model's base class, a re-export, a called helper): the walk
  journals its questions, the engine replays them, reads those modules and walks
  again the files whose answers changed (see ``ProjectIndex``). The ``.objects``
  receivers and class bases of audited files are read before the first walk,
  since most answers pass through them.

A file outside both links can neither produce a finding (it holds no trigger)
nor change another file's. ``Config(skip=False)`` turns skipping off (the
skip-safety test compares both).
"""

from __future__ import annotations

import bisect
import gc
import os
import re
import select
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from async_guard import __version__
from async_guard.audit import processes
from async_guard.audit.cache import Cache, CacheEntry
from async_guard.audit.config import Config
from async_guard.audit.context import Walker
from async_guard.audit.finding import Finding
from async_guard.audit.index import (
    ASYNC_ORM_METHODS,
    FileFacts,
    Journal,
    ProjectIndex,
    collect_facts,
)
from async_guard.audit.rules import Rule, all_rules
from async_guard.audit.source import (
    SourceFile,
    SourceProblem,
    decode_source,
    module_name,
    read_file,
)
from async_guard.audit.suppress import unsuppressed

#: What the index itself needs to see in a file: ``async def`` (coroutine functions),
#: the bridges (``bridges`` facts: asyncio.run, loops, async_to_sync, run_async),
#: ``sync_to_async`` and the async ORM's methods (``reaches_async_orm``).
INDEX_TRIGGERS = (
    "async", "asyncio", "async_to_sync", "AsyncToSync", "run_async", "run_until_complete",
    "get_event_loop", "new_event_loop", "sync_to_async", "SyncToAsync", *sorted(ASYNC_ORM_METHODS),
)  # fmt: skip
SKIP_DIRS = frozenset(
    {"__pycache__", "node_modules", "site-packages", "venv", ".venv", ".git", ".hg", ".tox",
     ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".async_guard_cache", "build", "dist"}
)  # fmt: skip
_SCREEN = ("sync", "run_", "thread")
#: Characters of text to walk again below which the engine does it itself (see the loop
#: in ``_audit_paths``): parsing them here costs less than sending the index out.
_WALK_HERE = 50_000
#: A name after ``as`` (an import's rename, or ``except``/``with``: a superset), across
#: blanks and backslash-continued lines; UTF-8 bytes count as name characters.
_ALIAS = re.compile(rb"as(?:[ \t\f]|\\\r?\n)+([A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)")
#: ``bytes.translate`` table: every ASCII byte that no name holds becomes a space, so
#: ``split()`` gives a text's words (non-ASCII bytes stay: UTF-8 names stay whole).
#: Three times faster than a regex's ``findall`` over a large tree.
_WORD_BYTES = bytes(
    c if c >= 128 or chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(256)
)
# ``as`` between blanks; the blank before is checked by hand (a leading ``\s`` would make
# ``re`` try every position of the text: seven times slower)
_AS = re.compile(r"as\s")
_IMPORT = re.compile("import")
# Patterns that start with a literal (``re`` finds it fast; a leading ``\b`` would
# make it try every position): each is a superset of what it stands for.
_STAR_IMPORT = re.compile(r"import\s*\*")
_CLAUSES = ("except ", "except(", "with ", "with(", "async with ")
_NAME_AFTER = re.compile(r"\s*([A-Za-z_]\w*)")


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
    #: Paths given whose every Python file the configured ``exclude`` left out.
    excluded_roots: list[str] = field(default_factory=list)


@dataclass
class _File:
    path: str
    display: str
    text: str
    key: str
    module: str | None = None
    facts: FileFacts | None = None
    entry: CacheEntry | None = None
    findings: list[Finding] | None = None
    run_contexts: list[str] = field(default_factory=list)
    #: The questions its walk asked the index, and their answers (None: not walked).
    journal: Journal | None = None
    walk_failed: bool = False
    parsed: bool = False
    #: Walked by the rules: it holds a trigger, or may call into a file that does.
    full: bool = False
    #: Its tree waits in a worker for the walk (trees of files read for facts do not).
    kept: bool = False
    #: Its ``name as alias`` pairs, when a worker read them with the file (full files).
    renames: list[tuple[str, str]] = field(default_factory=list)
    #: Its ``def`` lines (counted by the worker that read it; see ``count_defs``).
    defs: int = 0
    #: False while ``text`` stays with the worker that read it (see ``_Loaded.text``).
    fetched: bool = True
    #: The misses of its last walk (``ProjectIndex.misses``), and how many files' facts
    #: the index it was walked on held (no file is read twice, so the count tells
    #: whether the index is still the same).
    walk_misses: set[tuple[str, str, str]] | None = None
    walked_with: int = -1

    def module_name(self) -> str:
        """The dotted module name its path gives (looked up on disk once)."""
        if self.module is None:
            self.module = module_name(self.display)[0]
        return self.module


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


#: Trigger words that count only where the code can mean what the rules look for.
#: ``async`` matters as ``async def`` alone: ``async with``, ``async for``, ``await``
#: and async comprehensions are syntax errors outside one, so prose ("the async
#: pool") triggers nothing. The rules see asyncio's functions only through
#: ``SourceFile.resolve``, which names ``asyncio.*`` only when the file imports
#: the standard library's ``asyncio`` (``import asyncio``, ``from asyncio[.x]
#: import ...``: the word never follows a dot there) or itself lies in a package
#: called ``asyncio`` (the engine tests that by module name); ``django.utils.asyncio``
#: and kombu's own ``get_event_loop`` are other modules.
_ASYNC_DEF = r"async(?:[ \t\f]|\\\r?\n)+def(?!\w)"
_STDLIB_ASYNCIO = r"asyncio(?!\w)"
REFINED_TRIGGERS = {
    "async": _ASYNC_DEF,
    "asyncio": _STDLIB_ASYNCIO,
    "get_event_loop": _STDLIB_ASYNCIO,
    "new_event_loop": _STDLIB_ASYNCIO,
}


class TriggerTest:
    """Does a text hold one of ``words``? Each is a substring, except

    * the async ORM's method names, which matter only as attributes (every rule reads
      them as ``func.attr``): after a dot, and whatever the tokenizer allows between
      (blanks, line breaks, a backslash, a comment); ``target`` or ``x.aget_many``
      are no call of ``aget``;
    * the words of ``REFINED_TRIGGERS``, which count only where a pattern says the
      code can mean them (``async def``; the standard library's ``asyncio``).

    Every pattern starts with a literal, which ``re`` finds fast (a leading lookbehind
    would make it try every position); the character before a refined word is checked
    by hand.
    """

    def __init__(self, words: Iterable[str]) -> None:
        unique = sorted(set(words))
        methods = sorted((w for w in unique if w in ASYNC_ORM_METHODS), key=len, reverse=True)
        refined = sorted({REFINED_TRIGGERS[w] for w in unique if w in REFINED_TRIGGERS})
        self.substrings = tuple(
            w for w in unique if w not in ASYNC_ORM_METHODS and w not in REFINED_TRIGGERS
        )
        self.attribute = (
            # one way only to match what lies between (no backtracking on ``#`` runs)
            re.compile(
                r"\.[ \t\f\r\n\\]*(?:#[^\n]*\n[ \t\f\r\n\\]*)*(?:" + "|".join(methods) + r")(?!\w)"
            )
            if methods
            else None
        )
        self.refined = tuple(re.compile(pattern) for pattern in refined)
        # Most files hold none of the substrings: a few short ones that every built-in
        # substring contains settle that in one pass each (``sync`` is in ``Async``).
        screen = tuple(w for w in _SCREEN if any(w in s for s in self.substrings))
        covered = all(any(w in s for w in screen) for s in self.substrings)
        self.screen = screen if covered and len(screen) < len(self.substrings) else None

    def search(self, text: str) -> bool:
        screened = self.screen is None or any(word in text for word in self.screen)
        if screened and any(word in text for word in self.substrings):
            return True
        if any(_token_at(text, pattern) for pattern in self.refined):
            return True
        return self.attribute is not None and self.attribute.search(text) is not None


def _token_at(text: str, pattern: re.Pattern[str]) -> bool:
    """``pattern`` matches where a token starts: not glued to a name or a dot before it
    (a digit starts no name: ``1async`` is still the keyword)."""
    for match in pattern.finditer(text):
        start = match.start()
        before = text[start - 1] if start else " "
        if (before.isdigit() or not before.isidentifier()) and before != ".":
            return True
    return False


def syntax_finding(path: str, problem: SourceProblem, lines: Sequence[str] = ()) -> Finding:
    text = lines[problem.line - 1].strip() if 0 < problem.line <= len(lines) else ""
    return Finding(
        path=path, line=problem.line, col=problem.col, code="AG000", end_line=problem.line,
        end_col=problem.col, name="syntax-error", severity="error", message=problem.message,
        hint="Fix the file (or exclude it); the rest of the tree is still audited.",
        context="module", source_line=text,
    )  # fmt: skip


Walked = tuple[list[Finding], list[str], Journal, set[tuple[str, str, str]]]


def walk_file(sf: SourceFile, index: ProjectIndex, config: Config) -> Walked:
    """Every enabled rule over one parsed file: its findings, its asyncio.run contexts,
    the journal of the questions it asked the index and the misses of their answers
    (``ProjectIndex.misses``)."""
    rules = [rule for rule in enabled_rules(config) if not config.ignored_in(sf.path, rule.code)]
    runs = _RunCounter()
    walker = Walker(sf, [], index, config.task_decorators)
    instances = [rule(sf, index, walker) for rule in rules]
    walker.add_visitors([*instances, runs])
    journal: Journal = {}
    saved, index.journal = index.journal, journal
    index.misses = set()
    try:
        walker.run()
    finally:
        index.journal = saved
        walker.close()
    findings = [f for rule in instances for f in rule.findings]
    return sorted(set(unsuppressed(findings, sf.lines))), runs.contexts, journal, index.misses


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


@dataclass
class _Loaded:
    """One file as a worker read it (``problem`` set when it could not be read)."""

    display: str
    #: None for a file without a trigger read by a child worker: it stays there until
    #: the engine asks for it (``_Pool.texts_of``), which it seldom does.
    text: str | None = ""
    key: str = ""
    module: str = ""
    lines: int = 0
    #: Walked by the rules: its text holds a trigger (or skipping is off).
    full: bool = False
    #: Its ``name as alias`` pairs (a full file's; the others' come when asked for).
    renames: list[tuple[str, str]] = field(default_factory=list)
    #: A full file's facts (or why it does not parse), when it was parsed as it was read.
    facts: FileFacts | SourceProblem | None = None
    #: The ``def`` lines of a file without a trigger (``--stats`` counts them if skipped).
    defs: int = 0
    #: The names that follow an ``as`` (``ProjectIndex.aliased``).
    aliases: frozenset[str] = frozenset()
    problem: SourceProblem | None = None


class _Worker:
    """Reads files, answers the text questions about them, parses them and keeps their
    trees until the walk (in-process, or in a child process).

    The words of a file that holds no trigger stay with the worker that read it: the
    skip asks which files mention a sensitive name, and sending every file's words to
    the main process would cost as much as collecting them."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.trees: dict[str, SourceFile] = {}
        self.texts: dict[str, str] = {}
        self.words: dict[str, frozenset[bytes]] = {}
        self.modules: dict[str, str] = {}
        self.renamed: set[str] = set()
        # chosen by ``select`` as candidates, or as partial files
        self.candidates: set[str] = set()
        self.partial: set[str] = set()
        self.asked: tuple[set[bytes], dict[bytes, set[bytes]]] | None = None

    def load(self, items: list[tuple[str, str]], hashing: bool, ship: bool) -> list[_Loaded]:
        """Read, decode and test each file. With ``hashing`` (a cache), its key is its
        content hash, and a full file waits for the engine to ask for its facts (the
        cache may have them); without, hashing every byte buys nothing, and a full
        file is parsed at once (and its tree kept for the walk)."""
        hits = TriggerTest(triggers(self.config)) if self.config.skip else None
        out: list[_Loaded] = []
        for path, display in items:
            try:
                data = read_file(path)
                text = decode_source(data)
            except SourceProblem as problem:
                out.append(_Loaded(display, problem=problem))
                continue
            key = _sha256(display.encode() + b"\0" + data) if hashing else display
            module = module_name(display)[0]
            # A module of a package named ``asyncio`` resolves its relative imports and
            # its own names to ``asyncio.*`` without writing the word (REFINED_TRIGGERS).
            full = hits is None or hits.search(text) or module.split(".")[0] == "asyncio"
            lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
            loaded = _Loaded(display, text, key, module, lines, full)
            loaded.aliases = _alias_names(data)
            self.texts[display] = text
            self.modules[display] = module
            if full:
                loaded.renames = _aliases(text)
                if not hashing:
                    loaded.facts = self.parse([(display, text, True)])[0][1]
            else:
                self.words[display] = _words(text)
                loaded.defs = count_defs(text)
                if not ship:
                    loaded.text = None
            out.append(loaded)
        return out

    def texts_of(self, displays: list[str]) -> dict[str, str]:
        return {display: self.texts[display] for display in displays}

    def select(
        self, functions: set[bytes], methods: dict[bytes, set[bytes]], modules: set[str | None]
    ) -> tuple[list[str], list[str]]:
        """The files not chosen yet that mention a sensitive function or a class with a
        sensitive method (candidates), and the unread ones of ``modules`` (partial).
        Files with a trigger have no words here: they are read already."""
        candidates: list[str] = []
        partial: list[str] = []
        # the same names as last time find no new candidate (the rounds often repeat them)
        same = (functions, methods) == self.asked
        self.asked = (functions, methods)
        for display, words in self.words.items():
            if display in self.candidates:
                continue
            if not same and (
                words & functions or any(methods[m] & words for m in words & methods.keys())
            ):
                self.candidates.add(display)
                candidates.append(display)
            elif display not in self.partial and self.modules[display] in modules:
                self.partial.add(display)
                partial.append(display)
        return candidates, partial

    def renames(self, sensitive: set[bytes]) -> list[tuple[str, str]]:
        """The renames of every file not asked yet that mentions a ``sensitive`` word (the
        renames of a file that names none cannot rename a sensitive name)."""
        out: list[tuple[str, str]] = []
        for display, words in self.words.items():
            if display not in self.renamed and words & sensitive:
                self.renamed.add(display)
                out.extend(_aliases(self.texts[display]))
        return out

    def parse(
        self, items: list[tuple[str, str, bool]]
    ) -> list[tuple[str, FileFacts | SourceProblem]]:
        """Facts of each file; the tree is kept for the walk only when ``keep`` says so."""
        out: list[tuple[str, FileFacts | SourceProblem]] = []
        for display, text, keep in items:
            try:
                sf = SourceFile.from_text(text, display)
                facts = collect_facts(sf, self.config)
            except SourceProblem as problem:
                out.append((display, problem))
                continue
            except RecursionError:
                out.append((display, SourceProblem("too deeply nested to audit (recursion limit)")))
                continue
            if keep:
                self.trees[display] = sf
            out.append((display, facts))
        return out

    def walk_texts(
        self, index: ProjectIndex, items: list[tuple[str, str]]
    ) -> dict[str, Walked | SourceProblem]:
        """Parse and walk files whose trees another worker kept (see ``_Pool.walk``)."""
        self.parse([(display, text, True) for display, text in items])
        return self.walk(index, [display for display, _ in items])

    def walk(
        self, index: ProjectIndex, displays: Iterable[str]
    ) -> dict[str, Walked | SourceProblem]:
        out: dict[str, Walked | SourceProblem] = {}
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


def _serve(conn: processes.Channel, config: Config) -> None:  # pragma: no cover - runs in a child
    gc.disable()  # see audit_paths: a spawned child does not inherit the parent's switch
    worker = _Worker(config)
    index = ProjectIndex()
    while True:
        message = conn.recv()
        if message[0] == "index":
            index = message[1]
        elif message[0] == "walk":
            conn.send(worker.walk(index, message[1]))
        elif message[0] == "walk_texts":
            conn.send(worker.walk_texts(index, message[1]))
        elif message[0] in ("load", "select", "renames", "parse", "texts_of"):
            conn.send(getattr(worker, message[0])(*message[1:]))
        else:
            return


class _Pool:
    """A fixed set of workers. Each file's text and words stay with the worker that read
    it, and its tree with the worker that parsed it."""

    def __init__(self, config: Config, jobs: int) -> None:
        self.local = _Worker(config) if jobs <= 1 else None
        self.sent: ProjectIndex | None = None
        self.owner: dict[str, int] = {}  # display -> the worker that keeps its tree
        self.reader: dict[str, int] = {}  # display -> the worker that keeps its words
        self.conns: list[processes.Channel] = []
        self.procs: list[processes.Worker] = []
        if self.local is None:
            for _ in range(jobs):
                worker = processes.start(_serve, config)
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

    def load(self, files: Sequence[tuple[str, str]], hashing: bool) -> list[_Loaded]:
        """Every file read, in the order given."""
        items = list(files)
        if self.local is not None:
            return self.local.load(items, hashing, True)
        size = max(4, len(items) // (len(self.conns) * 24))
        chunks = [items[start : start + size] for start in range(0, len(items), size)]
        out: list[_Loaded] = []
        # the texts of the files without a trigger stay with the workers (shipping them
        # all cost the engine more than the few it later needs)
        for slot, answer in self._share("load", chunks, hashing, False, ahead=2):
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
        self, index: ProjectIndex, displays: list[str], texts: Mapping[str, str]
    ) -> dict[str, Any]:
        """Walk ``displays``, each where its tree is, one file at a time, largest first.

        What a walk costs follows neither a file's size nor its parse (an async def
        with ORM work costs far more than a sync one), so a worker that has walked
        its own files takes the smallest of another's and parses it again (less than
        leaving one worker walking alone: the parse of a file costs about what its
        walk does)."""
        if self.local is not None:
            return self.local.walk(index, displays)
        if index is not self.sent:  # each index crosses to the workers once, not per batch
            processes.broadcast(self.conns, ("index", index))
            self.sent = index
        slots = range(len(self.conns))
        queues = [
            deque(
                sorted(
                    (d for d in displays if self.owner.get(d) == slot),
                    key=lambda d: -len(texts[d]),
                )
            )
            for slot in slots
        ]
        homeless = [d for d in displays if self.owner.get(d) not in slots]
        out: dict[str, Any] = {}

        def next_request(slot: int, flying: int) -> tuple[Any, ...] | None:
            if queues[slot]:
                return ("walk", [queues[slot].popleft()])
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
            return ("walk_texts", [(display, texts[display])])

        self._dispatch(next_request, lambda slot, answer: out.update(answer))
        return out

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


# --- discovery -------------------------------------------------------------------------


def discover(
    paths: Sequence[str], config: Config, excluded_roots: list[str] | None = None
) -> tuple[list[tuple[str, str]], list[ParseError]]:
    """Python files under ``paths``, with display paths as given; missing paths are errors.

    A path given whose every Python file the configured ``exclude`` leaves out is
    appended to ``excluded_roots`` (asking for it by name does not override the
    configuration, as with ruff; the user is told rather than shown "0 files").
    """
    found: dict[str, tuple[str, str]] = {}
    errors: list[ParseError] = []
    for raw in paths:
        path = Path(raw)
        display_root = raw.rstrip("/\\") or raw
        if not path.exists() and not path.is_symlink():
            errors.append(ParseError(raw, 1, "does not exist"))
            continue
        if not path.is_dir():
            if not config.excluded(display_root):
                found.setdefault(display_root, (raw, display_root))
            elif excluded_roots is not None:
                excluded_roots.append(raw)
            continue
        kept = left_out = 0
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            rel_folder = os.path.relpath(folder, path)
            # os.walk sorted folders (a folder named x.py too: its files are walked like
            # any folder's) from the rest without another stat
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                display = os.path.normpath(os.path.join(display_root, rel_folder, name))
                if config.excluded(display):
                    left_out += 1
                    continue
                kept += 1
                # os.path, not pathlib: this runs for every file of the tree
                found.setdefault(display, (os.path.join(folder, name), display))
        if left_out and not kept and excluded_roots is not None:
            excluded_roots.append(raw)
    return sorted(found.values(), key=lambda pair: pair[1]), errors


# --- the run ---------------------------------------------------------------------------


def _context_sensitive_names(
    facts: FileFacts, known_functions: set[str], known_methods: set[str]
) -> tuple[set[str], set[tuple[str, str]]]:
    """What another file must mention to call code whose findings depend on its callers.

    A function is sensitive when it is a coroutine function (a caller may not await
    it), bridges into async code (AG101 and AG103 depend on who calls it) or calls a
    sensitive name. A module-level function is called by its name; a method through
    its class (``Cls.m()``, or ``self.m()`` in a subclass, which names ``Cls`` as a
    base): the caller's text holds both names. Returns (function names, (class,
    method) pairs).
    """
    prefix = facts.module + "."
    functions: set[str] = set()
    methods: set[tuple[str, str]] = set()
    names = set(known_functions)  # sensitive functions so far, here and elsewhere
    pairs = set(known_methods)  # sensitive "Cls.method"s so far

    def hot(function: str) -> bool:
        return (
            (facts.functions[function] and function not in facts.not_coroutines)
            or function in facts.bridges  # AG101 and AG103 depend on who calls it
            or any(  # a caller may forget to await it (AG301), or reach a bridge
                c.rsplit(".", 1)[-1] in names or ".".join(c.split(".")[-2:]) in pairs
                for c in facts.calls.get(function, ())
            )
        )

    changed = True
    while changed:
        changed = False
        for function in facts.functions:
            if not function.startswith(prefix):
                continue
            path = function[len(prefix) :].split(".")
            key: tuple[str, str] | str = path[0] if len(path) == 1 else (path[0], path[-1])
            if key in functions or key in methods:
                continue
            if hot(function):
                if isinstance(key, str):
                    functions.add(key)
                    names.add(key)
                else:
                    methods.add(key)
                    pairs.add(f"{path[-2]}.{path[-1]}")
                changed = True
    # A function defined in another function's body cannot be named from another file:
    # it made the functions that call it sensitive (above), and is no word to look for.
    referable = {
        (function[len(prefix) :].split(".")[0], function.rsplit(".", 1)[-1])
        for function in facts.functions
        if function.startswith(prefix)
        and function.count(".") > prefix.count(".")
        and function.rsplit(".", 1)[0] not in facts.functions
        and hot(function)
    }
    return functions, methods & referable


def _aliases(text: str) -> list[tuple[str, str]]:
    """Every ``name as alias`` of ``text`` that an import statement may hold (a superset:
    an import written in a comment or a string counts too).

    Only imports rename what a module re-exports; the ``as`` of ``except``, ``with``
    and prose ("the Worker as a whole") named no function or class, and made every
    file that mentions ``a`` or ``e`` look as if it named one. Found from each ``as``
    outwards: a regex that starts with a name would try every position of the text,
    five times slower on a large tree.
    """
    pairs: list[tuple[str, str]] = []
    imports: list[int] | None = None
    if "import" not in text:
        return pairs
    for match in _AS.finditer(text):
        at = match.start() - 1  # the blank before ``as``
        if at < 0 or not text[at].isspace():
            continue
        line = text[text.rfind("\n", 0, at) + 1 : at].lstrip()
        if line.startswith(_CLAUSES):
            continue  # ``except E as e``, ``with f() as g``: a hard keyword starts no import
        if imports is None:
            imports = [m.start() for m in _IMPORT.finditer(text)]
        if not _in_import(text, at, imports):
            continue
        end = at
        while end > 0 and text[end - 1].isspace():
            end -= 1
        start = end
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        alias = _NAME_AFTER.match(text, match.end() - 1)
        if start < end and not text[start].isdigit() and alias is not None:
            pairs.append((text[start:end], alias.group(1)))
    return pairs


def _in_import(text: str, at: int, imports: list[int]) -> bool:
    """``at`` may lie in an import statement: after ``import`` (``imports`` holds where
    the word stands) on its logical line, a physical line or one continued by an open
    parenthesis or a backslash. Each test stops at the first character that settles it:
    an ``except ... as`` deep in a long file must not rescan the file."""
    i = bisect.bisect_right(imports, at) - 1
    if i < 0:
        return False
    start = imports[i]
    newline = text.find("\n", start, at)
    if newline < 0:
        return True
    opened = text.find("(", start, at)
    if 0 <= opened < newline and text.find(")", opened, at) < 0:
        return True
    while newline >= 0:  # every line break on the way continued by a backslash
        if text[newline - 1] != "\\":
            return False
        newline = text.find("\n", newline + 1, at)
    return True


def may_define(text: str, name: str, *, classes: bool = True) -> bool:
    """``text`` may import something as ``name``, or import ``*``, or (with ``classes``)
    define a class ``name`` (a superset: comments and strings count too)."""
    if _STAR_IMPORT.search(text):
        return True  # anything public may come from the other module
    if name not in text:
        return False
    word = re.escape(name)
    if classes and re.search(r"class[\s\\]+" + word + r"(?!\w)", text):
        return True
    imports = [m.start() for m in _IMPORT.finditer(text)]
    return any(
        _in_import(text, m.start(), imports)
        for m in re.finditer(word + r"(?!\w)", text)
        if not (m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_"))
    )


def _module_prefix(name: str, modules: set[str]) -> str | None:
    """The longest prefix of dotted ``name`` in ``modules``, or None."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        if module in modules:
            return module
    return None


def _alias_names(data: bytes) -> frozenset[str]:
    """Every name ``data`` may give something with ``as`` (see ``ProjectIndex.aliased``)."""
    return frozenset(name.decode("utf-8", "replace") for name in _ALIAS.findall(data))


def _words(text: str) -> frozenset[bytes]:
    """The names ``text`` holds (a superset: keywords, and words of comments and strings)."""
    return frozenset(text.encode("utf-8", "surrogatepass").translate(_WORD_BYTES).split())


def _encoded(names: Iterable[str]) -> set[bytes]:
    return {name.encode("utf-8", "surrogatepass") for name in names}


def _likely_asked(facts: FileFacts) -> set[str]:
    """The names a walk of the file will most likely ask about: models (``.objects``
    receivers) and the bases of its classes (their role, their fields)."""
    names = {base for bases in facts.classes.values() for base in bases}
    for receivers in facts.orm_refs.values():
        names.update(receivers)
    return names


def _referred_names(facts: FileFacts) -> set[str]:
    """Every name this file refers to: imports, calls, bases, ``.objects`` receivers."""
    names = set(facts.imports.values())
    for values in [*facts.calls.values(), *facts.classes.values(), *facts.orm_refs.values()]:
        names.update(values)
    return names


def _expand_in(facts: FileFacts, rest: list[str], want: Callable[[str], None]) -> None:
    """Want what resolving ``<module>.<rest>`` passes through in the module ``facts``
    describes: a re-export (named or ``*``), or a class's bases (a method may be
    inherited). What the index's answers need beyond that (a function's callees, its
    ``.objects`` receivers) is read on demand, after the walk (see ProjectIndex)."""
    head = f"{facts.module}.{rest[0]}"
    if rest[0] in facts.imports:  # a re-export
        want(".".join([facts.imports[rest[0]], *rest[1:]]))
    elif not rest[0].startswith("_"):
        for star in facts.star_imports:  # ``from .order import *``: it may be there
            want(".".join([star, *rest]))
    for base in facts.classes.get(head, ()):
        want(base)
        if len(rest) > 1:
            want(f"{base}.{rest[1]}")


def _closure(records: list[_File], pool: _Pool, obtain: Callable[[list[_File]], None]) -> None:
    """Get facts for the files that can matter (see the module docstring); skip the rest.

    *Full* files (a trigger in their text, or a candidate that refers to a
    sensitive function) contribute their sensitive names and the names their walk
    will likely ask about (``_likely_asked``). *Candidates* (they mention a
    sensitive name) are read for their facts. *Partial* files (they define
    something a wanted name passes through) contribute re-exports and bases.
    The words of the other files stay with the workers that read them (``pool``).
    """
    modules = {id(r): r.module_name() for r in records}
    tree_modules = set(modules.values())
    unknown = Counter(modules[id(r)] for r in records if r.facts is None and r.findings is None)
    by_display = {r.display: r for r in records}
    order = {id(r): i for i, r in enumerate(records)}
    full = [r for r in records if r.full]
    full_ids = {id(r) for r in full}
    # every `name as alias` in the tree: imports may rename what they re-export (the
    # renames of a file that names no sensitive word cannot rename one, so those of
    # the files without a trigger wait until they do: see ``follow_aliases``)
    renames: dict[str, set[str]] = {}

    def take_renames(pairs: Iterable[tuple[str, str]]) -> None:
        for original, alias in pairs:
            renames.setdefault(original, set()).add(alias)

    for record in full:
        take_renames(record.renames)
    obtain(full)
    # Several files may share a module name (two projects audited together).
    by_module: dict[str, list[FileFacts]] = {}
    defined: set[str] = set()  # sensitive module-level functions
    methods: dict[str, set[str]] = {}  # sensitive method name -> classes that define it
    sensitive_pairs: set[str] = set()  # "Cls.method"
    wanted: set[str] = set()
    waiting: set[str] = set()  # wanted names whose module has no facts yet
    queue: deque[str] = deque()

    def want(name: str) -> None:
        if name and name not in wanted:
            wanted.add(name)
            queue.append(name)

    def expand(name: str) -> bool:
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            module = ".".join(parts[:i])
            if unknown[module]:
                return False  # a file of that module is not read yet
            found = by_module.get(module)
            if found is None:
                continue
            rest = parts[i:]
            for facts in found:
                if rest:
                    _expand_in(facts, rest, want)
            return True
        return False

    added: set[int] = set()

    def add(record: _File, as_full: bool) -> None:
        facts = record.facts
        if id(record) not in added:
            added.add(id(record))
            unknown[modules[id(record)]] -= 1  # read now (or unreadable): stop waiting for it
            if facts is not None:
                by_module.setdefault(facts.module, []).append(facts)
        if facts is not None and as_full:
            functions, pairs = _context_sensitive_names(facts, defined, sensitive_pairs)
            defined.update(functions)
            for klass, method in pairs:
                methods.setdefault(method, set()).add(klass)
                sensitive_pairs.add(f"{klass}.{method}")
            # Read before the walk what its answers will most often pass through (the
            # walk would ask, and the file be walked again): what ``.objects`` is read
            # from, and the bases of its classes.
            for name in _likely_asked(facts):
                want(name)
        waiting_now = list(waiting)
        waiting.clear()
        queue.extend(waiting_now)

    for record in full:
        add(record, True)

    def follow_aliases() -> None:
        grew = True
        while grew:
            take_renames(pool.renames(_encoded(defined.union(*methods.values()))))
            grew = False
            for names in (defined, *methods.values()):
                stack = list(names & renames.keys())
                while stack:
                    for alias in renames[stack.pop()] - names:
                        names.add(alias)
                        grew = True
                        if alias in renames:
                            stack.append(alias)

    cold: set[str] = set()  # names not hot while ``defined`` and ``methods`` stay as they are
    grown = [-1]

    def hot(name: str) -> bool:
        """``name`` may stand for a sensitive function (its words, as the text test sees them)."""
        if name in cold:
            return False
        parts = set(name.split("."))
        if parts & defined or any(methods[m] & parts for m in parts & methods.keys()):
            return True
        cold.add(name)
        return False

    def sensitive(index: ProjectIndex, name: str) -> bool:
        target = index.canonical(name)
        if target not in index.functions:
            return False
        parts = target.split(".")
        return parts[-1] in defined or ".".join(parts[-2:]) in sensitive_pairs

    # Files whose text mentions a sensitive name: read for facts, audited (full) only
    # when one of the names they refer to resolves to a sensitive function.
    candidates: dict[int, _File] = {}
    while True:
        while queue:
            name = queue.popleft()
            if not expand(name):
                waiting.add(name)
        follow_aliases()
        # The module a waiting name waits for: its longest prefix that is a module of
        # the tree (``expand``, like the index, never looks at a shorter one).
        prefixes = {_module_prefix(name, tree_modules) for name in waiting}
        # A candidate mentions a sensitive function or a class with a sensitive method.
        # Each file's words are collected once and intersected with the names: one
        # regular expression of every name, searched in every file on every round,
        # grew with the tree on both sides (quadratic on 10,000 files).
        method_words = {m.encode(): _encoded(classes) for m, classes in methods.items()}
        found, partial = pool.select(_encoded(defined), method_words, prefixes)
        failed = {id(r) for r in records if r.findings is not None and r.facts is None}
        found = [d for d in found if id(by_display[d]) not in failed]
        partial = [d for d in partial if id(by_display[d]) not in failed]
        newly_candidate = sorted((by_display[d] for d in found), key=lambda r: order[id(r)])
        newly_partial = sorted((by_display[d] for d in partial), key=lambda r: order[id(r)])
        obtain([r for r in newly_candidate + newly_partial if r.facts is None])
        for record in newly_partial:
            add(record, False)
        for record in newly_candidate:
            candidates[id(record)] = record
            add(record, False)
        # what a candidate's sensitive-looking names resolve through: re-exports, bases
        size = len(defined) + len(methods) + sum(map(len, methods.values()))
        if size != grown[0]:
            grown[0] = size
            cold.clear()
        for record in candidates.values():
            if record.facts is not None:
                for name in _referred_names(record.facts):
                    if hot(name):
                        want(name)
        if queue or newly_candidate or newly_partial:
            continue  # resolve with every fact that can be had first
        index = ProjectIndex([f for found in by_module.values() for f in found])
        promoted = [
            r
            for r in candidates.values()
            if r.facts is not None
            and any(sensitive(index, name) for name in _referred_names(r.facts))
        ]
        if not promoted:
            return
        for record in promoted:
            del candidates[id(record)]
            record.full = True
            full_ids.add(id(record))
            add(record, True)  # its tree was dropped after the facts: the walk reads it again


def audit_paths(
    paths: Sequence[str],
    config: Config | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
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
        return _audit_paths(paths, config, progress)
    finally:
        if collecting:
            gc.enable()


def _audit_paths(
    paths: Sequence[str],
    config: Config | None,
    progress: Callable[[int, int], None] | None,
) -> AuditResult:
    config = config or Config()
    started = time.perf_counter()
    excluded_roots: list[str] = []
    files, errors = discover(paths, config, excluded_roots)
    findings: list[Finding] = []
    stats = Stats(files=len(files))
    cache = (
        Cache(Path(config.cache_dir), __version__, config.fingerprint()) if config.cache else None
    )
    syntax_enabled = config.enabled("AG000")

    stat_key = _stat_key(files, errors) if cache is not None else None
    if cache is not None and stat_key is not None:
        # Not one file touched since a run over these very files: its result stands,
        # known without reading them (what makes a warm run cheap).
        previous = cache.load_run(stat_key)
        if previous is not None:
            return _reused(previous, started)
    jobs = config.jobs or os.cpu_count() or 1
    batch_size = 100 * max(jobs, 1)  # parse and walk batches: the progress display moves
    # The rules are imported before the workers start, so that they share them
    # (each would import them again, and this process later, for the report).
    all_rules()
    # A small tree is read and parsed in this process: starting workers costs more.
    pool = _Pool(config, jobs if len(files) >= 20 * jobs else 1)
    try:
        records: list[_File] = []
        parsed_at_load: list[tuple[str, FileFacts | SourceProblem]] = []
        aliased: set[str] = set()
        for (path, display), loaded in zip(files, pool.load(files, cache is not None), strict=True):
            if loaded.problem is not None:
                problem = loaded.problem
                errors.append(ParseError(display, problem.line, problem.message))
                if syntax_enabled and not problem.unreadable:
                    findings.append(syntax_finding(display, problem))
                continue
            record = _File(path, display, loaded.text or "", loaded.key, loaded.module)
            record.fetched = loaded.text is not None
            record.full, record.renames, record.defs = loaded.full, loaded.renames, loaded.defs
            aliased.update(loaded.aliases)
            stats.lines += loaded.lines
            records.append(record)
            if loaded.facts is not None:
                parsed_at_load.append((display, loaded.facts))
        by_display = {r.display: r for r in records}

        def fetch(batch: Iterable[_File]) -> None:
            """Bring the texts of ``batch`` that stayed with the workers."""
            missing = [r.display for r in batch if not r.fetched]
            for display, text in pool.texts_of(missing).items() if missing else ():
                by_display[display].text, by_display[display].fetched = text, True

        def report_failure(record: _File, failure: SourceProblem) -> None:
            """Report a file that does not parse (AG000 quotes its line: fetch its text)."""
            fetch([record])
            _problem(record, failure, errors, findings, syntax_enabled)

        run_key = ""
        if cache is not None:
            # Nothing changed since a run with these very files: its result stands.
            blob = repr(([(r.display, r.key) for r in records], errors, findings)).encode()
            run_key = _sha256(blob)
            previous = cache.load_run(run_key)
            if previous is not None:
                if stat_key is not None:
                    cache.store_run(previous, run_key, stat_key)  # touched, not changed
                return _reused(previous, started)
            for record in records:
                record.entry = cache.load(record.key)

        settled: set[int] = set()

        def settle(batch: Iterable[_File]) -> None:
            """The progress display: these files need nothing more (read for facts only,
            or walked; a file walked again is not counted twice)."""
            before = len(settled)
            settled.update(id(r) for r in batch)
            if progress and len(settled) > before:
                progress(len(settled), len(records))

        def take(display: str, outcome: FileFacts | SourceProblem) -> None:
            record = by_display[display]
            record.parsed = True
            record.kept = record.full
            if isinstance(outcome, SourceProblem):
                record.facts = None
                record.findings = []
                report_failure(record, outcome)
            else:
                record.facts = outcome

        def parse(batch: list[_File]) -> None:
            for start in range(0, len(batch), batch_size):
                chunk = batch[start : start + batch_size]
                fetch(chunk)
                for display, outcome in pool.parse([(r.display, r.text, r.full) for r in chunk]):
                    take(display, outcome)
                settle(r for r in chunk if not r.full)

        for display, outcome in parsed_at_load:
            take(display, outcome)

        def obtain(batch: list[_File]) -> None:
            """Facts for ``batch``: from the cache where it has them, else by parsing."""
            fresh: list[_File] = []
            for record in batch:
                if record.parsed:
                    continue  # as it was read (see _Worker.load)
                entry = record.entry
                if entry is not None and entry.problem is not None:
                    record.findings = []
                    failure = SourceProblem(entry.problem[1], entry.problem[0])
                    report_failure(record, failure)
                elif entry is not None and entry.facts is not None:
                    record.facts = entry.facts
                    stats.cached += 1
                else:
                    fresh.append(record)
            parse(fresh)

        if config.skip:
            _closure(records, pool, obtain)
        else:
            obtain(records)  # every file is full (see _Worker.load)
        by_module: dict[str, list[_File]] = {}
        for record in records:
            if record.facts is None and record.findings is None:
                by_module.setdefault(record.module_name(), []).append(record)

        def unread() -> set[str]:
            return {
                module
                for module, found in by_module.items()
                if any(r.facts is None and r.findings is None for r in found)
            }

        # Walk, then read what the answers passed through, until the answers stand
        # (see ProjectIndex): a file's findings are final once replaying its journal
        # on the index of every file read gives the same answers and reads nothing new.
        walkable = [r for r in records if r.facts is not None and r.full]
        for record in walkable:
            entry = record.entry
            if entry is not None and entry.journal is not None and not record.parsed:
                record.journal = entry.journal  # a walk of this very text, cached
                record.findings = list(entry.findings)
                record.run_contexts = list(entry.run_contexts)
        asking = walkable  # the journals that may still lead to an unread module

        known: dict[tuple[str, str, bool], bool] = {}

        def undefined(module: str, name: str, classes: bool) -> bool:
            key = (module, name, classes)
            if key not in known:
                fetch(by_module.get(module, ()))
                known[key] = not any(
                    may_define(r.text, name, classes=classes) for r in by_module.get(module, ())
                )
            return known[key]

        def read_missing(index: ProjectIndex) -> bool:
            """Read the unread modules ``index`` was asked about; True if any was read."""
            before = sum(r.facts is not None for r in records)
            obtain([r for m in sorted(index.missing) for r in by_module[m] if r.facts is None])
            return sum(r.facts is not None for r in records) != before

        while True:
            pending = unread() if config.skip else set()
            read = [r.facts for r in records if r.facts is not None]
            index = ProjectIndex(read, config, pending, aliased)
            index.undefined = undefined
            again: list[_File] = []
            missing: set[str] = set()
            for record in asking:
                if record.journal is None:
                    continue
                if record.walk_misses is not None and record.walked_with == len(read):
                    # walked on an index of these very facts: its walk's misses are what
                    # replaying its journal here would find
                    found = index.missing_of(record.walk_misses)
                else:
                    index.missing = set()
                    index.replay(record.journal)
                    found = index.missing
                if found:
                    again.append(record)
                    missing |= found
            index.missing = missing
            if missing and read_missing(index):
                asking = again  # a query without a miss passed through read modules only
                continue
            stale = [r for r in walkable if r.journal is None or not index.replay(r.journal)]
            if index.missing - missing and read_missing(index):
                asking = walkable  # never seen; ask every journal again, to be sure
                continue
            if not stale:
                break
            outcomes: dict[str, Any] = {}
            if pool.local is None and sum(len(r.text) for r in stale) <= _WALK_HERE:
                # A few small files walked again (an answer changed after a read): here,
                # rather than sending the whole index to every worker for them.
                here = _Worker(config)
                outcomes = dict(here.walk_texts(index, [(r.display, r.text) for r in stale]))
                settle(stale)
            else:
                parse([r for r in stale if not r.kept])
                for start in range(0, len(stale), batch_size):
                    batch = stale[start : start + batch_size]
                    texts = {r.display: r.text for r in batch}
                    outcomes.update(pool.walk(index, list(texts), texts))
                    settle(batch)
            for display, outcome in outcomes.items():
                record = by_display[display]
                record.kept = False  # the worker let its tree go
                if isinstance(outcome, SourceProblem):
                    record.findings = []
                    record.journal = {}  # not walked again in this run ...
                    record.walk_failed = True  # ... nor trusted from the cache in the next
                    report_failure(record, outcome)
                else:
                    record.findings, record.run_contexts, record.journal, misses = outcome
                    record.walk_misses, record.walked_with = misses, len(read)
            asking = stale
        for record in records:
            if record.facts is None and record.findings is None:
                record.findings = []
                stats.skipped += 1
                stats.sync_functions += record.defs
            elif record.facts is not None and not record.full:
                record.findings = []  # read for its facts only: it holds no trigger
        pool.stop()  # joined once the result is written: they exit meanwhile

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
                        journal=None
                        if record.facts is None or record.walk_failed
                        else record.journal,
                        problem=_recorded_problem(record, errors),
                        skipped=record.facts is None and not record.parsed,
                    ),
                )
        stats.parsed -= stats.cached
        stats.parse_errors = len(errors)
        result = AuditResult(
            findings=sorted(set(findings)),
            files_scanned=len(files),
            parse_errors=sorted(errors, key=lambda e: (e.path, e.line)),
            duration_s=round(time.perf_counter() - started, 3),
            stats=stats,
            excluded_roots=excluded_roots,
        )
        if cache is not None:
            cache.store_run(result, run_key, *([stat_key] if stat_key else []))
        return result
    finally:
        pool.close()


def _sha256(data: bytes) -> str:
    import hashlib  # here: only a run with a cache hashes (the import costs a cold run)

    return hashlib.sha256(data).hexdigest()


def _stat_key(files: Sequence[tuple[str, str]], errors: Sequence[ParseError]) -> str | None:
    """What the file system says of every file, without reading one: inode, size,
    modification and change times (a write always moves the change time, which no
    tool sets back). None when a file cannot be looked at: its run reads it."""
    seen: list[tuple[str, int, int, int, int]] = []
    for path, display in files:
        try:
            info = os.stat(path)
        except OSError:
            return None
        seen.append((display, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
    blob = repr((seen, sorted(map(repr, errors)))).encode()
    return "stat-" + _sha256(blob)


def _reused(previous: AuditResult, started: float) -> AuditResult:
    stats = replace(previous.stats, cached=previous.stats.parsed + previous.stats.cached, parsed=0)
    return replace(previous, stats=stats, duration_s=round(time.perf_counter() - started, 3))


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


def count_defs(text: str) -> int:
    """Lines that start (after blanks) with ``def `` or ``def\\t``: a skipped file's
    sync functions. Found from each ``def`` outwards, as ``_aliases`` finds ``as``: a
    multi-line regex tries every position of every skipped file."""
    count = 0
    at = text.find("def")
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        if text[at + 3 : at + 4] in (" ", "\t") and not text[start:at].strip(" \t"):
            count += 1
        at = text.find("def", at + 3)
    return count


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
