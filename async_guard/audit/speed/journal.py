"""Journals: what a walk asked the project index, and what the answers passed through.

The rules see the index only through its questions (``analysis.questions``), and
every answer is a pure function of the facts. So a walk's findings stand for as
long as its questions get the same answers: :class:`JournaledQuestions` hands the
walk the index's answers and records each question with its answer (the
*journal*), which :func:`replay` asks again of a later index.

An answer may have looked a name up in a module of the tree whose facts the index
does not have yet (its *trail*). Such a lookup is a *miss*, recorded with what would
make the module matter (its *mode*):

* ``"any"``: a question about calls (contexts, reaching the ORM): anything in it;
* ``"class"``: a question about what a name is (a model, a class's role): only if
  the module defines a class of that name, or imports it (or imports ``*``);
* ``"import"``: whether a name is a coroutine function, when no ``async def`` of the
  tree has its last name: an unread module holds no ``async def`` (the skip read
  every file that does), so only a re-export can lead to one;
* a question whether a name is a coroutine function, when no ``async def`` has the
  name and no file renames anything to it (``aliased``), records no miss: every
  step of a resolution keeps the last name, but for an ``as``.

:func:`demanded` turns misses into the modules to read, given a text test that
tells whether an unread module may define a name (the engine has the texts).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from async_guard.audit.analysis.index import ProjectIndex, Trail

#: One question and its answer: ``(question name, qualified name) -> answer``.
Journal = dict[tuple[str, str], Any]
#: A lookup into an unread module: (module, name looked up, mode).
Miss = tuple[str, str, str]
#: ``undefined(module, name, classes)``: the unread module's text surely neither
#: imports ``name`` (nor ``*``) nor, with ``classes``, defines a class ``name``.
Undefined = Callable[[str, str, bool], bool]


class JournaledQuestions:
    """The index's answers, each question recorded in ``journal`` and each miss of its
    trail in ``misses`` (see the module docstring)."""

    def __init__(self, index: ProjectIndex, aliased: Collection[str] | None = None) -> None:
        self.index = index
        #: The names any file of the tree gives something with ``as`` (None: any may be).
        self.aliased = aliased
        self.journal: Journal = {}
        self.misses: set[Miss] = set()

    def ask(self, question: str, qualname: str) -> Any:
        key = (question, qualname)
        if key in self.journal:  # asked before: same index, same answer, same misses
            return self.journal[key]
        trail: Trail = set()
        answer = getattr(self.index, question)(qualname, trail)
        self.journal[key] = answer
        for module, name, types in trail:
            mode = self._mode(question, qualname, types)
            if mode != "none":
                self.misses.add((module, name, mode))
        return answer

    def _mode(self, question: str, qualname: str, types: bool) -> str:
        if not types:
            return "any"
        if question != "is_coroutine_function":
            return "class"
        last = qualname.rsplit(".", 1)[-1]
        if last in self.index.async_names:
            return "class"
        if self.aliased is None or last in self.aliased:
            return "import"
        return "none"

    def is_model(self, qualname: str) -> bool:
        return bool(self.ask("is_model", qualname))

    def model_fields(self, qualname: str) -> dict[str, str]:
        return dict(self.ask("model_fields", qualname))

    def model_managers(self, qualname: str) -> frozenset[str]:
        return frozenset(self.ask("model_managers", qualname))

    def model_relations(self, qualname: str) -> dict[str, tuple[str, str]]:
        return dict(self.ask("model_relations", qualname))

    def manager_sources(self, qualname: str) -> tuple[str, ...]:
        return tuple(self.ask("manager_sources", qualname))

    def returns_queryset(self, qualname: str) -> bool:
        return bool(self.ask("returns_queryset", qualname))

    def model_named(self, qualname: str) -> str:
        return str(self.ask("model_named", qualname))

    def is_coroutine_function(self, qualname: str) -> bool:
        return bool(self.ask("is_coroutine_function", qualname))

    def class_role(self, qualname: str) -> str | None:
        role: str | None = self.ask("class_role", qualname)
        return role

    def entry_context(self, qualname: str) -> str | None:
        context: str | None = self.ask("entry_context", qualname)
        return context

    def contexts_of(self, qualname: str) -> frozenset[str]:
        return frozenset(self.ask("contexts_of", qualname))

    def reaches_orm(self, qualname: str) -> bool:
        return bool(self.ask("reaches_orm", qualname))

    def reaches_async_orm(self, qualname: str) -> bool:
        return bool(self.ask("reaches_async_orm", qualname))


def replay(
    index: ProjectIndex, journal: Journal, aliased: Collection[str] | None
) -> tuple[bool, set[Miss]]:
    """Ask every question of ``journal`` again: whether every answer is the same, and
    the misses of them all (every question is asked, even after one has changed, so
    that the misses name every unread module the answers pass through)."""
    asked = JournaledQuestions(index, aliased)
    same = True
    for (question, qualname), answer in journal.items():
        if asked.ask(question, qualname) != answer:
            same = False
    return same, asked.misses


def demanded(misses: Iterable[Miss], undefined: Undefined | None) -> set[str]:
    """The modules ``misses`` demand: every ``"any"`` miss's, and the others' unless
    ``undefined`` says the module's text cannot change the answer."""
    return {
        module
        for module, name, mode in misses
        if mode == "any" or undefined is None or not undefined(module, name, mode == "class")
    }
