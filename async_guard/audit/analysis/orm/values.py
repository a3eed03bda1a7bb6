"""What the ORM analysis knows: Django's queryset API, and the values it tracks.

A local name may hold a :class:`QuerySet` (a manager or lazy queryset of a model,
with the relations it loads), an :class:`Instance` of a model, or
:class:`Instances` already fetched. :class:`OrmFacts` is what the analysis of one
body records.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from async_guard.audit.analysis.django_names import ASYNC_ORM_METHODS

#: Queryset methods that return another lazy queryset (no query yet).
LAZY_METHODS = frozenset(
    {"all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "annotate",
     "alias", "values", "values_list", "distinct", "defer", "only", "using", "reverse",
     "none", "union", "intersection", "difference", "extra", "select_for_update", "dates",
     "datetimes", "complex_filter", "get_queryset", "raw", "iterator"}
)  # fmt: skip
#: Queryset methods that return rows (dicts, tuples, dates) rather than model instances.
ROW_METHODS = frozenset({"values", "values_list", "dates", "datetimes"})
#: Queryset/manager methods that run a query when called.
EVALUATING_METHODS = frozenset(
    {"get", "first", "last", "count", "exists", "create", "get_or_create", "update_or_create",
     "update", "delete", "earliest", "latest", "in_bulk", "aggregate", "bulk_create",
     "bulk_update", "contains", "explain"}
)  # fmt: skip
#: Methods of a related manager that run a query (beyond the queryset ones).
RELATED_EVALUATING = frozenset({"add", "remove", "clear", "set"})
#: Django's shortcuts that run a query: (model or queryset, lookups) -> instance or list.
SHORTCUTS = frozenset({"django.shortcuts.get_object_or_404", "django.shortcuts.get_list_or_404"})
#: Of those, the ones that return one model instance.
INSTANCE_METHODS = frozenset({"get", "first", "last", "earliest", "latest"})
ASYNC_INSTANCE_METHODS = frozenset(f"a{name}" for name in INSTANCE_METHODS)
#: Model instance methods that run a query.
INSTANCE_EVALUATING = frozenset({"save", "delete", "refresh_from_db"})
#: Builtins that consume an iterable (or ask its length or truth) when called.
CONSUMERS = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "len", "bool", "any", "all", "sum",
     "max", "min", "dict"}
)  # fmt: skip
#: Builtins that wrap an iterable lazily: iterating them iterates the queryset.
WRAPPERS = frozenset({"enumerate", "zip", "reversed", "iter", "map", "filter"})
RELATION_KINDS = frozenset({"fk", "o2o"})
#: The async API methods that return a coroutine (``aiterator()`` is an async generator).
COROUTINE_METHODS = ASYNC_ORM_METHODS - {"aiterator"}
OPTIONAL = ("typing.Optional", "typing_extensions.Optional")


@dataclass(frozen=True)
class QuerySet:
    """A manager or lazy queryset of ``model``; ``loaded`` are the relations it selects."""

    model: str
    loaded: frozenset[str] = frozenset()
    all_loaded: bool = False
    rows: bool = False  # values()/values_list(): yields dicts or tuples, not instances
    #: A many-to-many related manager (``position.tags``); ``model`` is "" (not known).
    related: bool = False

    def instance(self) -> Instance | None:
        if self.rows or not self.model:
            return None
        return Instance(self.model, self.loaded, self.all_loaded)


@dataclass(frozen=True)
class Instance:
    """A model instance; ``parameter``: it came in as an annotated argument."""

    model: str
    loaded: frozenset[str] = frozenset()
    all_loaded: bool = False
    parameter: bool = False

    def has_loaded(self, relation: str) -> bool:
        return self.all_loaded or relation in self.loaded


@dataclass(frozen=True)
class Instances:
    """A list of model instances already fetched (``await sync_to_async(list)(qs)``)."""

    item: Instance


Binding = QuerySet | Instance | Instances


@dataclass(frozen=True)
class RelationRead:
    """``node`` reads relation ``relation`` of ``model`` through local ``name``."""

    node: ast.Attribute
    name: str
    relation: str
    model: str
    parameter: bool


@dataclass
class OrmFacts:
    """What one function body (or the module body) does with the ORM."""

    evaluations: dict[int, ast.expr] = field(default_factory=dict)
    relation_reads: dict[int, RelationRead] = field(default_factory=dict)
    wrapped_evaluations: dict[int, ast.Call] = field(default_factory=dict)
    thread_insensitive: dict[int, ast.expr] = field(default_factory=dict)
    async_calls: dict[int, ast.Call] = field(default_factory=dict)

    @property
    def evaluates(self) -> bool:
        return bool(self.evaluations)


def apply_method(base: QuerySet, method: str, call: ast.Call) -> QuerySet:
    if method in ROW_METHODS:
        return replace(base, rows=True)
    if method not in ("select_related", "prefetch_related"):
        return base
    if method == "select_related" and not call.args:
        return replace(base, all_loaded=True)
    loaded = set(base.loaded)
    for arg in call.args:
        if isinstance(arg, ast.Constant) and arg.value is None:
            return replace(base, loaded=frozenset(), all_loaded=False)
        lookup = arg
        # ``Prefetch("account", queryset=...)``
        if isinstance(arg, ast.Call) and arg.args:
            lookup = arg.args[0]
        if not (isinstance(lookup, ast.Constant) and isinstance(lookup.value, str)):
            return replace(base, all_loaded=True)  # a lookup the code computes: unsure
        loaded.add(lookup.value.split("__", 1)[0])
    return replace(base, loaded=frozenset(loaded))


def first_arg(args: list[ast.expr]) -> ast.expr | None:
    return args[0] if args else None


def thread_insensitive(call: ast.Call) -> bool:
    return any(
        k.arg == "thread_sensitive" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in call.keywords
    )


def is_none(expr: ast.expr) -> bool:
    return (isinstance(expr, ast.Constant) and expr.value is None) or (
        isinstance(expr, ast.Name) and expr.id == "None"
    )


def pattern_names(node: ast.AST) -> Iterator[str]:
    name = getattr(node, "name", None) or getattr(node, "rest", None)
    if isinstance(name, str):
        yield name


def local_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Every name the function binds (parameters, assignments, nested defs): such a
    name hides a module-level model class or builtin of the same name. Imports are
    left out: ``from app.models import Position`` in a function still names the model."""
    args = node.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif (
            isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and child is not node
        ):
            names.add(child.name)
    return names


def defs_in(body: list[ast.stmt]) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {s.name: s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
