"""One walk per file: a stack of scopes and the entry-point context of each.

The walker visits every node once and fans it out to every visitor (the rules,
or the index's fact collector) that defines ``visit_<NodeClass>``, then to
``leave_<NodeClass>`` after the children. A function's decorators, default
values and annotations are evaluated where the ``def`` stands, so they are
visited in the enclosing scope; its body in its own.

Contexts come from decorators (``@shared_task``, ``@receiver``, ``@api_view``,
``@require_POST`` ...), class bases (``BaseCommand``, ``MiddlewareMixin``,
``View`` and subclasses, celery ``Task``) and Django conventions (a ``views.py``
function taking ``request``, a middleware's ``__call__``/``process_*``, a
command's ``handle``); the project index adds the contexts that reach a helper
through resolvable calls.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from async_guard.audit.finding import CONTEXTS

if TYPE_CHECKING:
    from async_guard.audit.index import ProjectIndex
    from async_guard.audit.source import SourceFile

ScopeKind = Literal["module", "class", "function"]

#: Contexts that are entry points (rules test membership).
ENTRY_CONTEXTS = CONTEXTS[:6]
#: Entry points that run inside a sync thread the framework owns (a worker, a request).
SYNC_ENTRY_CONTEXTS = ("celery-task", "view", "signal-receiver", "middleware")

_TASK_DECORATORS = frozenset({"shared_task", "task", "periodic_task", "actor"})
_VIEW_DECORATOR_MODULES = (
    "django.views.decorators.",
    "django.contrib.auth.decorators.",
    "django.contrib.admin.views.decorators.",
    "rest_framework.decorators.",
    "ninja.",
)
_VIEW_DECORATOR_NAMES = frozenset(
    {"api_view", "require_GET", "require_POST", "require_safe", "require_http_methods",
     "login_required", "permission_required", "csrf_exempt", "staff_member_required"}
)  # fmt: skip
_COMMAND_BASES = frozenset({"BaseCommand", "LabelCommand", "AppCommand"})
_MIDDLEWARE_METHODS = frozenset(
    {"__call__", "process_request", "process_view", "process_response",
     "process_exception", "process_template_response"}
)  # fmt: skip
_VIEW_BASE_SUFFIXES = ("View", "ViewSet", "APIView")


@dataclass
class Scope:
    """Where the walker is: the module, a class body or a function body."""

    kind: ScopeKind
    node: ast.AST
    qualname: str
    is_async: bool = False
    context: str = "module"
    parent: Scope | None = None
    #: Entry context declared by the code itself (decorator, base, convention), or None.
    direct_context: str | None = None
    bases: tuple[str, ...] = field(default=())
    #: Names of the functions defined directly in this function's body.
    local_defs: frozenset[str] = field(default=frozenset())
    #: For a class: follows Django's middleware convention (see _is_middleware_class).
    middleware_convention: bool = False

    @property
    def class_scope(self) -> Scope | None:
        scope = self.parent if self.kind == "class" else self
        while scope is not None and scope.kind != "class":
            scope = scope.parent
        return scope

    @property
    def function(self) -> Scope | None:
        scope: Scope | None = self
        while scope is not None and scope.kind != "function":
            scope = scope.parent
        return scope

    @property
    def in_async(self) -> bool:
        """True when code here runs on the event loop (the innermost function is async)."""
        function = self.function
        return function is not None and function.is_async


def _decorator_name(sf: SourceFile, node: ast.expr) -> tuple[str, str]:
    target = node.func if isinstance(node, ast.Call) else node
    resolved = sf.resolve(target) or ""
    written = ""
    if isinstance(target, ast.Name):
        written = target.id
    elif isinstance(target, ast.Attribute):
        written = target.attr
    return resolved, written


def decorator_context(sf: SourceFile, node: ast.expr, task_decorators: Iterable[str]) -> str | None:
    resolved, written = _decorator_name(sf, node)
    last = resolved.rsplit(".", 1)[-1] if resolved else written
    extra = set(task_decorators)
    if resolved in extra or last in extra or written in extra:
        return "celery-task"
    if last in _TASK_DECORATORS and (
        resolved.startswith(("celery.", "dramatiq.", "huey."))
        or (last != "actor" and isinstance(getattr(node, "func", node), ast.Attribute))
        or last == "shared_task"
    ):
        return "celery-task"
    if last == "receiver" and (
        resolved.startswith("django.") or not resolved or resolved == "receiver"
    ):
        return "signal-receiver"
    if resolved.startswith(_VIEW_DECORATOR_MODULES) or (
        not resolved.startswith(("builtins.",)) and last in _VIEW_DECORATOR_NAMES
    ):
        return "view"
    if last == "action" and resolved.startswith("rest_framework."):
        return "view"
    return None


def class_bases(sf: SourceFile, node: ast.ClassDef) -> tuple[str, ...]:
    bases: list[str] = []
    for base in node.bases:
        target = base.value if isinstance(base, ast.Subscript) else base
        name = sf.resolve(target)
        if name is None and isinstance(target, (ast.Name, ast.Attribute)):
            name = target.id if isinstance(target, ast.Name) else target.attr
        if name:
            bases.append(name)
    return tuple(bases)


def class_kind(bases: Iterable[str]) -> str | None:
    """The framework role a class plays, from its (resolved) base names."""
    for base in bases:
        last = base.rsplit(".", 1)[-1]
        if last in _COMMAND_BASES:
            return "management-command"
        if last == "MiddlewareMixin":
            return "middleware"
        if last.endswith(_VIEW_BASE_SUFFIXES) and not last.startswith("Async"):
            return "view"
        if last == "Task" and (
            base.startswith("celery.")
            or base == "Task"
            or base.endswith(("app.Task", "celery.Task"))
        ):
            return "celery-task"
    return None


def method_context(
    role: str | None, method: str, middleware_convention: bool = False
) -> str | None:
    """The entry context of method ``method`` of a class playing ``role``."""
    if role == "management-command":
        return role if method == "handle" else None
    if role == "middleware" or middleware_convention:
        return "middleware" if method in _MIDDLEWARE_METHODS else None
    if role == "view":
        return "view" if not method.startswith("_") else None
    if role == "celery-task":
        return role if method == "run" else None
    return None


def function_context(
    sf: SourceFile,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    parent: Scope,
    task_decorators: Iterable[str] = (),
    index: ProjectIndex | None = None,
) -> str | None:
    """The entry context the code declares for this function, if any."""
    for decorator in node.decorator_list:
        found = decorator_context(sf, decorator, task_decorators)
        if found:
            return found
    if parent.kind == "class":
        role = class_kind(parent.bases)
        if role is None and index is not None:
            role = index.class_role(parent.qualname)
        return method_context(role, node.name, parent.middleware_convention)
    if parent.kind == "module" and _in_views_module(sf):
        args = node.args.posonlyargs + node.args.args
        if args and args[0].arg == "request":
            return "view"
    return None


def _is_middleware_class(scope: Scope) -> bool:
    """Django's middleware convention: ``__init__(self, get_response)`` plus ``__call__``."""
    node = scope.node
    if not isinstance(node, ast.ClassDef):
        return False
    methods = {
        stmt.name: stmt
        for stmt in node.body
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    init = methods.get("__init__")
    if init is None or "__call__" not in methods:
        return False
    return any(arg.arg == "get_response" for arg in init.args.args)


def _in_views_module(sf: SourceFile) -> bool:
    parts = sf.module.split(".")
    return parts[-1] == "views" or "views" in parts[:-1]


def has_main_guard(tree: ast.Module) -> bool:
    return any(is_main_guard(stmt) for stmt in tree.body)


def is_main_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    names = [stmt.test.left, *stmt.test.comparators]
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in names) and any(
        isinstance(n, ast.Constant) and n.value == "__main__" for n in names
    )


Visitor = Callable[[Any, Scope], None]
_DEFINITIONS = frozenset({"FunctionDef", "AsyncFunctionDef", "ClassDef", "Lambda"})
#: Fields that hold no statement or expression: names, flags, and the expression
#: contexts and operators (childless nodes no visitor asks for).
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "id", "attr", "arg", "module", "level", "kind", "conversion",
     "type_comment", "is_async", "lineno"}
)  # fmt: skip
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


class Walker:
    """Walks one tree once, keeping the scope stack and dispatching to visitors."""

    def __init__(
        self,
        sf: SourceFile,
        visitors: Iterable[object],
        index: ProjectIndex | None = None,
        task_decorators: Iterable[str] = (),
    ) -> None:
        self.sf = sf
        self.index = index
        self.task_decorators = tuple(task_decorators)
        self._enter: dict[str, list[Visitor]] = {}
        self._leave: dict[str, list[Visitor]] = {}
        self.add_visitors(visitors)
        script = has_main_guard(sf.tree) or sf.text.startswith("#!")
        self.scope = Scope("module", sf.tree, "", context="script" if script else "module")

    def add_visitors(self, visitors: Iterable[object]) -> None:
        """Dispatch table: node class name -> bound visit/leave methods, built once."""
        for visitor in visitors:
            for attr in dir(type(visitor)):
                if attr.startswith("visit_"):
                    self._enter.setdefault(attr[6:], []).append(getattr(visitor, attr))
                elif attr.startswith("leave_"):
                    self._leave.setdefault(attr[6:], []).append(getattr(visitor, attr))

    def run(self) -> None:
        self._visit(self.sf.tree)

    def close(self) -> None:
        """Drop the dispatch tables: rules hold the walker, the tables hold the rules."""
        self._enter.clear()
        self._leave.clear()

    def _visit(self, node: ast.AST) -> None:
        kind = type(node)
        name = kind.__name__
        if name in _DEFINITIONS:
            self._visit_definition(node, name)  # type: ignore[arg-type]
            return
        enter = self._enter.get(name)
        if enter:
            for visit in enter:
                visit(node, self.scope)
        # ast.iter_child_nodes, inlined and without the leaves no visitor wants (the
        # Load/Store contexts and operators): the walk is the audit's hottest loop
        fields = _CHILD_FIELDS.get(kind)
        if fields is None:
            fields = _CHILD_FIELDS[kind] = tuple(f for f in node._fields if f not in _LEAF_FIELDS)
        for field_name in fields:
            value = getattr(node, field_name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        self._visit(item)
            elif isinstance(value, ast.AST):
                self._visit(value)
        leave = self._leave.get(name)
        if leave:
            for visit in leave:
                visit(node, self.scope)

    def _visit_definition(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda, name: str
    ) -> None:
        outer = self.scope
        # Evaluated where the definition stands, before the new scope exists.
        if isinstance(node, ast.Lambda):
            heads: list[ast.AST] = [node.args]
            body: list[ast.AST] = [node.body]
        elif isinstance(node, ast.ClassDef):
            heads = [*node.decorator_list, *node.bases, *node.keywords]
            body = list(node.body)
        else:
            heads = [*node.decorator_list, node.args]
            if node.returns is not None:
                heads.append(node.returns)
            body = list(node.body)
        for head in heads:
            self._visit(head)
        self.scope = self._new_scope(node, outer)
        for visit in self._enter.get(name, ()):
            visit(node, self.scope)
        for child in body:
            self._visit(child)
        for leave in self._leave.get(name, ()):
            leave(node, self.scope)
        self.scope = outer

    def _new_scope(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda, outer: Scope
    ) -> Scope:
        prefix = outer.qualname or self.sf.module
        if isinstance(node, ast.ClassDef):
            klass = Scope(
                "class", node, f"{prefix}.{node.name}", context=outer.context, parent=outer,
                bases=class_bases(self.sf, node),
            )  # fmt: skip
            klass.middleware_convention = _is_middleware_class(klass)
            return klass
        if isinstance(node, ast.Lambda):
            return Scope(
                "function", node, f"{prefix}.<lambda>", context="sync-function", parent=outer
            )
        qualname = f"{prefix}.{node.name}"
        is_async = isinstance(node, ast.AsyncFunctionDef)
        direct = function_context(self.sf, node, outer, self.task_decorators, self.index)
        context = direct
        if context is None and self.index is not None:
            reached = self.index.contexts_of(qualname)
            context = next((c for c in ENTRY_CONTEXTS if c in reached), None)
        if context is None and not is_async:
            # A sync helper nested in an entry point runs in that entry point's thread.
            enclosing = outer.function
            if (
                enclosing is not None
                and not enclosing.is_async
                and enclosing.context in ENTRY_CONTEXTS
            ):
                context = enclosing.context
        if context is None:
            context = "async-function" if is_async else "sync-function"
        local_defs = frozenset(
            stmt.name
            for stmt in node.body
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
        )
        return Scope(
            "function", node, qualname, is_async=is_async, context=context, parent=outer,
            direct_context=direct, local_defs=local_defs,
        )  # fmt: skip
