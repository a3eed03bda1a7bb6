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
import re

from async_guard.audit.analysis import model_facts
from async_guard.audit.analysis.django_names import (
    ASYNC_ORM_METHODS,
    GET_MODEL,
    GET_USER_MODEL,
    MANAGER_ATTRS,
    SYNC_TO_ASYNC,
)
from async_guard.audit.analysis.file_facts import FileFacts
from async_guard.audit.analysis.loop_calls import BRIDGE_TRIGGERS, GET_LOOP, NEW_LOOP, bridge_of
from async_guard.audit.analysis.scope import Scope
from async_guard.audit.analysis.source import SourceFile
from async_guard.audit.analysis.triggers import TriggerTest
from async_guard.audit.analysis.walker import Walker
from async_guard.audit.config import Config

__all__ = ["FACT_TRIGGERS", "GRAPH_TRIGGERS", "FactCollector", "FileFacts", "collect_facts"]

LOOP_MAKERS = NEW_LOOP | GET_LOOP

#: Words (in the meaning ``analysis.triggers`` gives them) without which a file's facts
#: hold no ``async def``, no bridge (``bridges``), no ``sync_to_async`` and no call of
#: the async ORM (``async_orm``): what other files' findings can depend on.
FACT_TRIGGERS = (
    "async", "asyncio", "async_to_sync", "AsyncToSync", "run_async", "run_until_complete",
    "get_event_loop", "new_event_loop", "sync_to_async", "SyncToAsync", *sorted(ASYNC_ORM_METHODS),
)  # fmt: skip
#: Words without which a file's facts hold nothing of Django's model graph that another
#: file's answer depends on with no lookup path to the file: a relation field assigned
#: (the reverse accessor it adds to the model it points to), a model's
#: ``Meta.app_label``, ``AUTH_USER_MODEL`` set at module level, a module-level name
#: bound by ``get_user_model()``/``apps.get_model()`` or a manager class made by
#: ``from_queryset()`` (names no text test finds a definition of), a URLconf's routes.
#: Whoever skips files reads every file whose text ``holds_graph_facts`` for its facts;
#: the fact collector records those facts only in such files, so a file the test rules
#: out surely holds none.
GRAPH_TRIGGERS = (
    "ForeignKey", "OneToOneField", "ManyToManyField", "ParentalKey", "AUTH_USER_MODEL",
    "app_label", "get_user_model", "get_model", "from_queryset", "urlpatterns",
    "router.register",
)  # fmt: skip
#: The words (as the speed layer splits a text into words) of which a text must hold one
#: to hold a graph fact.
GRAPH_WORDS = frozenset(
    word.encode()
    for word in (
        *(w for w in GRAPH_TRIGGERS if "." not in w),
        "register",
        "ParentalManyToManyField",
        "TreeForeignKey",
    )
)
#: Per word: what the text before it on its line, and right after it, must be for the
#: word to make a graph fact (each pattern is matched only where the word stands:
#: a pattern anchored at each line's start, tried at every position, cost a tenth of a
#: cold run).
_RELATION = (
    re.compile(r"[ \t]+\w+[ \t]*(?::[^=\n]*)?=[ \t]*(?:[\w.]+\.)?\w*$"),
    re.compile(r"\w*[ \t]*\("),
)
_MODULE_NAME = (re.compile(r"\w+[ \t]*=[ \t]*(?:[\w.]+\.)?$"), re.compile(r"[ \t]*\("))
_GRAPH_CONTEXT: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "ForeignKey": _RELATION,
    "OneToOneField": _RELATION,
    "ManyToManyField": _RELATION,
    "ParentalKey": _RELATION,
    "AUTH_USER_MODEL": (re.compile(r""), re.compile(r"[ \t]*=")),
    "app_label": (re.compile(r"[ \t]+"), re.compile(r"[ \t]*=[ \t]*[rbuRBU]*[\"']")),
    "get_user_model": _MODULE_NAME,
    "get_model": _MODULE_NAME,
    "from_queryset": _MODULE_NAME,
    "urlpatterns": (re.compile(r""), re.compile(r"(?!\w)")),
    "router.register": (re.compile(r"\w*$"), re.compile(r"")),
}


#: Per word: the word and what must follow it (a pattern that starts with the literal,
#: which ``re`` finds fast), and what must come before it on its line.
_GRAPH_SEARCH = tuple(
    (word, re.compile(re.escape(word) + after.pattern), before)
    for word, (before, after) in _GRAPH_CONTEXT.items()
)


def holds_graph_facts(text: str) -> bool:
    """``text`` may hold a fact of the model graph (see ``GRAPH_TRIGGERS``): one of
    its words where such a fact can stand (a relation field assigned in a class body,
    ``AUTH_USER_MODEL = ``, ``X = get_user_model(`` ... at module level, a module-level
    ``urlpatterns`` or ``router.register``)."""
    for word, found, before in _GRAPH_SEARCH:
        if word not in text:
            continue
        for match in found.finditer(text):
            at = match.start()
            if before.fullmatch(text, text.rfind("\n", 0, at) + 1, at):
                return True
    return False


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


class FactCollector:
    """Visitor (same protocol as the rules) that fills a :class:`FileFacts`."""

    def __init__(self, sf: SourceFile) -> None:
        self.sf = sf
        self.facts = FileFacts(module=sf.module, path=sf.path, alias=sf.alias)
        self.facts.imports = {k: v for k, v in sf.imports.items() if k not in sf.definitions}
        self.facts.star_imports = list(sf.star_imports)
        # most files name no bridge: their calls need no test for one
        self.may_bridge = TriggerTest(BRIDGE_TRIGGERS).search(sf.text) or sf.module.startswith(
            "asyncio"
        )
        #: Only a file that may hold graph facts records them (see ``GRAPH_TRIGGERS``).
        self.graph = holds_graph_facts(sf.text)
        #: Methods of manager and queryset classes being walked: their ``return`` values
        #: (None once one returns nothing, or the method yields).
        self.returns: dict[str, list[ast.expr] | None] = {}

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
        if model_facts.may_return_querysets(scope) and model_facts.plain_method(node):
            self.returns[scope.qualname] = []
        if scope.direct_context:
            self.facts.entries[scope.qualname] = scope.direct_context

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, scope: Scope) -> None:
        self.facts.functions[scope.qualname] = True
        if rewrapped(node):
            self.facts.not_coroutines.add(scope.qualname)
        if scope.direct_context:
            self.facts.entries[scope.qualname] = scope.direct_context

    def leave_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        if self.returns and model_facts.all_querysets(self.returns.pop(scope.qualname, None)):
            self.facts.queryset_methods.add(scope.qualname)

    def visit_Return(self, node: ast.Return, scope: Scope) -> None:
        function = scope.function
        if self.returns and function is not None and function.qualname in self.returns:
            values = self.returns[function.qualname]
            if values is not None and node.value is not None:
                values.append(node.value)
            else:
                self.returns[function.qualname] = None

    def visit_Yield(self, node: ast.Yield | ast.YieldFrom, scope: Scope) -> None:
        # An async def that yields is an async generator: calling it makes no coroutine.
        # (A yield belongs to the innermost function: a class body, a comprehension or a
        # generator expression cannot hold one.)
        function = scope.function
        if function is not None and function.is_async:
            self.facts.not_coroutines.add(function.qualname)
        elif function is not None and function.qualname in self.returns:
            self.returns[function.qualname] = None  # a generator

    visit_YieldFrom = visit_Yield

    def visit_ClassDef(self, node: ast.ClassDef, scope: Scope) -> None:
        self.facts.classes[scope.qualname] = scope.bases
        model_facts.class_body(self.sf, node, scope.qualname, self.facts, self.graph)

    def visit_Assign(self, node: ast.Assign, scope: Scope) -> None:
        if scope.kind == "module" and self.graph:
            model_facts.module_assignment(self.sf, node, self.sf.module, self.facts)

    def visit_Call(self, node: ast.Call, scope: Scope) -> None:
        owner = self._owner(scope)
        target = callee_name(self.sf, scope, node.func)
        calls = self.facts.calls.setdefault(owner, set())
        if self.may_bridge and (bridge_of(self.sf, node) is not None or target in LOOP_MAKERS):
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
        if self.graph and scope.kind == "module":
            model_facts.route(self.sf, node, self.facts)
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
            value = node.value
            receiver = callee_name(self.sf, scope, value)
            if receiver is None and isinstance(value, ast.Call):
                # ``get_user_model().objects``, ``apps.get_model(...).objects``: a model's
                called = self.sf.resolve(value.func)
                receiver = called if called in GET_USER_MODEL | GET_MODEL else None
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
