"""Skipping files without parsing them, provably without changing a finding.

A file is parsed only if its text holds a trigger of an enabled rule or of the
facts (``file_triggers``), or if it is *linked* to a parsed file:

* it mentions, as a word, a *sensitive* function or class of an audited file,
  under any name an import gives it (``sensitive_names``): it may call it from an
  entry point (the callee's context reaches it) or call a coroutine function
  without ``await``; it is read for its facts, and audited too when a name it
  refers to resolves to a sensitive function (:meth:`Closure.promote`);
* an answer of the index that an audited file's walk was given passed through its
  module (a model's base class, a re-export, a called helper): the runner reads
  those on demand (``speed.journal``). The ``.objects`` receivers and class bases
  of audited files are read before the first walk (``likely_asked``), since most
  answers pass through them.

A file outside both links can neither produce a finding (it holds no trigger)
nor change another file's. ``Config(skip=False)`` turns skipping off; the
skip-safety tests compare both on many trees.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from async_guard.audit.analysis.facts import FACT_TRIGGERS, FileFacts
from async_guard.audit.analysis.index import ProjectIndex
from async_guard.audit.config import Config
from async_guard.audit.speed.records import FileRecord
from async_guard.audit.speed.words import encoded, module_prefix
from async_guard.audit.walk import enabled_rules


def file_triggers(config: Config) -> tuple[str, ...]:
    """The words of which a file must hold one to be parsed for its own sake."""
    found: set[str] = set(FACT_TRIGGERS)
    for rule in enabled_rules(config):
        found.update(rule.triggers)
    # configured names count like the built-in ones (an import names them in full)
    found.update(name.rsplit(".", 1)[-1] for name in (*config.known_async, *config.task_decorators))
    return tuple(sorted(w for w in found if w))


@dataclass(frozen=True)
class Sensitivity:
    """Which functions the enabled rules make *sensitive*: their findings (or their
    callers') depend on code in other files, so their callers must be read."""

    #: Functions holding a sync->async bridge (a rule's findings there depend on the
    #: context the callers give: ``Rule.depends_on_callers``).
    bridges: bool
    #: Coroutine functions (a caller may not await one: ``Rule.depends_on_callees``).
    coroutines: bool

    @classmethod
    def of(cls, config: Config) -> Sensitivity:
        rules = enabled_rules(config)
        return cls(
            bridges=any(rule.depends_on_callers for rule in rules),
            coroutines=any(rule.depends_on_callees for rule in rules),
        )


def sensitive_names(
    facts: FileFacts, sensitivity: Sensitivity, known_functions: set[str], known_methods: set[str]
) -> tuple[set[str], set[tuple[str, str]]]:
    """What another file must mention to call a sensitive function of this file.

    A function is sensitive when the enabled rules make it so (``Sensitivity``), or
    when it calls a sensitive name (its callers reach a bridge, their context flows
    down). A module-level function is called by its name; a method through its
    class (``Cls.m()``, or ``self.m()`` in a subclass, which names ``Cls`` as a
    base): the caller's text holds both names. Returns (function names, (class,
    method) pairs); ``known_functions`` and ``known_methods`` (``"Cls.m"``) are the
    sensitive names found so far, here and elsewhere.
    """
    prefix = facts.module + "."
    functions: set[str] = set()
    methods: set[tuple[str, str]] = set()
    names = set(known_functions)
    pairs = set(known_methods)

    def is_sensitive(function: str) -> bool:
        return (
            (
                sensitivity.coroutines
                and facts.functions[function]
                and function not in facts.not_coroutines
            )
            or (sensitivity.bridges and function in facts.bridges)
            or any(
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
            if is_sensitive(function):
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
        and is_sensitive(function)
    }
    return functions, methods & referable


def likely_asked(facts: FileFacts) -> set[str]:
    """The names a walk of the file will most likely ask about: models (``.objects``
    receivers) and the bases of its classes (their role, their fields)."""
    names = {base for bases in facts.classes.values() for base in bases}
    for receivers in facts.orm_refs.values():
        names.update(receivers)
    return names


def referred_names(facts: FileFacts) -> set[str]:
    """Every name this file refers to: imports, calls, bases, ``.objects`` receivers."""
    names = set(facts.imports.values())
    for values in [*facts.calls.values(), *facts.classes.values(), *facts.orm_refs.values()]:
        names.update(values)
    return names


def expand_in(facts: FileFacts, rest: list[str], want: Callable[[str], None]) -> None:
    """Want what resolving ``<module>.<rest>`` passes through in the module ``facts``
    describes: a re-export (named or ``*``), or a class's bases (a method may be
    inherited). What the index's answers need beyond that (a function's callees, its
    ``.objects`` receivers) is read on demand, after the walk."""
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


class WordSource(Protocol):
    """Where the words of the files without a trigger are (the worker pool)."""

    def select(
        self, functions: set[bytes], methods: dict[bytes, set[bytes]], modules: set[str | None]
    ) -> tuple[list[str], list[str]]: ...

    def renames(self, sensitive: set[bytes]) -> list[tuple[str, str]]: ...


class Closure:
    """The files that can matter, given the *triggered* ones (a trigger in their text).

    :meth:`run` obtains facts for them (``obtain(files, keep)``: from the cache, or by
    parsing; with ``keep``, a parsed file's tree waits for its walk),
    then for what they link to. *Candidates* (they mention a sensitive name) are read
    for their facts; *partial* files (they define something a wanted name passes
    through) contribute re-exports and bases. A candidate that refers to a
    sensitive function joins them (and is walked, if it is audited), and the
    closure grows again.
    """

    def __init__(
        self,
        records: list[FileRecord],
        words: WordSource,
        obtain: Callable[[list[FileRecord], bool], None],
        sensitivity: Sensitivity,
    ) -> None:
        self.records = records
        self.words = words
        self.obtain = obtain
        self.sensitivity = sensitivity
        self.by_display = {r.display: r for r in records}
        self.order = {id(r): i for i, r in enumerate(records)}
        self.tree_modules = {r.module_name() for r in records}
        #: Other names modules are imported by (``source.module_names``) -> their names.
        self.module_aliases = {r.alias: r.module_name() for r in records if r.alias}
        #: Files of each module not read yet (a name of that module waits for them).
        self.unknown = Counter(
            r.module_name() for r in records if r.facts is None and r.findings is None
        )
        #: Every ``name as alias`` seen so far: imports may rename what they re-export.
        #: (The renames of a file that names no sensitive word cannot rename one, so
        #: those of the files without a trigger come once they do: ``follow_aliases``.)
        self.renames: dict[str, set[str]] = {}
        #: The facts read, by module (several files may share a module name).
        self.by_module: dict[str, list[FileFacts]] = {}
        self.defined: set[str] = set()  # sensitive module-level functions
        self.methods: dict[str, set[str]] = {}  # sensitive method name -> its classes
        self.pairs: set[str] = set()  # sensitive "Cls.method"s
        self.wanted: set[str] = set()
        self.waiting: set[str] = set()  # wanted names whose module has no facts yet
        self.queue: deque[str] = deque()
        self.added: set[int] = set()
        self.candidates: dict[int, FileRecord] = {}
        #: Names that are not sensitive while the sensitive sets keep their size.
        self.cold: set[str] = set()
        self.grown = -1

    def run(self) -> None:
        # Every file with a trigger is read (an unread file holds no ``async def``, no
        # bridge: the journal's misses count on that), whether audited or not.
        triggered = [r for r in self.records if r.triggered]
        for record in triggered:
            self.take_renames(record.renames)
        self.obtain(triggered, True)
        for record in triggered:
            self.add(record, True)
        while True:
            self.expand_wanted()
            self.follow_aliases()
            newly = self.select()
            self.want_referred()
            if self.queue or newly:
                continue  # resolve with every fact that can be had first
            promoted = self.promote()
            if not promoted:
                return
            for record in promoted:
                del self.candidates[id(record)]
                record.full = record.target  # only an audited file is walked
                self.add(record, True)

    def take_renames(self, pairs: Iterable[tuple[str, str]]) -> None:
        for original, alias in pairs:
            self.renames.setdefault(original, set()).add(alias)

    def want(self, name: str) -> None:
        if name and name not in self.wanted:
            self.wanted.add(name)
            self.queue.append(name)

    def add(self, record: FileRecord, as_full: bool) -> None:
        """Take a file's facts in; a full file adds its sensitive names, and wants what
        its walk will most often ask about (so that it is read before the walk)."""
        facts = record.facts
        if id(record) not in self.added:
            self.added.add(id(record))
            self.unknown[record.module_name()] -= 1  # read now (or unreadable): stop waiting
            if facts is not None:
                self.by_module.setdefault(facts.module, []).append(facts)
        if facts is not None and as_full:
            functions, pairs = sensitive_names(facts, self.sensitivity, self.defined, self.pairs)
            self.defined.update(functions)
            for klass, method in pairs:
                self.methods.setdefault(method, set()).add(klass)
                self.pairs.add(f"{klass}.{method}")
            for name in likely_asked(facts):
                self.want(name)
        self.queue.extend(self.waiting)
        self.waiting.clear()

    def expand(self, name: str) -> bool:
        """Want what ``name`` passes through; False while its module is not read yet."""
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            module = ".".join(parts[:i])
            aliased = self.module_aliases.get(module)
            if aliased is not None and module not in self.tree_modules:
                self.want(".".join([aliased, *parts[i:]]))  # the module under its own name
                return True
            if self.unknown[module]:
                return False  # a file of that module is not read yet
            found = self.by_module.get(module)
            if found is None:
                continue
            rest = parts[i:]
            for facts in found:
                if rest:
                    expand_in(facts, rest, self.want)
            return True
        return False

    def expand_wanted(self) -> None:
        while self.queue:
            name = self.queue.popleft()
            if not self.expand(name):
                self.waiting.add(name)

    def follow_aliases(self) -> None:
        """Add to the sensitive names every name an import renames one to."""
        grew = True
        while grew:
            self.take_renames(
                self.words.renames(encoded(self.defined.union(*self.methods.values())))
            )
            grew = False
            for names in (self.defined, *self.methods.values()):
                stack = list(names & self.renames.keys())
                while stack:
                    for alias in self.renames[stack.pop()] - names:
                        names.add(alias)
                        grew = True
                        if alias in self.renames:
                            stack.append(alias)

    def select(self) -> bool:
        """Read the files not chosen yet that mention a sensitive name (candidates) or
        belong to the module a waiting name waits for (partial); True if any."""
        # the module a waiting name waits for: its longest prefix that is a module of
        # the tree (``expand``, like the index, never looks at a shorter one)
        prefixes = {module_prefix(name, self.tree_modules) for name in self.waiting}
        # Each file's words are collected once (by the worker that read it) and
        # intersected with the names: one regular expression of every name, searched
        # in every file on every round, grew with the tree on both sides.
        method_words = {m.encode(): encoded(classes) for m, classes in self.methods.items()}
        found, partial = self.words.select(encoded(self.defined), method_words, prefixes)
        failed = {id(r) for r in self.records if r.findings is not None and r.facts is None}
        newly_candidate = self._records(found, failed)
        newly_partial = self._records(partial, failed)
        # a candidate may become full: its tree waits for the walk
        self.obtain([r for r in newly_candidate if r.facts is None], True)
        self.obtain([r for r in newly_partial if r.facts is None], False)
        for record in newly_partial:
            self.add(record, False)
        for record in newly_candidate:
            self.candidates[id(record)] = record
            self.add(record, False)
        return bool(newly_candidate or newly_partial)

    def _records(self, displays: list[str], failed: set[int]) -> list[FileRecord]:
        chosen = [self.by_display[d] for d in displays if id(self.by_display[d]) not in failed]
        return sorted(chosen, key=lambda r: self.order[id(r)])

    def may_be_sensitive(self, name: str) -> bool:
        """``name`` may stand for a sensitive function (its words, as the text test sees them)."""
        if name in self.cold:
            return False
        parts = set(name.split("."))
        if parts & self.defined or any(
            self.methods[m] & parts for m in parts & self.methods.keys()
        ):
            return True
        self.cold.add(name)
        return False

    def want_referred(self) -> None:
        """Want what a candidate's sensitive-looking names resolve through (re-exports,
        bases), so that ``promote`` can resolve them."""
        size = len(self.defined) + len(self.methods) + sum(map(len, self.methods.values()))
        if size != self.grown:
            self.grown = size
            self.cold.clear()
        for record in self.candidates.values():
            if record.facts is not None:
                for name in referred_names(record.facts):
                    if self.may_be_sensitive(name):
                        self.want(name)

    def promote(self) -> list[FileRecord]:
        """The candidates one of whose names resolves to a sensitive function."""
        index = ProjectIndex([f for found in self.by_module.values() for f in found])

        def sensitive(name: str) -> bool:
            target = index.canonical(name)
            if target not in index.functions:
                return False
            parts = target.split(".")
            return parts[-1] in self.defined or ".".join(parts[-2:]) in self.pairs

        return [
            r
            for r in self.candidates.values()
            if r.facts is not None and any(sensitive(name) for name in referred_names(r.facts))
        ]
