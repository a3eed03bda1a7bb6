"""What a function does with the Django ORM, as far as the code says for certain.

Shared by the ORM rules (AG201-AG204, and AG301 for the ``a``-prefixed API). An
expression is the ORM only when it starts at a manager of a *real* model: a class
the project index knows subclasses ``models.Model`` (in the scanned tree through
project bases, or from the app registry). ``bucket.objects.all()`` of boto3, or
``objects`` of any other class, is not the ORM; neither is anything whose type the
code does not state. Precision matters more than recall: when unsure, nothing is
recorded, and the rules stay silent.

One pass over a function body, in source order, keeps an environment of the local
names that hold a queryset or a model instance (with the relations loaded with it
through ``select_related``/``prefetch_related``) and records:

* *evaluations*: a query that runs right there (``get()``, ``count()``, ``save()`` on
  an instance, iteration, ``list()``/``len()``/``bool()``, ``in``, indexing);
* *relation reads*: a ForeignKey/OneToOne attribute read on an instance whose
  relation was not loaded with it;
* *wrapped evaluations*: ``sync_to_async(<evaluation>)``, the query ran before the wrap;
* *thread-insensitive wraps*: ``sync_to_async(<ORM work>, thread_sensitive=False)``;
* *async ORM calls*: ``aget()``, ``asave()`` ... (coroutines, for AG301).

Nested ``def``s and lambdas are other code (they run where they are called, often in
a thread through ``sync_to_async``): the pass does not descend into them; the walker
visits a nested function on its own.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from async_guard.audit.index import ASYNC_ORM_METHODS, SYNC_TO_ASYNC
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.context import Scope
    from async_guard.audit.index import ProjectIndex
    from async_guard.audit.source import SourceFile

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
_OPTIONAL = ("typing.Optional", "typing_extensions.Optional")


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


class OrmAnalyzer:
    """The pass described in the module docstring, for one body."""

    def __init__(
        self,
        sf: SourceFile,
        index: ProjectIndex,
        env: Mapping[str, Binding] | None = None,
        local_defs: Mapping[str, ast.FunctionDef | ast.AsyncFunctionDef] | None = None,
        depth: int = 0,
    ) -> None:
        self.sf = sf
        self.index = index
        self.env: dict[str, Binding] = dict(env or {})
        self.local_defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = dict(local_defs or {})
        self.facts = OrmFacts()
        # Names declared global or nonlocal: bound elsewhere, never tracked here.
        self.opaque: set[str] = set()
        # The function whose local names hide a model class or builtin of that name
        # (collected on first need: most bodies never name a model or a builtin).
        self.scope_node: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        self._shadowing: set[str] | None = None
        self.depth = depth

    # --- entry points --------------------------------------------------------------

    def function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module,
        owner_model: str | None = None,
    ) -> OrmFacts:
        """Analyze a body; ``owner_model``: ``node`` is a method of that model class, so
        its first parameter (``self``) is an instance of it."""
        if isinstance(node, ast.Module):
            self.local_defs.update(_defs_in(node.body))
            self.statements(node.body)
            return self.facts
        self.local_defs.update(_defs_in(node.body))
        self.scope_node = node
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        if owner_model is not None and positional and not self.static_or_class(node):
            self.env[positional[0].arg] = Instance(owner_model, parameter=True)
        for arg in [*positional, *args.kwonlyargs]:
            model = self.annotation_model(arg.annotation)
            if model is not None:
                self.env[arg.arg] = Instance(model, parameter=True)
        self.statements(node.body)
        return self.facts

    def static_or_class(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        return any(
            self.sf.resolve(d) in ("builtins.staticmethod", "builtins.classmethod")
            for d in node.decorator_list
        )

    def does_orm_work(self, node: ast.AST) -> bool:
        """True when running ``node`` (a def or a lambda) evaluates a query."""
        if self.depth > 1:
            return False
        sub = OrmAnalyzer(self.sf, self.index, self.env, self.local_defs, self.depth + 1)
        if isinstance(node, ast.Lambda):
            sub.scope_node = self.scope_node
            sub.expr(node.body)
            return sub.facts.evaluates
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return sub.function(node).evaluates
        return False

    # --- classification --------------------------------------------------------------

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
            self._shadowing = _local_names(self.scope_node)
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
            others = [s for s in sides if not _is_none(s)]
            return self.annotation_model(others[0]) if len(others) == 1 else None
        if isinstance(annotation, ast.Subscript):
            if self.sf.resolve(annotation.value) in _OPTIONAL:
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
            return _apply(base, expr.func.attr, expr)
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

    # --- recording --------------------------------------------------------------------

    def evaluation(self, node: ast.expr) -> None:
        self.facts.evaluations[id(node)] = node

    # --- statements ---------------------------------------------------------------------

    def statements(self, body: Iterable[ast.stmt]) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in stmt.decorator_list:
                self.expr(decorator)
                self.decorator(decorator, stmt)
            self.expressions([*stmt.args.defaults, *stmt.args.kw_defaults])
            self.unbind_name(stmt.name)
        elif isinstance(stmt, ast.ClassDef):
            self.expressions([*stmt.decorator_list, *stmt.bases])
            self.unbind_name(stmt.name)
        elif isinstance(stmt, ast.Assign):
            self.expr(stmt.value)
            for target in stmt.targets:
                self.bind(target, stmt.value)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.expr(stmt.value)
                self.bind(stmt.target, stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            self.expr(stmt.value)
            self.bind(stmt.target, None)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self.loop(stmt)
        elif isinstance(stmt, (ast.If, ast.While)):
            self.truth(stmt.test)
            self.statements(stmt.body)
            self.statements(stmt.orelse)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self.expr(item.context_expr)
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, None)
            self.statements(stmt.body)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self.statements(getattr(stmt, "body", []))
            for handler in getattr(stmt, "handlers", []):
                self.expr(handler.type)
                if handler.name:
                    self.unbind_name(handler.name)
                self.statements(handler.body)
            self.statements(getattr(stmt, "orelse", []))
            self.statements(getattr(stmt, "finalbody", []))
        elif isinstance(stmt, ast.Match):
            self.expr(stmt.subject)
            for case in stmt.cases:
                for node in ast.walk(case.pattern):
                    for name in _pattern_names(node):
                        self.unbind_name(name)
                self.expr(case.guard)
                self.statements(case.body)
        elif isinstance(stmt, ast.Assert):
            self.truth(stmt.test)
            self.expr(stmt.msg)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                self.bind(target, None)
        elif isinstance(stmt, (ast.Global, ast.Nonlocal)):
            for name in stmt.names:
                self.unbind_name(name)
                self.opaque.add(name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                self.unbind_name((alias.asname or alias.name).split(".")[0])
        else:  # Expr, Return, Raise, Pass, Break, Continue
            self.expressions(n for n in ast.iter_child_nodes(stmt) if isinstance(n, ast.expr))

    def loop(self, stmt: ast.For | ast.AsyncFor) -> None:
        if isinstance(stmt, ast.For) and self.iterates_queryset(stmt.iter):
            self.evaluation(stmt.iter)
        self.expr(stmt.iter)
        self.bind_item(stmt.target, stmt.iter)
        self.statements(stmt.body)
        self.statements(stmt.orelse)

    def bind_item(self, target: ast.expr, iterable: ast.expr) -> None:
        """Bind a loop's target to the instances ``iterable`` yields, if it surely does."""
        qs = self.queryset(iterable)
        item = qs.instance() if qs is not None else None
        if item is None and isinstance(iterable, ast.Name):
            bound = self.env.get(iterable.id)
            item = bound.item if isinstance(bound, Instances) else None
        self.bind(target, None)
        if item is not None and isinstance(target, ast.Name):
            self.env[target.id] = item

    def decorator(self, decorator: ast.expr, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # ``@sync_to_async(thread_sensitive=False)`` around a def that does ORM work
        if (
            isinstance(decorator, ast.Call)
            and not decorator.args
            and self.is_sync_to_async(decorator)
            and _thread_insensitive(decorator)
            and self.does_orm_work(func)
        ):
            self.facts.thread_insensitive[id(decorator)] = decorator

    # --- names ---------------------------------------------------------------------------

    def unbind_name(self, name: str) -> None:
        self.env.pop(name, None)

    def bind(self, target: ast.expr, value: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            bound: Binding | None = None
            if value is not None and target.id not in self.opaque:
                bound = (
                    self.queryset(value)
                    or self.produced_instance(value)
                    or self.produced_instances(value)
                )
            self.unbind_name(target.id)
            if bound is not None:
                self.env[target.id] = bound
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element, None)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None)
        elif isinstance(target, ast.Attribute):
            self.expr(target.value)
            # ``position.account = account`` caches the relation on the instance
            if isinstance(target.value, ast.Name):
                owner = self.env.get(target.value.id)
                if isinstance(owner, Instance):
                    self.env[target.value.id] = replace(owner, loaded=owner.loaded | {target.attr})
        elif isinstance(target, ast.Subscript):
            self.expr(target.value)
            self.expr(target.slice)

    # --- expressions -------------------------------------------------------------------

    def expressions(self, exprs: Iterable[ast.expr | None]) -> None:
        for expr in exprs:
            self.expr(expr)

    def truth(self, expr: ast.expr) -> None:
        """``expr`` is tested for truth (``if``, ``while``, ``not``, ``and``/``or``)."""
        if self.queryset(expr) is not None:
            self.evaluation(expr)
        self.expr(expr)

    def expr(self, expr: ast.expr | None) -> None:
        if expr is None or isinstance(expr, ast.Lambda):
            return
        if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            self.comprehension(expr)
        elif isinstance(expr, ast.Call):
            self.call(expr)
        elif isinstance(expr, ast.Attribute):
            self.attribute(expr)
        elif isinstance(expr, ast.Subscript):
            if not isinstance(expr.slice, ast.Slice) and self.queryset(expr.value) is not None:
                self.evaluation(expr)
            self.expr(expr.value)
            self.expr(expr.slice)
        elif isinstance(expr, ast.Compare):
            for op, right in zip(expr.ops, expr.comparators, strict=True):
                if isinstance(op, (ast.In, ast.NotIn)) and self.queryset(right) is not None:
                    self.evaluation(expr)
            self.expressions([expr.left, *expr.comparators])
        elif isinstance(expr, ast.BoolOp):
            for value in expr.values[:-1]:
                self.truth(value)
            self.expr(expr.values[-1])
        elif isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            self.truth(expr.operand)
        elif isinstance(expr, ast.IfExp):
            self.truth(expr.test)
            self.expressions([expr.body, expr.orelse])
        elif isinstance(expr, ast.NamedExpr):
            self.expr(expr.value)
            self.bind(expr.target, expr.value)
        else:
            self.expressions(n for n in ast.iter_child_nodes(expr) if isinstance(n, ast.expr))

    def attribute(self, expr: ast.Attribute) -> None:
        if isinstance(expr.ctx, ast.Load) and isinstance(expr.value, ast.Name):
            owner = self.env.get(expr.value.id)
            if (
                isinstance(owner, Instance)
                and not owner.has_loaded(expr.attr)
                and self.index.model_fields(owner.model).get(expr.attr) in RELATION_KINDS
            ):
                self.facts.relation_reads[id(expr)] = RelationRead(
                    expr, expr.value.id, expr.attr, owner.model, owner.parameter
                )
        self.expr(expr.value)

    def comprehension(
        self, expr: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        saved = dict(self.env)
        for generator in expr.generators:
            if not generator.is_async and self.iterates_queryset(generator.iter):
                self.evaluation(generator.iter)
            self.expr(generator.iter)
            self.bind_item(generator.target, generator.iter)
            for condition in generator.ifs:
                self.truth(condition)
        if isinstance(expr, ast.DictComp):
            self.expressions([expr.key, expr.value])
        else:
            self.expr(expr.elt)
        self.env = saved

    def call(self, call: ast.Call) -> None:
        func = call.func
        if isinstance(func, ast.Attribute):
            qs = self.queryset(func.value)
            if qs is not None:
                if self.runs_query(qs, func.attr):
                    self.evaluation(call)
                elif func.attr in COROUTINE_METHODS:
                    self.facts.async_calls[id(call)] = call
            elif self.instance(func.value) is not None:
                if func.attr in INSTANCE_EVALUATING:
                    self.evaluation(call)
                elif func.attr in COROUTINE_METHODS:
                    self.facts.async_calls[id(call)] = call
        elif (
            self.builtin(func, CONSUMERS) and call.args and self.queryset(call.args[0]) is not None
        ) or self.sf.resolve(func) in SHORTCUTS:
            self.evaluation(call)
        self.expr(func)
        self.expressions([*call.args, *(k.value for k in call.keywords)])
        if self.is_sync_to_async(call) and call.args and id(call.args[0]) in self.facts.evaluations:
            self.facts.wrapped_evaluations[id(call)] = call
        self.pool_thread(call)

    def pool_thread(self, call: ast.Call) -> None:
        """ORM work sent to a thread other than the one that owns the connection:
        ``sync_to_async(f, thread_sensitive=False)(*args)``, ``asyncio.to_thread(f, *args)``,
        ``loop.run_in_executor(executor, f, *args)``."""
        func = call.func
        wrapper: ast.Call | None = None
        target: ast.expr | None = None
        args: list[ast.expr] = []
        if isinstance(func, ast.Call) and self.is_sync_to_async(func) and _thread_insensitive(func):
            wrapper, target, args = func, _first(func.args), call.args
        elif self.is_sync_to_async(call) and _thread_insensitive(call):
            wrapper, target = call, _first(call.args)
        elif self.sf.resolve(func) == "asyncio.to_thread" and call.args:
            wrapper, target, args = call, call.args[0], call.args[1:]
        elif isinstance(func, ast.Attribute) and func.attr == "run_in_executor" and call.args[1:]:
            wrapper, target, args = call, call.args[1], call.args[2:]
        if wrapper is None or target is None:
            return
        if self.orm_callable(target) or (
            self.builtin(target, CONSUMERS | WRAPPERS)
            and any(self.queryset(arg) is not None for arg in args)
        ):
            self.facts.thread_insensitive[id(wrapper)] = wrapper

    @staticmethod
    def runs_query(qs: QuerySet, method: str) -> bool:
        return method in EVALUATING_METHODS or (qs.related and method in RELATED_EVALUATING)

    def orm_callable(self, target: ast.expr) -> bool:
        """Calling ``target`` (handed to ``sync_to_async``) runs a query."""
        if isinstance(target, ast.Attribute):
            qs = self.queryset(target.value)
            if qs is not None:
                return self.runs_query(qs, target.attr)
            if self.instance(target.value) is not None:
                return target.attr in INSTANCE_EVALUATING
        if isinstance(target, ast.Lambda):
            return self.does_orm_work(target)
        if isinstance(target, ast.Name):
            definition = self.local_defs.get(target.id)
            return definition is not None and self.does_orm_work(definition)
        return False


def _apply(base: QuerySet, method: str, call: ast.Call) -> QuerySet:
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


def _first(args: list[ast.expr]) -> ast.expr | None:
    return args[0] if args else None


def _thread_insensitive(call: ast.Call) -> bool:
    return any(
        k.arg == "thread_sensitive" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in call.keywords
    )


def _is_none(expr: ast.expr) -> bool:
    return (isinstance(expr, ast.Constant) and expr.value is None) or (
        isinstance(expr, ast.Name) and expr.id == "None"
    )


def _pattern_names(node: ast.AST) -> Iterator[str]:
    name = getattr(node, "name", None) or getattr(node, "rest", None)
    if isinstance(name, str):
        yield name


def _local_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
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


def _defs_in(body: list[ast.stmt]) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {s.name: s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}


# The module-level defs of the file being walked: computed once per file, not
# once per function (that was quadratic on one 50,000-line module).
_MODULE_DEFS: list[tuple[ast.Module, dict[str, ast.FunctionDef | ast.AsyncFunctionDef]]] = []


def _module_defs(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    if not _MODULE_DEFS or _MODULE_DEFS[0][0] is not tree:
        _MODULE_DEFS[:] = [(tree, _defs_in(tree.body))]
    return _MODULE_DEFS[0][1]


# One analysis per body, shared by the rules of a walk (keyed by node identity).
_CACHE: dict[int, tuple[ast.AST, OrmFacts]] = {}
_CACHE_SIZE = 256


def facts_for(sf: SourceFile, index: ProjectIndex, scope: Scope) -> OrmFacts:
    """The ORM facts of the body ``scope`` is in (its function, else the module)."""
    function = scope.function
    node = function.node if function is not None else sf.tree
    cached = _CACHE.get(id(node))
    if cached is not None and cached[0] is node:
        return cached[1]
    analyzer = OrmAnalyzer(sf, index)
    if function is not None and function.kind == "function":
        # module-level defs are callable from any body of the file
        analyzer.local_defs.update(_module_defs(sf.tree))
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        owner = function.parent if function is not None else None
        model = None
        if owner is not None and owner.kind == "class" and index.is_model(owner.qualname):
            model = owner.qualname
        facts = analyzer.function(node, model)
    elif isinstance(node, ast.Module):
        facts = analyzer.function(node)
    elif isinstance(node, ast.Lambda):
        facts = OrmFacts()  # a lambda body is sync code run where the lambda is called
    else:  # pragma: no cover - scopes are defs, lambdas or the module
        facts = OrmFacts()
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[id(node)] = (node, facts)
    return facts


class OrmBodyRule(Rule):
    """Base of the rules that read the :class:`OrmFacts` of every body: the module's,
    each function's (sync or async). ``check`` gets the facts and the body's scope.

    Bodies are only analyzed in a file that holds one of the rule's triggers: the
    engine may parse a file for another rule's sake, and these rules cannot fire there.
    """

    @cached_property
    def applies(self) -> bool:
        return any(trigger in self.file.text for trigger in self.triggers)

    @cached_property
    def words(self) -> tuple[str, ...]:
        """What a body must mention to hold this rule's findings: a trigger, or a name
        the file imports one under (``from asgiref.sync import sync_to_async as s2a``)."""
        aliases = (
            name
            for name, target in self.file.imports.items()
            if any(trigger in target for trigger in self.triggers)
        )
        return (*self.triggers, *aliases)

    def applies_to(self, node: ast.AST) -> bool:
        # Each body is analyzed only if its own text can hold a finding: in a long
        # module with one sync_to_async call, every other function was analyzed too.
        if not self.applies:
            return False
        text = self.file.source_of(node)
        return any(word in text for word in self.words)

    def visit_Module(self, node: ast.Module, scope: Scope) -> None:
        if self.applies:
            self.check(facts_for(self.file, self.index, scope), scope)

    def visit_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        if self.applies_to(node):
            self.check(facts_for(self.file, self.index, scope), scope)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, scope: Scope) -> None:
        if self.applies_to(node):
            self.check(facts_for(self.file, self.index, scope), scope)

    def check(self, facts: OrmFacts, scope: Scope) -> None:
        raise NotImplementedError
