"""What an expression is, for the ORM analysis: a model, a queryset, an instance.

Only what the code states for certain: a name that resolves (through the file's
imports and the project index) to a class that subclasses ``models.Model``, a
manager of such a model, what its queryset methods return, the local names the
analysis has bound. Anything else is None: precision comes first.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from async_guard.audit.analysis.django_names import SYNC_TO_ASYNC
from async_guard.audit.analysis.orm.values import (
    ASYNC_INSTANCE_METHODS,
    INSTANCE_METHODS,
    LAZY_METHODS,
    OPTIONAL,
    WRAPPERS,
    Binding,
    Instance,
    Instances,
    QuerySet,
    apply_method,
    is_none,
    local_names,
)
from async_guard.audit.analysis.questions import Questions
from async_guard.audit.analysis.source import SourceFile


class OrmTypes:
    """Classifies expressions of one body, given the names bound so far (``env``)."""

    def __init__(
        self, sf: SourceFile, index: Questions, env: Mapping[str, Binding] | None = None
    ) -> None:
        self.sf = sf
        self.index = index
        self.env: dict[str, Binding] = dict(env or {})
        # The function whose local names hide a model class or builtin of that name
        # (collected on first need: most bodies never name a model or a builtin).
        self.scope_node: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        self._shadowing: set[str] | None = None

    def static_or_class(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        return any(
            self.sf.resolve(d) in ("builtins.staticmethod", "builtins.classmethod")
            for d in node.decorator_list
        )

    def model_of(self, expr: ast.expr) -> str | None:
        """The model class ``expr`` names (``Position``, ``models_mod.Position``), or None."""
        root = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name):
            return None
        qualname = self.sf.resolve(expr)
        if qualname is None or not self.index.is_model(qualname) or self.shadowed(root.id):
            return None
        return qualname

    def shadowed(self, name: str) -> bool:
        """``name`` is a local of the analyzed function (so not the module-level thing)."""
        if self.scope_node is None:
            return False
        if self._shadowing is None:
            self._shadowing = local_names(self.scope_node)
        return name in self._shadowing

    def annotation_model(self, annotation: ast.expr | None) -> str | None:
        """The model an annotation names: ``Position``, ``"Position"``, ``Position | None``."""
        if annotation is None:
            return None
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                parsed = ast.parse(annotation.value.strip(), mode="eval").body
            except SyntaxError:
                return None
            return self.annotation_model(parsed)
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            sides = [annotation.left, annotation.right]
            others = [s for s in sides if not is_none(s)]
            return self.annotation_model(others[0]) if len(others) == 1 else None
        if isinstance(annotation, ast.Subscript):
            if self.sf.resolve(annotation.value) in OPTIONAL:
                return self.annotation_model(annotation.slice)
            return None
        return self.model_of(annotation)

    def queryset(self, expr: ast.expr) -> QuerySet | None:
        """The queryset (or manager) ``expr`` is, or None when it is not surely one."""
        if isinstance(expr, ast.Name):
            bound = self.env.get(expr.id)
            return bound if isinstance(bound, QuerySet) else None
        if isinstance(expr, ast.Attribute):
            model = self.model_of(expr.value)
            if model is not None and expr.attr in self.index.model_managers(model):
                return QuerySet(model)
            owner = self.instance(expr.value)
            if owner is not None and self.index.model_fields(owner.model).get(expr.attr) == "m2m":
                return QuerySet("", related=True)
            return None
        if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):
            return self.queryset(expr.value)
        if isinstance(expr, ast.NamedExpr):
            return self.queryset(expr.value)
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr in LAZY_METHODS
        ):
            base = self.queryset(expr.func.value)
            if base is None:
                return None
            return apply_method(base, expr.func.attr, expr)
        return None

    def instance(self, expr: ast.expr) -> Instance | None:
        """The model instance ``expr`` surely is, or None."""
        if isinstance(expr, ast.Name):
            bound = self.env.get(expr.id)
            return bound if isinstance(bound, Instance) else None
        if isinstance(expr, ast.Call):
            model = self.model_of(expr.func)
            if model is not None:
                # A new instance: its relations are whatever the constructor was given.
                return Instance(model, all_loaded=True)
        return None

    def produced_instance(self, value: ast.expr) -> Instance | None:
        """The instance an assigned value yields: ``await qs.aget()``, ``qs.get()``,
        ``await sync_to_async(qs.get)(...)``, a constructor call, another instance."""
        direct = self.instance(value)
        if direct is not None:
            return direct
        awaited = isinstance(value, ast.Await)
        call = value.value if isinstance(value, ast.Await) else value
        if not isinstance(call, ast.Call):
            return None
        func = call.func
        if (
            not awaited
            and call.args
            and self.sf.resolve(func) == "django.shortcuts.get_object_or_404"
        ):
            model = self.model_of(call.args[0])
            qs = QuerySet(model) if model is not None else self.queryset(call.args[0])
            return qs.instance() if qs is not None else None
        if isinstance(func, ast.Attribute):
            methods = ASYNC_INSTANCE_METHODS if awaited else INSTANCE_METHODS
            if func.attr in methods:
                qs = self.queryset(func.value)
                return qs.instance() if qs is not None else None
            return None
        if (
            awaited
            and isinstance(func, ast.Call)
            and self.is_sync_to_async(func)
            and func.args
            and isinstance(func.args[0], ast.Attribute)
            and func.args[0].attr in INSTANCE_METHODS
        ):
            qs = self.queryset(func.args[0].value)
            return qs.instance() if qs is not None else None
        return None

    def produced_instances(self, value: ast.expr) -> Instances | None:
        """``await sync_to_async(list)(qs)`` and ``[p async for p in qs]``: fetched rows."""
        item: Instance | None = None
        if (
            isinstance(value, ast.Await)
            and isinstance(value.value, ast.Call)
            and isinstance(value.value.func, ast.Call)
            and self.is_sync_to_async(value.value.func)
            and value.value.func.args
            and self.builtin(value.value.func.args[0], frozenset({"list", "tuple"}))
            and value.value.args
        ):
            qs = self.queryset(value.value.args[0])
            item = qs.instance() if qs is not None else None
        elif (
            isinstance(value, ast.ListComp)
            and len(value.generators) == 1
            and value.generators[0].is_async
            and isinstance(value.elt, ast.Name)
            and isinstance(value.generators[0].target, ast.Name)
            and value.elt.id == value.generators[0].target.id
        ):
            qs = self.queryset(value.generators[0].iter)
            item = qs.instance() if qs is not None else None
        return Instances(item) if item is not None else None

    def is_sync_to_async(self, call: ast.Call) -> bool:
        return self.sf.resolve(call.func) in SYNC_TO_ASYNC

    def builtin(self, func: ast.expr, names: frozenset[str]) -> bool:
        return (
            isinstance(func, ast.Name)
            and func.id in names
            and self.sf.resolve(func) == f"builtins.{func.id}"
            and not self.shadowed(func.id)
        )

    def iterates_queryset(self, expr: ast.expr) -> bool:
        """Iterating ``expr`` iterates a queryset (directly or through ``enumerate``...)."""
        if self.queryset(expr) is not None:
            return True
        return (
            isinstance(expr, ast.Call)
            and self.builtin(expr.func, WRAPPERS)
            and any(self.queryset(arg) is not None for arg in expr.args)
        )
