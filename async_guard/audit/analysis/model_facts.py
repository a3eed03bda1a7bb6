"""The facts of Django's model graph one file gives: what the fact collector records
of class bodies (fields, relations, managers, ``Meta``), of manager and queryset
methods, of module-level model references, and of URLconfs.

Every fact here that another file's answer depends on without a lookup path to it
(a relation declares a reverse accessor on a model defined elsewhere; a settings
module names the user model; a URLconf makes a function a view) is recorded only in
a file whose text ``facts.holds_graph_facts``: whoever skips files reads every such
file for its facts.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from async_guard.audit.analysis.django_names import (
    AUTH_USER_MODEL,
    FIELD_KINDS,
    GET_MODEL,
    GET_USER_MODEL,
    QUERYSET_CLASS_WORDS,
    URL_FUNCTIONS,
    USER_MODEL_REF,
)

if TYPE_CHECKING:
    from async_guard.audit.analysis.file_facts import FileFacts
    from async_guard.audit.analysis.scope import Scope
    from async_guard.audit.analysis.source import SourceFile

#: Queryset methods whose result is again a queryset (a manager's or queryset's own
#: method returning one of these returns a queryset).
QUERYSET_RETURNING = frozenset(
    {"all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "annotate",
     "alias", "distinct", "defer", "only", "using", "reverse", "none", "union",
     "intersection", "difference", "extra", "select_for_update", "complex_filter",
     "get_queryset"}
)  # fmt: skip


def string(expr: ast.expr | None) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def model_reference(sf: SourceFile, expr: ast.expr | None) -> str:
    """What a relation's target or a model lookup names: a dotted class name, a
    ``label:app.Model`` (or ``label:Model``, ``label:self``) string, ``@user`` for
    ``settings.AUTH_USER_MODEL``; "" when the code computes it."""
    text = string(expr)
    if text is not None:
        return f"label:{text}"
    if isinstance(expr, (ast.Name, ast.Attribute)):
        resolved = sf.resolve(expr)
        if resolved == AUTH_USER_MODEL:
            return USER_MODEL_REF
        return resolved or ""
    return ""


def model_call_reference(sf: SourceFile, call: ast.Call) -> str:
    """The model ``get_user_model()`` or ``apps.get_model(...)`` returns, as a reference
    (see ``model_reference``); "" for any other call, or arguments the code computes."""
    called = sf.resolve(call.func)
    if called in GET_USER_MODEL and not call.args:
        return USER_MODEL_REF
    if called in GET_MODEL:
        texts = [string(arg) for arg in call.args]
        if len(texts) == 1 and texts[0] and "." in texts[0]:
            return f"label:{texts[0]}"
        if len(texts) == 2 and texts[0] and texts[1]:
            return f"label:{texts[0]}.{texts[1]}"
    return ""


def class_body(
    sf: SourceFile, node: ast.ClassDef, qualname: str, facts: FileFacts, graph: bool
) -> None:
    """Fields, relations (with ``graph``: the file may hold graph facts), managers and
    ``Meta`` of one class body."""
    for stmt in node.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            meta(stmt, qualname, facts, graph)
            continue
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, value = stmt.target, stmt.value
        if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
            continue
        func = value.func
        called = sf.resolve(func) or ""
        last = called.rsplit(".", 1)[-1] if called else getattr(func, "attr", "")
        if last in FIELD_KINDS:
            kind = FIELD_KINDS[last]
            facts.fields.setdefault(qualname, {})[target.id] = kind
            to = value.args[0] if value.args else keyword(value, "to")
            related = keyword(value, "related_name")
            related_name = string(related) if related is not None else None
            if related is not None and related_name is None:
                related_name = "?"  # computed: no accessor can be named
            reference = model_reference(sf, to) if graph else ""
            if reference:
                facts.relations.setdefault(qualname, {})[target.id] = (
                    kind, reference, related_name
                )  # fmt: skip
        elif last.endswith("Field"):
            facts.fields.setdefault(qualname, {})[target.id] = "field"
        else:
            sources = manager_sources(sf, value)
            if sources is not None:
                facts.managers.setdefault(qualname, {})[target.id] = sources


def manager_sources(sf: SourceFile, value: ast.Call) -> tuple[str, ...] | None:
    """The classes whose methods a manager assigned in a class body offers, or None
    when ``value`` surely makes no manager: ``OrderManager()``, ``QS.as_manager()``,
    ``Manager.from_queryset(QS)()``, ``Orders()`` (a manager if its bases say so)."""
    func = value.func
    if isinstance(func, ast.Attribute) and func.attr == "as_manager":
        source = sf.resolve(func.value)
        return (source,) if source else ()
    if (
        isinstance(func, ast.Call)
        and isinstance(func.func, ast.Attribute)
        and func.func.attr == "from_queryset"
    ):
        return from_queryset_classes(sf, func)
    called = sf.resolve(func) or ""
    last = called.rsplit(".", 1)[-1] if called else getattr(func, "attr", "")
    if last.endswith("Manager"):
        return (called,) if called else ()
    if called and last[:1].isupper():
        # a class whose bases may make it a manager (the index decides, from its bases)
        return (called,)
    return None


def from_queryset_classes(sf: SourceFile, call: ast.Call) -> tuple[str, ...]:
    """``Manager.from_queryset(QS)``: the manager class and the queryset class."""
    assert isinstance(call.func, ast.Attribute)
    names = [sf.resolve(call.func.value), *(sf.resolve(arg) for arg in call.args[:1])]
    return tuple(name for name in names if name)


def meta(node: ast.ClassDef, qualname: str, facts: FileFacts, graph: bool) -> None:
    for stmt in node.body:
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            continue
        target = stmt.targets[0]
        if not isinstance(target, ast.Name):
            continue
        if target.id == "abstract" and isinstance(stmt.value, ast.Constant):
            if stmt.value.value is True:
                facts.abstract.add(qualname)
        elif target.id == "app_label" and graph:
            label = string(stmt.value)
            if label:
                facts.app_labels[qualname] = label


def may_return_querysets(scope: Scope) -> bool:
    """A method of a class whose name, or a base's, says it is a manager, a queryset
    or a mixin of theirs (only their methods are looked at: it costs a body walk)."""
    klass = scope.parent
    if klass is None or klass.kind != "class":
        return False
    names = [klass.qualname.rsplit(".", 1)[-1], *(b.rsplit(".", 1)[-1] for b in klass.bases)]
    return any(word in name for name in names for word in QUERYSET_CLASS_WORDS)


def plain_method(node: ast.FunctionDef) -> bool:
    """No decorator but ``staticmethod``/``classmethod`` (a property, a cache ... may
    make the method return something other than what its body returns)."""
    return all(
        isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")
        for d in node.decorator_list
    )


def all_querysets(values: list[ast.expr] | None) -> bool:
    """Every ``return`` of a method gives a queryset: a queryset method's result
    (``self.filter(...)``, ``super().get_queryset()``...) or a new ``...QuerySet(...)``;
    it returns something on every ``return``, and yields nothing (None)."""
    return bool(values) and all(_queryset_shaped(value) for value in values or ())


def _queryset_shaped(value: ast.expr) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Attribute):
        return func.attr in QUERYSET_RETURNING
    return isinstance(func, ast.Name) and func.id.endswith(("QuerySet", "Queryset"))


def module_assignment(sf: SourceFile, stmt: ast.Assign, module: str, facts: FileFacts) -> None:
    """``User = get_user_model()``, ``Order = apps.get_model("shop", "Order")``,
    ``OrderManager = Manager.from_queryset(OrderQuerySet)`` and ``AUTH_USER_MODEL =
    "accounts.Member"`` at module level."""
    if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
        return
    name = stmt.targets[0].id
    value = stmt.value
    if name == "AUTH_USER_MODEL":
        facts.user_models.add(string(value) or "")
        return
    if not isinstance(value, ast.Call):
        return
    func = value.func
    if isinstance(func, ast.Attribute) and func.attr == "from_queryset":
        facts.classes[f"{module}.{name}"] = from_queryset_classes(sf, value)
        return
    reference = model_call_reference(sf, value)
    if reference:
        facts.model_refs[f"{module}.{name}"] = reference


def route(sf: SourceFile, call: ast.Call, facts: FileFacts) -> None:
    """A view routed at module level in a URLconf: ``path(route, view)``, ``re_path``,
    ``View.as_view()``, ``router.register(prefix, ViewSet)``."""
    func = call.func
    if isinstance(func, ast.Attribute):
        if func.attr == "as_view":
            routed = sf.resolve(func.value)
            if routed:
                facts.routed.add(routed)
        elif (
            func.attr == "register"
            and len(call.args) >= 2
            and (getattr(func.value, "id", "") or getattr(func.value, "attr", "")).endswith(
                "router"
            )
        ):
            routed = sf.resolve(call.args[1])
            if routed:
                facts.routed.add(routed)
    if len(call.args) >= 2 and sf.resolve(func) in URL_FUNCTIONS:
        view = call.args[1]
        if isinstance(view, (ast.Name, ast.Attribute)):
            target = sf.resolve(view)
            if target:
                facts.entries.setdefault(target, "view")
