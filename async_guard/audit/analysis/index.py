"""The project index: the facts of many files merged, and the questions they answer.

Each file yields one :class:`~async_guard.audit.analysis.facts.FileFacts`; the
:class:`ProjectIndex` merges them and answers the questions of
:class:`~async_guard.audit.analysis.questions.Questions`: which classes are
Django models (through bases in any file, plus the app registry under
``manage.py``), their fields and managers, which names are coroutine functions,
which entry-point contexts reach a function through resolvable calls.

Every answer is a pure function of the facts. An index may also know that some
modules of the project exist without having their facts (``unread``): an answer
that had to look a name up in one of them may change once it is read. Every
question takes an optional ``trail``, a set to which it adds each such lookup
as ``(module, name, about_types)``: ``about_types`` is True when the lookup
served a question about what a name is (a model, a class's role, a coroutine
function) rather than about what a function reaches. Whoever holds the index
decides what to do with a trail (the speed layer reads those modules).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable
from functools import cached_property
from typing import Any

from async_guard.audit.analysis.contrib import contrib_facts
from async_guard.audit.analysis.django_names import (
    GET_MODEL,
    GET_USER_MODEL,
    MANAGER_ATTRS,
    MODEL_ROOTS,
)
from async_guard.audit.analysis.entrypoints import class_kind, method_context
from async_guard.audit.analysis.facts import FileFacts
from async_guard.audit.analysis.graph import ModelGraph
from async_guard.audit.config import Config

#: django.contrib's models, the same for every index (see ``analysis.contrib``).
CONTRIB = contrib_facts()

#: Lookups into modules the index knows of but has no facts for: (module, name, about types).
Trail = set[tuple[str, str, bool]]
_Touched = frozenset[tuple[str, str]]
#: Calls whose result is surely a model (``get_user_model().objects`` is a manager).
MODEL_FACTORIES = GET_USER_MODEL | GET_MODEL


class ProjectIndex(ModelGraph):
    """Merged facts of every file given (and of the app registry, when there is one)."""

    def __init__(
        self,
        facts: Iterable[FileFacts] = (),
        config: Config | None = None,
        unread: Collection[str] = (),
    ) -> None:
        self.config = config or Config()
        #: Modules of the project whose facts this index does not have.
        self.unread = frozenset(unread)
        self.modules: dict[str, dict[str, str]] = {}
        #: Other names modules are imported by -> their names (``FileFacts.alias``).
        self.module_aliases: dict[str, str] = {}
        self.stars: dict[str, list[str]] = {}
        self.functions: dict[str, bool] = {}
        self.not_coroutines: set[str] = set()
        self.classes: dict[str, tuple[str, ...]] = {}
        self.fields: dict[str, dict[str, str]] = {}
        self.relations: dict[str, dict[str, tuple[str, str, str | None]]] = {}
        self.abstract: set[str] = set()
        self.app_labels: dict[str, str] = {}
        self.managers: dict[str, dict[str, tuple[str, ...]]] = {}
        self.queryset_methods: set[str] = set()
        self.model_refs: dict[str, str] = {}
        self.user_models: set[str] = set()
        self.routed_names: set[str] = set()
        self.calls: dict[str, set[str]] = {}
        self.entries: dict[str, str] = {}
        self.orm_refs: dict[str, set[str]] = {}
        self.async_orm: set[str] = set()
        self.facts: list[FileFacts] = []
        for item in facts:
            self.add(item)
        for contrib in CONTRIB:  # the table wins over a copy of Django in the tree
            for qualname in contrib.classes:
                for table in (self.fields, self.relations, self.managers):
                    table.pop(qualname, None)
                self.abstract.discard(qualname)
            self._merge(contrib)
        for qualname, model_fields in self.config.registry_models:
            self.classes.setdefault(qualname, ("django.db.models.Model",))
            self.fields.setdefault(qualname, {}).update(dict(model_fields))
        self._graph_memos()
        self._contexts: dict[str, frozenset[str]] | None = None
        self._canonical_memo: dict[str, tuple[str, _Touched]] = {}
        self._model_memo: dict[str, tuple[bool, frozenset[tuple[str, str, bool]]]] = {}
        self._reach_memo: dict[str, tuple[frozenset[str], _Touched]] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        """An index is its facts: a copy is built again from them (the memos of the
        answers given so far are no part of it, and would only weigh on a pickle)."""
        return (ProjectIndex, (self.facts, self.config, self.unread))

    def add(self, facts: FileFacts) -> None:
        self.facts.append(facts)
        self.modules.setdefault(facts.module, {}).update(facts.imports)
        if facts.alias:
            self.module_aliases.setdefault(facts.alias, facts.module)
        self._merge(facts)

    def _merge(self, facts: FileFacts) -> None:
        if facts.star_imports:
            self.stars.setdefault(facts.module, []).extend(facts.star_imports)
        self.functions.update(facts.functions)
        self.not_coroutines.update(facts.not_coroutines)
        self.classes.update(facts.classes)
        for name, values in facts.fields.items():
            self.fields.setdefault(name, {}).update(values)
        for name, managers in facts.managers.items():
            self.managers.setdefault(name, {}).update(managers)
        for name, relations in facts.relations.items():
            self.relations.setdefault(name, {}).update(relations)
        self.abstract.update(facts.abstract)
        self.app_labels.update(facts.app_labels)
        self.queryset_methods.update(facts.queryset_methods)
        self.model_refs.update(facts.model_refs)
        self.user_models.update(facts.user_models)
        self.routed_names.update(facts.routed)
        for name, callees in facts.calls.items():
            self.calls.setdefault(name, set()).update(callees)
        for name, context in facts.entries.items():
            self.entries.setdefault(name, context)
        for name, refs in facts.orm_refs.items():
            self.orm_refs.setdefault(name, set()).update(refs)
        self.async_orm.update(facts.async_orm)

    @cached_property
    def async_names(self) -> frozenset[str]:
        """The last part of every ``async def``'s name, and of every configured
        ``known-async`` name."""
        names = [q for q, is_async in self.functions.items() if is_async]
        return frozenset(q.rsplit(".", 1)[-1] for q in [*names, *self.config.known_async])

    # --- names -------------------------------------------------------------------

    def canonical(self, qualname: str, trail: Trail | None = None, types: bool = False) -> str:
        """Follow re-exports (``from .position import Position`` in a package) and
        methods inherited from bases, to the name where the thing is defined."""
        name, touched = self._resolve(qualname)
        if trail is not None and touched:
            trail.update((module, looked_up, types) for module, looked_up in touched)
        return name

    def _resolve(self, qualname: str) -> tuple[str, _Touched]:
        memo = self._canonical_memo.get(qualname)
        if memo is None:
            touched: set[tuple[str, str]] = set()
            memo = (self._canonical(qualname, touched), frozenset(touched))
            self._canonical_memo[qualname] = memo
        return memo

    def _module_imports(
        self, module: str, name: str, touched: set[tuple[str, str]]
    ) -> dict[str, str]:
        """``module``'s imports, where ``name`` is looked up (a lookup into an unread
        module is remembered in ``touched``)."""
        found = self.modules.get(module)
        if found is None:
            if module in self.unread:
                touched.add((module, name))
            return {}
        return found

    def _canonical(self, qualname: str, touched: set[tuple[str, str]]) -> str:
        seen: set[str] = set()
        name = qualname
        while name not in seen and len(seen) < 20:
            seen.add(name)
            if name in self.functions or name in self.classes:
                return name
            if name in self.model_refs:  # ``User = get_user_model()``: the model it names
                looked: Trail = set()
                model = self.reference(self.model_refs[name], "", looked)
                touched.update((module, looked_up) for module, looked_up, _ in looked)
                return model or name
            parts = name.split(".")
            moved = False
            for i in range(len(parts) - 1, 0, -1):
                module, rest = ".".join(parts[:i]), parts[i:]
                aliased = self.module_aliases.get(module)
                if aliased is not None and module not in self.modules:
                    name = ".".join([aliased, *rest])  # the module under its own name
                    moved = True
                    break
                target = self._module_imports(module, rest[0], touched).get(rest[0])
                if target:
                    name = ".".join([target, *rest[1:]])
                    moved = True
                    break
                provider = self._star_provider(module, rest[0], {module}, touched)
                if provider is not None:
                    name = ".".join([provider, *rest])
                    moved = True
                    break
                if module in self.modules or module in self.unread:
                    break  # a module of the tree defines ``rest[0]``: no shorter prefix can
                owner = ".".join(parts[:i])
                if owner in self.classes and len(rest) == 1:
                    inherited = self._inherited(owner, rest[0], touched)
                    if inherited:
                        return inherited
            if not moved:
                return name
        return name

    def _star_provider(
        self, module: str, name: str, seen: set[str], touched: set[tuple[str, str]]
    ) -> str | None:
        """The module that ``from X import *`` in ``module`` takes public ``name`` from
        (``__all__`` is not read: a public name counts as exported)."""
        if name.startswith("_"):
            return None
        for star in self.stars.get(module, ()):
            if star in seen:
                continue
            seen.add(star)
            qualname = f"{star}.{name}"
            if (
                name in self._module_imports(star, name, touched)
                or qualname in self.functions
                or qualname in self.classes
            ):
                return star
            deeper = self._star_provider(star, name, seen, touched)
            if deeper is not None:
                return deeper
        return None

    def _inherited(self, klass: str, attr: str, touched: set[tuple[str, str]]) -> str | None:
        queue = deque(self.classes.get(klass, ()))
        seen: set[str] = set()
        while queue:
            base, passed = self._resolve(queue.popleft())
            touched.update(passed)
            if base in seen:
                continue
            seen.add(base)
            if f"{base}.{attr}" in self.functions:
                return f"{base}.{attr}"
            queue.extend(self.classes.get(base, ()))
        return None

    # --- models ------------------------------------------------------------------

    def is_model(self, qualname: str, trail: Trail | None = None) -> bool:
        """True for a class that subclasses ``django.db.models.Model`` (through any bases)."""
        memo = self._model_memo.get(qualname)
        if memo is None:
            looked: Trail = set()
            memo = (self._is_model(qualname, looked), frozenset(looked))
            self._model_memo[qualname] = memo
        if trail is not None:
            trail.update(memo[1])
        return memo[0]

    def _is_model(self, qualname: str, trail: Trail) -> bool:
        seen: set[str] = set()
        queue = deque([qualname])
        while queue:
            name = queue.popleft()
            if name in MODEL_ROOTS:
                return name != qualname
            name = self.canonical(name, trail, types=True)
            if name in MODEL_ROOTS:
                return name != qualname
            if name in seen:
                continue
            seen.add(name)
            queue.extend(self.classes.get(name, ()))
        return False

    def _lineage(self, qualname: str, trail: Trail | None) -> list[str]:
        order: list[str] = []
        queue = deque([self.canonical(qualname, trail, types=True)])
        while queue:
            name = queue.popleft()
            if name in order:
                continue
            order.append(name)
            queue.extend(self.canonical(b, trail, types=True) for b in self.classes.get(name, ()))
        return order

    def model_fields(self, qualname: str, trail: Trail | None = None) -> dict[str, str]:
        """Field name -> kind ("fk", "o2o", "m2m", "field"), inherited fields included."""
        if not self.is_model(qualname, trail):
            return {}
        merged: dict[str, str] = {}
        for name in reversed(self._lineage(qualname, trail)):
            merged.update(self.fields.get(name, {}))
        return merged

    def model_managers(self, qualname: str, trail: Trail | None = None) -> frozenset[str]:
        """Manager attribute names of a model (``objects`` and declared managers)."""
        if not self.is_model(qualname, trail):
            return frozenset()
        names = set(MANAGER_ATTRS) | set(self.config.registry_managers)
        for name in self._lineage(qualname, trail):
            for attr, sources in self.managers.get(name, {}).items():
                if self.is_manager(sources, trail):
                    names.add(attr)
        return frozenset(names)

    # --- functions ---------------------------------------------------------------

    def is_coroutine_function(self, qualname: str, trail: Trail | None = None) -> bool:
        if qualname in self.config.known_async:
            return True
        name = self.canonical(qualname, trail, types=True)
        if name in self.not_coroutines:
            return False  # an async generator, or rewrapped by a decorator: not surely one
        return self.functions.get(name, False) or name in self.config.known_async

    def class_role(self, qualname: str, trail: Trail | None = None) -> str | None:
        """The framework role of a class through its bases in any file (command, view ...),
        or ``view`` when a URLconf routes it."""
        lineage = self._lineage(qualname, trail)
        if self.routed_names and self.routed(lineage[0], trail):
            return "view"
        for name in lineage:
            role = class_kind(self.classes.get(name, ()))
            if role is not None:
                return role
        return None

    def entry_context(self, qualname: str, trail: Trail | None = None) -> str | None:
        """The entry-point context the code declares for the function ``qualname`` names."""
        return self.entries.get(self.canonical(qualname, trail, types=True))

    def _inherited_entries(self) -> dict[str, str]:
        """Methods that are entry points because a project base class makes them so."""
        found: dict[str, str] = {}
        roles: dict[str, str | None] = {}
        for name in self.functions:
            owner, _, method = name.rpartition(".")
            if owner in self.classes and not class_kind(self.classes[owner]):
                if owner not in roles:
                    roles[owner] = self.class_role(owner)
                context = method_context(roles[owner], method)
                if context:
                    found[name] = context
        return found

    def _graph_contexts(self) -> dict[str, frozenset[str]]:
        """Every function's contexts, from every entry point's calls at once.

        The graph is built from the facts at hand; the lookups it makes into unread
        modules are in no trail (whoever reads modules on demand must make sure the
        callers of a function that matters are read: they name it)."""
        if self._contexts is None:
            found: dict[str, set[str]] = {}
            entries = {**self._inherited_entries(), **self.entries}
            for entry, context in entries.items():
                start = self.canonical(entry)
                queue = deque([start])
                seen = {start}
                while queue:
                    name = queue.popleft()
                    found.setdefault(name, set()).add(context)
                    for callee in self.calls.get(name, ()):
                        target = self.canonical(callee)
                        if target not in seen and target in self.functions:
                            seen.add(target)
                            queue.append(target)
            self._contexts = {k: frozenset(v) for k, v in found.items()}
        return self._contexts

    def contexts_of(self, qualname: str, trail: Trail | None = None) -> frozenset[str]:
        """Entry-point contexts from which ``qualname`` is reached through resolvable calls."""
        return self._graph_contexts().get(self.canonical(qualname, trail), frozenset())

    def reachable(self, qualname: str, trail: Trail | None = None) -> frozenset[str]:
        """``qualname`` and every function it reaches through resolvable calls."""
        start = self.canonical(qualname, trail)
        memo = self._reach_memo.get(start)
        if memo is None:
            touched: set[tuple[str, str]] = set()
            seen = {start}
            queue = deque([start])
            while queue:
                for callee in self.calls.get(queue.popleft(), ()):
                    target, passed = self._resolve(callee)
                    touched.update(passed)
                    if target not in seen and target in self.functions:
                        seen.add(target)
                        queue.append(target)
            memo = self._reach_memo[start] = (frozenset(seen), frozenset(touched))
        if trail is not None and memo[1]:
            trail.update((module, name, False) for module, name in memo[1])
        return memo[0]

    def reaches_async_orm(self, qualname: str, trail: Trail | None = None) -> bool:
        """True when the function reaches ``sync_to_async`` or Django's async ORM API."""
        return any(name in self.async_orm for name in self.reachable(qualname, trail))

    def reaches_orm(self, qualname: str, trail: Trail | None = None) -> bool:
        """True when the function reaches a model's manager, ``sync_to_async`` or the async ORM."""
        return any(
            name in self.async_orm
            or any(
                ref in MODEL_FACTORIES or self.is_model(ref, trail)
                for ref in self.orm_refs.get(name, ())
            )
            for name in self.reachable(qualname, trail)
        )
