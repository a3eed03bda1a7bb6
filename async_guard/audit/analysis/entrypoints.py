"""Entry points: which functions a framework calls, and in which context.

Contexts come from decorators (``@shared_task``, ``@receiver``, ``@api_view``,
``@require_POST`` ...), class bases (``BaseCommand``, ``MiddlewareMixin``,
``View`` and subclasses, celery ``Task``) and Django conventions (a ``views.py``
function taking ``request``, a middleware's ``__call__``/``process_*``, a
command's ``handle``, a script's ``if __name__ == "__main__":``). The project
index adds the contexts that reach a helper through resolvable calls, and the
roles classes inherit from project base classes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import TYPE_CHECKING

from async_guard.audit.analysis.scope import Scope
from async_guard.audit.finding import CONTEXTS

if TYPE_CHECKING:
    from async_guard.audit.analysis.questions import Questions
    from async_guard.audit.analysis.source import SourceFile

#: Contexts that are entry points (rules test membership).
ENTRY_CONTEXTS = CONTEXTS[: CONTEXTS.index("script") + 1]
#: Entry points that run inside a sync thread the framework owns (a worker, a request).
SYNC_ENTRY_CONTEXTS = ("celery-task", "django-task", "view", "signal-receiver", "middleware")
#: Django's own task framework (``django.tasks``, Django 6.0+) and its backport package.
_DJANGO_TASK_DECORATORS = frozenset({"django.tasks.task", "django_tasks.task"})

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
    if resolved in _DJANGO_TASK_DECORATORS or (
        last == "task" and resolved.startswith(("django.tasks.", "django_tasks."))
    ):
        return "django-task"
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
        if (
            isinstance(base, ast.Call)
            and isinstance(base.func, ast.Attribute)
            and base.func.attr == "from_queryset"
        ):
            # ``class OrderManager(Manager.from_queryset(OrderQuerySet))``
            made = [sf.resolve(base.func.value), *(sf.resolve(a) for a in base.args[:1])]
            bases.extend(name for name in made if name)
            continue
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
    index: Questions | None = None,
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


def is_middleware_class(scope: Scope) -> bool:
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
