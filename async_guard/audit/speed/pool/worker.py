"""The per-file work of a run, done where the file is: read, test, parse, walk.

A :class:`FileWorker` runs in a worker process (``serve``), or in the engine's own
process for a small tree. Each file's text and words stay with the worker that
read it, and its tree with the worker that parsed it, until they are needed.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from async_guard.audit.analysis.facts import (
    GRAPH_WORDS,
    FileFacts,
    collect_facts,
    holds_graph_facts,
)
from async_guard.audit.analysis.index import ProjectIndex
from async_guard.audit.analysis.source import (
    SourceFile,
    SourceProblem,
    decode_source,
    module_names,
    read_file,
    too_deep,
)
from async_guard.audit.analysis.triggers import TriggerTest
from async_guard.audit.config import Config
from async_guard.audit.speed.cache import sha256
from async_guard.audit.speed.journal import Journal, JournaledQuestions, Miss
from async_guard.audit.speed.pool import processes
from async_guard.audit.speed.skip import file_triggers
from async_guard.audit.speed.snapshot import Signature, Summary
from async_guard.audit.speed.words import (
    alias_names,
    count_defs,
    import_renames,
    text_words,
    word_list,
)
from async_guard.audit.walk import FileWalk, walk_file

#: A file to read: its path, its display path, whether it is audited, its signature
#: (with a cache), and its summary when it is unchanged since (see ``speed.snapshot``).
LoadItem = tuple[str, str, bool, Signature | None, Summary | None]
#: A file to walk: its display path, its text, and whether it holds a trigger.
WalkItem = tuple[str, str, bool]


@dataclass
class Walked:
    """A file's walk, with the questions it asked and the misses of their answers."""

    walk: FileWalk
    journal: Journal
    misses: set[Miss]


@dataclass
class Loaded:
    """One file as a worker read it (``problem`` set when it could not be read)."""

    display: str
    #: None for a file without a trigger: the run asks for it when it needs it
    #: (``WorkerPool.texts_of``), which it seldom does.
    text: str | None = ""
    key: str = ""
    module: str = ""
    #: Another name its module is imported by (see ``source.module_names``).
    alias: str = ""
    lines: int = 0
    #: Its text holds a trigger (or skipping is off): it may be walked by every rule.
    full: bool = False
    #: Its ``name as alias`` pairs (a full file's; the others' come when asked for).
    renames: list[tuple[str, str]] = field(default_factory=list)
    #: A full file's facts (or why it does not parse), when it was parsed as it was read.
    facts: FileFacts | SourceProblem | None = None
    #: The ``def`` lines of a file without a trigger (``--stats`` counts them if skipped).
    defs: int = 0
    #: The names that follow an ``as`` (see ``speed.journal``).
    aliases: frozenset[str] = frozenset()
    problem: SourceProblem | None = None
    #: What the next run needs of it, when there is a cache (see ``speed.snapshot``).
    summary: Summary | None = None


#: Characters of text a worker keeps for the files without a trigger it read: the few
#: the run asks for later are then not read again. Past it (a tree of many hundred
#: thousand lines) they are, and the worker's memory stays bounded.
_TEXT_BUDGET = 4 << 20


class FileWorker:
    """Reads files, answers the text questions about them, parses them and keeps their
    trees until the walk (in-process, or in a child process).

    The words of a file that holds no trigger stay with the worker that read it: the
    skip asks which files mention a sensitive name, and sending every file's words to
    the main process would cost as much as collecting them. Its text stays only up to
    a budget (on a large project, keeping every text doubled the audit's memory)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.trees: dict[str, SourceFile] = {}
        self.paths: dict[str, str] = {}
        #: Texts of files without a trigger kept since they were read, up to a budget.
        self.texts: dict[str, str] = {}
        self.kept_text = 0
        self.words: dict[str, tuple[bytes, ...]] = {}
        #: One object per distinct word, shared by every file's set of words.
        self.vocabulary: dict[bytes, bytes] = {}
        #: The renames of the files without a trigger (read at load, or recalled).
        self.known_renames: dict[str, tuple[tuple[str, str], ...]] = {}
        self.modules: dict[str, tuple[str, str]] = {}
        self.renamed: set[str] = set()
        # chosen by ``select`` as candidates, or as partial files
        self.candidates: set[str] = set()
        self.partial: set[str] = set()
        #: Files without a trigger that may hold facts of the model graph: read for
        #: their facts (as partial files) by the first ``select``.
        self.graph: set[str] = set()
        self.asked: tuple[set[bytes], dict[bytes, set[bytes]]] | None = None
        self.index = ProjectIndex()
        self.aliased: frozenset[str] | None = None

    def names(self, display: str) -> tuple[str, str]:
        """The module ``display`` is, and the other name it is imported by ("" if none)."""
        found = self.modules.get(display)
        if found is None:
            module, _, alias = module_names(display, self.config.src)
            found = self.modules[display] = (module, alias)
        return found

    def load(self, items: list[LoadItem]) -> list[Loaded]:
        """Read, decode and test each file.

        With a cache (the item has the file's signature), the file's key is its content
        hash, a full file waits for the run to ask for its facts (the cache may have
        them), and what the next run needs is summed up (``Loaded.summary``); a file
        whose summary is given is not read at all. Without a cache, hashing every byte
        buys nothing, and a full file is parsed at once (its tree kept for the walk if
        it is one of the files audited)."""
        hits = TriggerTest(file_triggers(self.config)) if self.config.skip else None
        out: list[Loaded] = []
        for path, display, audited, stat, known in items:
            self.paths[display] = path
            if known is not None:
                out.append(self.recall(display, known))
                continue
            try:
                data = read_file(path)
                text = decode_source(data)
            except SourceProblem as problem:
                out.append(Loaded(display, problem=problem))
                continue
            hashing = stat is not None
            # the key is the file's, however the run names it (a named file, or one
            # found under the project's root)
            key = sha256(os.path.abspath(path).encode() + b"\0" + data) if hashing else display
            module, alias = self.names(display)
            # A module of a package named ``asyncio`` resolves its relative imports and
            # its own names to ``asyncio.*`` without writing the word (``analysis.triggers``).
            full = hits is None or hits.search(text) or module.split(".")[0] == "asyncio"
            lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
            loaded = Loaded(display, text, key, module, alias, lines, full)
            loaded.aliases = alias_names(data)
            if full:
                loaded.renames = import_renames(text)
                if not hashing:
                    loaded.facts = self.parse([(display, text, audited)])[0][1]
            else:
                words = self.words[display] = word_list(text_words(text), self.vocabulary)
                loaded.defs = count_defs(text)
                # (kept: the skip asks for the renames of the files that mention a
                # sensitive name, and reading them again cost more than this)
                self.known_renames[display] = tuple(import_renames(text))
                # (the words first: the patterns are for the few files that hold one)
                if not GRAPH_WORDS.isdisjoint(words) and holds_graph_facts(text):
                    self.graph.add(display)
                loaded.text = None
                if self.kept_text + len(text) <= _TEXT_BUDGET:
                    self.texts[display] = text
                    self.kept_text += len(text)
            if stat is not None:
                # every file's renames: a later run asks for those of files it does not read
                renames = loaded.renames if full else self.known_renames[display]
                blob = b"" if full else b" ".join(self.words[display])
                loaded.summary = Summary(
                    stat, key, lines, bool(full), tuple(renames), loaded.aliases, blob,
                    loaded.defs, display in self.graph,
                )  # fmt: skip
            out.append(loaded)
        return out

    def recall(self, display: str, known: Summary) -> Loaded:
        """A file unchanged since its summary was taken, as if it had been read."""
        module, alias = self.names(display)
        if not known.triggered:
            split = known.words.split()
            self.words[display] = word_list(split, self.vocabulary)
            self.known_renames[display] = known.renames
            if known.graph:
                self.graph.add(display)
        loaded = Loaded(display, None, known.key, module, alias, known.lines, known.triggered)
        loaded.renames = list(known.renames) if known.triggered else []
        loaded.defs = known.defs
        loaded.aliases = known.aliases
        return loaded

    def text(self, display: str) -> str:
        """A file's text: kept since ``load`` (up to ``_TEXT_BUDGET``), else read again."""
        kept = self.texts.get(display)
        return kept if kept is not None else decode_source(read_file(self.paths[display]))

    def texts_of(self, displays: list[str]) -> dict[str, str]:
        return {display: self.text(display) for display in displays}

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
                not functions.isdisjoint(words)
                or any(not methods[m].isdisjoint(words) for m in methods.keys() & words)
            ):
                self.candidates.add(display)
                candidates.append(display)
            elif display not in self.partial and (
                self.modules[display][0] in modules or display in self.graph
            ):
                self.partial.add(display)
                partial.append(display)
        return candidates, partial

    def renames(self, sensitive: set[bytes]) -> list[tuple[str, str]]:
        """The renames of every file not asked yet that mentions a ``sensitive`` word (the
        renames of a file that names none cannot rename a sensitive name)."""
        out: list[tuple[str, str]] = []
        for display, words in self.words.items():
            if display not in self.renamed and not sensitive.isdisjoint(words):
                self.renamed.add(display)
                known = self.known_renames.get(display)
                out.extend(import_renames(self.text(display)) if known is None else known)
        return out

    def parse(
        self, items: list[tuple[str, str, bool]]
    ) -> list[tuple[str, FileFacts | SourceProblem]]:
        """Facts of each file; the tree is kept for the walk only when ``keep`` says so."""
        out: list[tuple[str, FileFacts | SourceProblem]] = []
        for display, text, keep in items:
            try:
                sf = SourceFile.from_text(text, display, *self.names(display))
                facts = collect_facts(sf, self.config)
            except SourceProblem as problem:
                out.append((display, problem))
                continue
            except RecursionError:
                out.append((display, too_deep()))
                continue
            if keep:
                self.trees[display] = sf
            out.append((display, facts))
        return out

    def use(self, index: ProjectIndex, aliased: frozenset[str] | None) -> None:
        """The index the next walks ask, and the names files give something with ``as``."""
        self.index, self.aliased = index, aliased

    def forget(self, displays: list[str]) -> None:
        for display in displays:
            self.trees.pop(display, None)

    def walk_texts(self, items: Iterable[WalkItem]) -> dict[str, Walked | SourceProblem]:
        """Parse and walk files whose trees are not here (see ``WorkerPool.walk``); the
        facts of their text are known already."""
        out: dict[str, Walked | SourceProblem] = {}
        walks: list[tuple[str, bool]] = []
        for display, text, triggered in items:
            try:
                self.trees[display] = SourceFile.from_text(text, display, *self.names(display))
            except SourceProblem as problem:
                out[display] = problem
            except RecursionError:
                out[display] = too_deep()
            else:
                walks.append((display, triggered))
        out.update(self.walk(walks))
        return out

    def walk(self, items: Iterable[tuple[str, bool]]) -> dict[str, Walked | SourceProblem]:
        """Walk each ``(file, triggered)`` whose tree is here (see ``walk_file``)."""
        out: dict[str, Walked | SourceProblem] = {}
        for display, triggered in items:
            sf = self.trees.pop(display, None)
            if sf is None:
                continue
            questions = JournaledQuestions(self.index, self.aliased)
            try:
                walked = walk_file(sf, questions, self.config, triggered=triggered)
            except RecursionError:
                out[display] = too_deep()
            except Exception as exc:  # a rule's bug must not stop the run
                out[display] = SourceProblem(
                    f"internal error while auditing: {type(exc).__name__}: {exc}"
                )
            else:
                out[display] = Walked(walked, questions.journal, questions.misses)
        return out


def serve(conn: processes.Channel, config: Config) -> None:  # pragma: no cover - runs in a child
    """A worker process's loop: answer the engine's requests until it says stop."""
    gc.disable()  # see ``runner``: a spawned child does not inherit the parent's switch
    worker = FileWorker(config)
    while True:
        message = conn.recv()
        if message[0] == "use":
            worker.use(*message[1:])
        elif message[0] == "forget":
            worker.forget(message[1])  # no answer: nothing waits for it
        elif message[0] in ("load", "select", "renames", "parse", "texts_of", "walk", "walk_texts"):
            conn.send(getattr(worker, message[0])(*message[1:]))
        else:
            return
