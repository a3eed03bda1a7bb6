"""Project-wide facts, merged across every scanned file.

Each file yields one picklable :class:`FileFacts` (cached with the file, so the
index is rebuilt incrementally: only changed files are parsed again); the
:class:`ProjectIndex` merges them and answers the rules' cross-file questions:
which classes are Django models (through bases in any file, plus the app
registry under ``manage.py``), their fields, which names are coroutine
functions, which entry-point contexts reach a function through resolvable calls.

The questions are the index's whole interface to the rules, and each is a pure
function of the facts. That is what lets the engine read other files on demand:

* with a ``journal`` the index records every question asked and its answer, so
  a file's findings are known to stand for as long as replaying its journal
  gives the same answers (:meth:`ProjectIndex.replay`);
* ``unread`` names the modules of the scanned tree whose facts are not in the
  index; a question whose answer passed through one of them adds it to
  ``missing``, and the engine reads it before it trusts the answer.
"""

from __future__ import annotations

import ast
import functools
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from async_guard.audit.bridges import GET_LOOP, NEW_LOOP, bridge_of
from async_guard.audit.config import Config
from async_guard.audit.context import Scope, Walker, class_kind, method_context
from async_guard.audit.source import SourceFile

MODEL_ROOTS = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
_FIELD_KINDS = {
    "ForeignKey": "fk",
    "OneToOneField": "o2o",
    "ManyToManyField": "m2m",
    "ParentalKey": "fk",
    "TreeForeignKey": "fk",
}
#: Django's async ORM API (the ``a``-prefixed methods of managers, querysets, instances).
ASYNC_ORM_METHODS = frozenset(
    {"aget", "acreate", "aget_or_create", "aupdate_or_create", "abulk_create", "abulk_update",
     "acount", "ain_bulk", "aiterator", "alatest", "aearliest", "afirst", "alast",
     "aaggregate", "aexists", "acontains", "aupdate", "adelete", "aexplain", "asave",
     "arefresh_from_db", "aadd", "aremove", "aclear", "aset"}
)  # fmt: skip
SYNC_TO_ASYNC = frozenset(
    {"asgiref.sync.sync_to_async", "asgiref.sync.SyncToAsync",
     "channels.db.database_sync_to_async"}
)  # fmt: skip
MANAGER_ATTRS = frozenset({"objects", "_default_manager", "_base_manager"})


def callee_name(sf: SourceFile, scope: Scope, expr: ast.AST) -> str | None:
    """Qualified name of what ``expr`` names, including ``self.method`` and ``cls.method``."""
    if (
        isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id in ("self", "cls")
    ):
        klass = scope.class_scope
        return f"{klass.qualname}.{expr.attr}" if klass is not None else None
    if isinstance(expr, ast.Name):
        # a function defined in an enclosing function body
        function = scope.function
        while function is not None:
            if expr.id in function.local_defs:
                return f"{function.qualname}.{expr.id}"
            function = function.parent.function if function.parent else None
    return sf.resolve(expr)


@dataclass
class FileFacts:
    """What one file contributes to the project index."""

    module: str
    path: str = ""
    imports: dict[str, str] = field(default_factory=dict)
    #: Modules it imports ``*`` from (their public names are its names too).
    star_imports: list[str] = field(default_factory=list)
    functions: dict[str, bool] = field(default_factory=dict)  # qualname -> is async
    # async defs whose call returns no coroutine: async generators, and those a
    # decorator may have turned into something else (``@async_to_sync``).
    not_coroutines: set[str] = field(default_factory=set)
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # qualname -> bases
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    managers: dict[str, set[str]] = field(default_factory=dict)
    calls: dict[str, set[str]] = field(default_factory=dict)
    entries: dict[str, str] = field(default_factory=dict)
    orm_refs: dict[str, set[str]] = field(default_factory=dict)
    async_orm: set[str] = field(default_factory=set)
    asyncio_runs: list[str] = field(default_factory=list)  # contexts, for --stats
    #: Functions that call a sync->async bridge (their findings depend on their context).
    bridges: set[str] = field(default_factory=set)


class FactCollector:
    """Visitor (same protocol as the rules) that fills a :class:`FileFacts`."""

    def __init__(self, sf: SourceFile) -> None:
        self.sf = sf
        self.facts = FileFacts(module=sf.module, path=sf.path)
        self.facts.imports = {k: v for k, v in sf.imports.items() if k not in sf.definitions}
        self.facts.star_imports = list(sf.star_imports)

    def _owner(self, scope: Scope) -> str:
        function = scope.function
        if function is not None:
            return function.qualname
        return (
            f"{self.sf.module}.<script>"
            if scope.context == "script"
            else f"{self.sf.module}.<module>"
        )

    def visit_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        self.facts.functions[scope.qualname] = False
        if scope.direct_context:
            self.facts.entries[scope.qualname] = scope.direct_context

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, scope: Scope) -> None:
        self.facts.functions[scope.qualname] = True
        if rewrapped(node):
            self.facts.not_coroutines.add(scope.qualname)
        if scope.direct_context:
            self.facts.entries[scope.qualname] = scope.direct_context

    def visit_Yield(self, node: ast.Yield | ast.YieldFrom, scope: Scope) -> None:
        # An async def that yields is an async generator: calling it makes no coroutine.
        # (A yield belongs to the innermost function: a class body, a comprehension or a
        # generator expression cannot hold one.)
        function = scope.function
        if function is not None and function.is_async:
            self.facts.not_coroutines.add(function.qualname)

    visit_YieldFrom = visit_Yield

    def visit_ClassDef(self, node: ast.ClassDef, scope: Scope) -> None:
        self.facts.classes[scope.qualname] = scope.bases
        for stmt in node.body:
            target: ast.expr | None = None
            value: ast.expr | None = None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, ast.AnnAssign):
                target, value = stmt.target, stmt.value
            if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
                continue
            called = self.sf.resolve(value.func) or ""
            last = called.rsplit(".", 1)[-1] if called else getattr(value.func, "attr", "")
            if last in _FIELD_KINDS:
                self.facts.fields.setdefault(scope.qualname, {})[target.id] = _FIELD_KINDS[last]
            elif last.endswith("Field"):
                self.facts.fields.setdefault(scope.qualname, {})[target.id] = "field"
            elif last.endswith("Manager") or (
                isinstance(value.func, ast.Attribute)
                and value.func.attr in ("as_manager", "from_queryset")
            ):
                self.facts.managers.setdefault(scope.qualname, set()).add(target.id)

    def visit_Call(self, node: ast.Call, scope: Scope) -> None:
        owner = self._owner(scope)
        target = callee_name(self.sf, scope, node.func)
        calls = self.facts.calls.setdefault(owner, set())
        if bridge_of(self.sf, node) is not None or target in NEW_LOOP | GET_LOOP:
            self.facts.bridges.add(owner)
        if target:
            calls.add(target)
            if target in SYNC_TO_ASYNC:
                self.facts.async_orm.add(owner)
            if target == "asyncio.run":
                self.facts.asyncio_runs.append(scope.context)
        # functions handed to bridges, executors, ``connect`` ... are reached too
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(arg, (ast.Name, ast.Attribute)):
                ref = callee_name(self.sf, scope, arg)
                if ref:
                    calls.add(ref)
        if isinstance(node.func, ast.Attribute):
            if node.func.attr in ASYNC_ORM_METHODS:
                self.facts.async_orm.add(owner)
            if node.func.attr == "connect" and node.args:
                signal = self.sf.resolve(node.func.value) or ""
                handler = callee_name(self.sf, scope, node.args[0])
                if handler and ("signals" in signal or "signal" in dotted_tail(node.func.value)):
                    self.facts.entries.setdefault(handler, "signal-receiver")

    def visit_Attribute(self, node: ast.Attribute, scope: Scope) -> None:
        if node.attr in MANAGER_ATTRS:
            receiver = callee_name(self.sf, scope, node.value)
            if receiver:
                self.facts.orm_refs.setdefault(self._owner(scope), set()).add(receiver)

    def visit_If(self, node: ast.If, scope: Scope) -> None:
        if scope.kind == "module" and scope.context == "script":
            self.facts.entries.setdefault(f"{self.sf.module}.<script>", "script")


#: Decorators that leave an ``async def`` a coroutine function; any other one
#: (``@async_to_sync``, a project's own wrapper) may not, and precision comes first.
KEEPS_COROUTINE = frozenset(
    {"staticmethod", "classmethod", "abstractmethod", "override", "wraps", "shared_task",
     "task", "retry", "on_exception", "on_predicate", "cache", "lru_cache", "fixture",
     "parametrize", "asyncio"}
)  # fmt: skip


def rewrapped(node: ast.AsyncFunctionDef) -> bool:
    """A decorator of ``node`` may make calling it return something other than a coroutine."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if dotted_tail(target) not in KEEPS_COROUTINE:
            return True
    return False


def dotted_tail(expr: ast.AST) -> str:
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Name):
        return expr.id
    return ""


def collect_facts(sf: SourceFile, config: Config | None = None) -> FileFacts:
    collector = FactCollector(sf)
    Walker(sf, [collector], None, (config or Config()).task_decorators).run()
    return collector.facts


_Answer = TypeVar("_Answer")
#: One question to the index and its answer: ``(method name, qualified name) -> answer``.
Journal = dict[tuple[str, str], Any]


#: Questions about what a name is (a class, a model, a coroutine function), as against
#: what a function reaches through its calls: see ``ProjectIndex.undefined``.
_TYPE_QUESTIONS = frozenset(
    {"is_model", "model_fields", "model_managers", "class_role", "is_coroutine_function"}
)


def _question(
    method: Callable[[ProjectIndex, str], _Answer],
) -> Callable[[ProjectIndex, str], _Answer]:
    """A question the rules may ask: journaled when the index keeps a journal."""
    name = method.__name__
    about_types = name in _TYPE_QUESTIONS

    coroutine = name == "is_coroutine_function"

    @functools.wraps(method)
    def asked(self: ProjectIndex, qualname: str) -> _Answer:
        outer = self._about_types, self._coroutine
        self._about_types = about_types
        self._coroutine = qualname.rsplit(".", 1)[-1] if coroutine else None
        try:
            answer = method(self, qualname)
        finally:
            self._about_types, self._coroutine = outer
        if self.journal is not None:
            self.journal[(name, qualname)] = answer
        return answer

    return asked


class ProjectIndex:
    """Merged facts of every scanned file (and the app registry, when there is one)."""

    def __init__(
        self,
        facts: Iterable[FileFacts] = (),
        config: Config | None = None,
        unread: Collection[str] = (),
        aliased: Collection[str] | None = None,
    ) -> None:
        self.config = config or Config()
        #: The names any file of the tree may give something with ``as``, when the
        #: engine knows them (None: any name may be one). A name that no async def of
        #: the tree has and no file renames anything to cannot come to be a coroutine
        #: function by reading a module (see ``_miss_mode``).
        self.aliased = None if aliased is None else frozenset(aliased)
        #: Modules of the scanned tree whose facts this index does not have.
        self.unread = frozenset(unread)
        #: Unread modules that a question's answer passed through (see the module doc).
        self.missing: set[str] = set()
        #: The same misses with the name looked up in each module and what would make
        #: the module matter (``_miss_mode``): what ``undefined`` needs, for a walk in a
        #: worker, which has no ``undefined``, to report to the engine, which does (see
        #: ``missing_of``).
        self.misses: set[tuple[str, str, str]] = set()
        #: Every question asked and its answer, while not None.
        self.journal: Journal | None = None
        #: ``undefined(module, name, classes)``: True when the unread module's text surely
        #: neither imports ``name`` (nor imports ``*``) nor, when ``classes``, defines a
        #: class ``name``. An answer about what a name is cannot then change by reading
        #: the module, so such a miss is no demand (see ``_miss_mode``). Set by the
        #: engine, which has the texts; not sent to the workers.
        self.undefined: Callable[[str, str, bool], bool] | None = None
        self._about_types = False
        #: Inside ``is_coroutine_function(q)``: the last part of ``q``.
        self._coroutine: str | None = None
        self._async_names: frozenset[str] | None = None
        self._quiet = 0  # > 0 while the call graph is built: its misses are not demands
        self._touched: set[tuple[str, str]] = set()
        self.modules: dict[str, dict[str, str]] = {}
        self.stars: dict[str, list[str]] = {}
        self.functions: dict[str, bool] = {}
        self.not_coroutines: set[str] = set()
        self.classes: dict[str, tuple[str, ...]] = {}
        self.fields: dict[str, dict[str, str]] = {}
        self.managers: dict[str, set[str]] = {}
        self.calls: dict[str, set[str]] = {}
        self.entries: dict[str, str] = {}
        self.orm_refs: dict[str, set[str]] = {}
        self.async_orm: set[str] = set()
        self.facts: list[FileFacts] = []
        for item in facts:
            self.add(item)
        for qualname, model_fields in self.config.registry_models:
            self.classes.setdefault(qualname, ("django.db.models.Model",))
            self.fields.setdefault(qualname, {}).update(dict(model_fields))
        self._contexts: dict[str, frozenset[str]] | None = None
        self._canonical_memo: dict[str, tuple[str, frozenset[tuple[str, str]]]] = {}
        self._model_memo: dict[str, bool] = {}
        self._reach_memo: dict[str, frozenset[str]] = {}

    def add(self, facts: FileFacts) -> None:
        self.facts.append(facts)
        self.modules.setdefault(facts.module, {}).update(facts.imports)
        if facts.star_imports:
            self.stars.setdefault(facts.module, []).extend(facts.star_imports)
        self.functions.update(facts.functions)
        self.not_coroutines.update(facts.not_coroutines)
        self.classes.update(facts.classes)
        for name, values in facts.fields.items():
            self.fields.setdefault(name, {}).update(values)
        for name, managers in facts.managers.items():
            self.managers.setdefault(name, set()).update(managers)
        for name, callees in facts.calls.items():
            self.calls.setdefault(name, set()).update(callees)
        for name, context in facts.entries.items():
            self.entries.setdefault(name, context)
        for name, refs in facts.orm_refs.items():
            self.orm_refs.setdefault(name, set()).update(refs)
        self.async_orm.update(facts.async_orm)

    def replay(self, journal: Journal) -> bool:
        """True when every question of ``journal`` still has the answer it recorded.

        Every question is asked again, even after one has changed, so that
        ``missing`` collects all the unread modules their answers pass through.
        """
        saved, self.journal = self.journal, None
        try:
            changed = [getattr(self, m)(name) != answer for (m, name), answer in journal.items()]
        finally:
            self.journal = saved
        return not any(changed)

    # --- names -------------------------------------------------------------------

    def canonical(self, qualname: str) -> str:
        """Each resolution remembers the unread modules it passed through, with the name
        it looked up in each (see ``undefined``)."""
        memo = self._canonical_memo.get(qualname)
        if memo is None:
            outer, self._touched = self._touched, set()
            try:
                memo = (self._canonical(qualname), frozenset(self._touched))
            finally:
                self._touched = outer
            self._canonical_memo[qualname] = memo
        self._touched.update(memo[1])  # what a nested resolution passed, the outer one did
        if memo[1] and not self._quiet and (mode := self._miss_mode()) != "none":
            self.misses.update((module, name, mode) for module, name in memo[1])
            self.missing.update(self.missing_of((m, n, mode) for m, n in memo[1]))
        return memo[0]

    def _miss_mode(self) -> str:
        """What would make an unread module matter to the question being answered:
        ``"any"`` (a question about calls: anything), ``"class"`` (what a name is: the
        module defines a class of that name, or imports it), ``"import"`` (whether a
        name is a coroutine function, when no async def of the tree has its last name:
        an unread module holds no ``async def``, so only a re-export can lead to one;
        a class it defines could, through a base, only lead to a method of that name),
        ``"none"`` (nothing: no async def has the name and no file renames to it)."""
        if not self._about_types:
            return "any"
        if self._coroutine is None:
            return "class"
        if self._async_names is None:
            names = [q for q, is_async in self.functions.items() if is_async]
            self._async_names = frozenset(
                q.rsplit(".", 1)[-1] for q in [*names, *self.config.known_async]
            )
        if self._coroutine in self._async_names:
            return "class"
        if self.aliased is None or self._coroutine in self.aliased:
            return "import"
        # every step of a resolution (a re-export, a star import, an inherited method)
        # keeps the last name, but for an ``as``: no async def can be reached
        return "none"

    def missing_of(self, misses: Iterable[tuple[str, str, str]]) -> set[str]:
        """The modules ``misses`` (see ``misses``) demand, as ``missing`` would hold them."""
        undefined = self.undefined
        return {
            module
            for module, name, mode in misses
            if mode == "any" or undefined is None or not undefined(module, name, mode == "class")
        }

    def _module_imports(self, module: str, name: str) -> dict[str, str]:
        """``module``'s imports, where ``name`` is looked up (a miss if it is unread)."""
        found = self.modules.get(module)
        if found is None:
            if module in self.unread:
                self._touched.add((module, name))
            return {}
        return found

    def __getstate__(self) -> dict[str, Any]:
        """What a worker needs: the facts. Not the engine's text test, nor the answers
        the engine's replays memoized (they travelled to every worker each round)."""
        state = dict(vars(self))
        state.update(
            undefined=None, journal=None, missing=set(), misses=set(), _touched=set(),
            _contexts=None, _canonical_memo={}, _model_memo={}, _reach_memo={},
            _async_names=None,
        )  # fmt: skip
        return state

    def _canonical(self, qualname: str) -> str:
        """Follow re-exports (``from .position import Position`` in a package) and methods
        inherited from bases, to the name where the thing is defined."""
        seen: set[str] = set()
        name = qualname
        while name not in seen and len(seen) < 20:
            seen.add(name)
            if name in self.functions or name in self.classes:
                return name
            parts = name.split(".")
            moved = False
            for i in range(len(parts) - 1, 0, -1):
                module, rest = ".".join(parts[:i]), parts[i:]
                target = self._module_imports(module, rest[0]).get(rest[0])
                if target:
                    name = ".".join([target, *rest[1:]])
                    moved = True
                    break
                provider = self._star_provider(module, rest[0], {module})
                if provider is not None:
                    name = ".".join([provider, *rest])
                    moved = True
                    break
                if module in self.modules or module in self.unread:
                    break  # a module of the tree defines ``rest[0]``: no shorter prefix can
                owner = ".".join(parts[:i])
                if owner in self.classes and len(rest) == 1:
                    inherited = self._inherited(owner, rest[0])
                    if inherited:
                        return inherited
            if not moved:
                return name
        return name

    def _star_provider(self, module: str, name: str, seen: set[str]) -> str | None:
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
                name in self._module_imports(star, name)
                or qualname in self.functions
                or qualname in self.classes
            ):
                return star
            deeper = self._star_provider(star, name, seen)
            if deeper is not None:
                return deeper
        return None

    def _inherited(self, klass: str, attr: str) -> str | None:
        queue = deque(self.classes.get(klass, ()))
        seen: set[str] = set()
        while queue:
            base = self.canonical(queue.popleft())
            if base in seen:
                continue
            seen.add(base)
            if f"{base}.{attr}" in self.functions:
                return f"{base}.{attr}"
            queue.extend(self.classes.get(base, ()))
        return None

    # --- models ------------------------------------------------------------------

    @_question
    def is_model(self, qualname: str) -> bool:
        """True for a class that subclasses ``django.db.models.Model`` (through any bases)."""
        if qualname not in self._model_memo:
            self._model_memo[qualname] = self._is_model(qualname)
        return self._model_memo[qualname]

    def _is_model(self, qualname: str) -> bool:
        seen: set[str] = set()
        queue = deque([qualname])
        while queue:
            name = queue.popleft()
            if name in MODEL_ROOTS:
                return name != qualname
            name = self.canonical(name)
            if name in MODEL_ROOTS:
                return name != qualname
            if name in seen:
                continue
            seen.add(name)
            queue.extend(self.classes.get(name, ()))
        return False

    def _lineage(self, qualname: str) -> list[str]:
        order: list[str] = []
        queue = deque([self.canonical(qualname)])
        while queue:
            name = queue.popleft()
            if name in order:
                continue
            order.append(name)
            queue.extend(self.canonical(b) for b in self.classes.get(name, ()))
        return order

    @_question
    def model_fields(self, qualname: str) -> dict[str, str]:
        """Field name -> kind ("fk", "o2o", "m2m", "field"), inherited fields included."""
        if not self.is_model(qualname):
            return {}
        merged: dict[str, str] = {}
        for name in reversed(self._lineage(qualname)):
            merged.update(self.fields.get(name, {}))
        return merged

    @_question
    def model_managers(self, qualname: str) -> frozenset[str]:
        """Manager attribute names of a model (``objects`` and declared managers)."""
        if not self.is_model(qualname):
            return frozenset()
        names = set(MANAGER_ATTRS) | set(self.config.registry_managers)
        for name in self._lineage(qualname):
            names |= self.managers.get(name, set())
        return frozenset(names)

    # --- functions ---------------------------------------------------------------

    @_question
    def is_coroutine_function(self, qualname: str) -> bool:
        if qualname in self.config.known_async:
            return True
        name = self.canonical(qualname)
        if name in self.not_coroutines:
            return False  # an async generator, or rewrapped by a decorator: not surely one
        return self.functions.get(name, False) or name in self.config.known_async

    @_question
    def is_function(self, qualname: str) -> bool:
        return self.canonical(qualname) in self.functions

    @_question
    def class_role(self, qualname: str) -> str | None:
        """The framework role of a class through its bases in any file (command, view ...)."""
        return self._role(qualname)

    def _role(self, qualname: str) -> str | None:
        # not memoized here: a memo filled while the graph is built would hide misses
        for name in self._lineage(qualname):
            role = class_kind(self.classes.get(name, ()))
            if role is not None:
                return role
        return None

    def _inherited_entries(self) -> dict[str, str]:
        """Methods that are entry points because a project base class makes them so."""
        found: dict[str, str] = {}
        roles: dict[str, str | None] = {}
        for name in self.functions:
            owner, _, method = name.rpartition(".")
            if owner in self.classes and not class_kind(self.classes[owner]):
                if owner not in roles:
                    roles[owner] = self._role(owner)
                context = method_context(roles[owner], method)
                if context:
                    found[name] = context
        return found

    def _graph_contexts(self) -> dict[str, frozenset[str]]:
        if self._contexts is None:
            # The graph is built from every entry point's calls at once. What it passes
            # through unread is no demand: a file that calls a context-sensitive function
            # names it, so the engine has read it already (see engine.py).
            self._quiet += 1
            try:
                self._contexts = self._build_graph()
            finally:
                self._quiet -= 1
        return self._contexts

    def _build_graph(self) -> dict[str, frozenset[str]]:
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
        return {k: frozenset(v) for k, v in found.items()}

    @_question
    def contexts_of(self, qualname: str) -> frozenset[str]:
        """Entry-point contexts from which ``qualname`` is reached through resolvable calls."""
        return self._graph_contexts().get(self.canonical(qualname), frozenset())

    def reachable(self, qualname: str) -> frozenset[str]:
        """``qualname`` and every function it reaches through resolvable calls."""
        start = self.canonical(qualname)
        if start not in self._reach_memo:
            self._reach_memo[start] = self._reach_uncached(start)
        return self._reach_memo[start]

    def _reach_uncached(self, start: str) -> frozenset[str]:
        seen = {start}
        queue = deque([start])
        while queue:
            for callee in self.calls.get(queue.popleft(), ()):
                target = self.canonical(callee)
                if target not in seen and target in self.functions:
                    seen.add(target)
                    queue.append(target)
        return frozenset(seen)

    @_question
    def reaches_async_orm(self, qualname: str) -> bool:
        """True when the function reaches ``sync_to_async`` or Django's async ORM API."""
        return any(name in self.async_orm for name in self.reachable(qualname))

    @_question
    def reaches_orm(self, qualname: str) -> bool:
        """True when the function reaches a model's manager, ``sync_to_async`` or the async ORM."""
        return any(
            name in self.async_orm or any(self.is_model(ref) for ref in self.orm_refs.get(name, ()))
            for name in self.reachable(qualname)
        )
