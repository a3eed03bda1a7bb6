"""What one file contributes to the project: a picklable :class:`FileFacts`.

One walk of the file (the same walker the rules use) records its imports and
re-exports, its functions (async or not) and classes with their bases, model
fields and managers, the calls each function makes, its entry points, the
``.objects`` receivers it reads, whether it reaches the async ORM, and which
functions call a sync->async bridge. Facts depend on the file's text alone, so
they are cached with it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from async_guard.audit.analysis.django_names import (
    ASYNC_ORM_METHODS,
    FIELD_KINDS,
    MANAGER_ATTRS,
    SYNC_TO_ASYNC,
)
from async_guard.audit.analysis.loop_calls import GET_LOOP, NEW_LOOP, bridge_of
from async_guard.audit.analysis.scope import Scope
from async_guard.audit.analysis.source import SourceFile
from async_guard.audit.analysis.walker import Walker
from async_guard.audit.config import Config

#: Words (in the meaning ``analysis.triggers`` gives them) without which a file's facts
#: hold no ``async def``, no bridge (``bridges``), no ``sync_to_async`` and no call of
#: the async ORM (``async_orm``): what other files' findings can depend on.
FACT_TRIGGERS = (
    "async", "asyncio", "async_to_sync", "AsyncToSync", "run_async", "run_until_complete",
    "get_event_loop", "new_event_loop", "sync_to_async", "SyncToAsync", *sorted(ASYNC_ORM_METHODS),
)  # fmt: skip


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
            if last in FIELD_KINDS:
                self.facts.fields.setdefault(scope.qualname, {})[target.id] = FIELD_KINDS[last]
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
