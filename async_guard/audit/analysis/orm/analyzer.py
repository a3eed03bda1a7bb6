"""The ORM analysis of one body: one pass, in source order (see the package doc)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import replace

from async_guard.audit.analysis.nodes import children, descendants
from async_guard.audit.analysis.orm.classify import OrmTypes
from async_guard.audit.analysis.orm.values import (
    CACHE_READING,
    CONSUMERS,
    COROUTINE_METHODS,
    EVALUATING_METHODS,
    INSTANCE_EVALUATING,
    RELATED_EVALUATING,
    RELATION_KINDS,
    SHORTCUTS,
    WRAPPERS,
    Binding,
    Instance,
    Instances,
    ModelClass,
    OrmFacts,
    QuerySet,
    RelationRead,
    defs_in,
    first_arg,
    pattern_names,
    thread_insensitive,
)
from async_guard.audit.analysis.questions import Questions
from async_guard.audit.analysis.source import SourceFile, dotted


class OrmAnalyzer(OrmTypes):
    """The pass: classifies as it goes (``OrmTypes``) and records ``facts``."""

    def __init__(
        self,
        sf: SourceFile,
        index: Questions,
        env: Mapping[str, Binding] | None = None,
        local_defs: Mapping[str, ast.FunctionDef | ast.AsyncFunctionDef] | None = None,
        depth: int = 0,
    ) -> None:
        super().__init__(sf, index, env)
        self.local_defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = dict(local_defs or {})
        self.facts = OrmFacts()
        # Names declared global or nonlocal: bound elsewhere, never tracked here.
        self.opaque: set[str] = set()
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
            self.local_defs.update(defs_in(node.body))
            self.statements(node.body)
            return self.facts
        self.local_defs.update(defs_in(node.body))
        self.scope_node = node
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        if owner_model is not None and positional and not self.static_or_class(node):
            self.env[positional[0].arg] = Instance(owner_model, parameter=True)
        requests: set[str] = set()
        for arg in [*positional, *args.kwonlyargs]:
            model = self.annotation_model(arg.annotation)
            if model is not None:
                self.env[arg.arg] = Instance(model, parameter=True)
            elif arg.arg == "request" or (
                arg.annotation is not None and (dotted(arg.annotation) or "").endswith("Request")
            ):
                requests.add(arg.arg)
        self.requests = frozenset(requests)
        self.statements(node.body)
        return self.facts

    def does_orm_work(self, node: ast.AST) -> bool:
        """True when running ``node`` (a def or a lambda) evaluates a query."""
        if self.depth > 1:
            return False
        sub = OrmAnalyzer(self.sf, self.index, self.env, self.local_defs, self.depth + 1)
        if isinstance(node, ast.Lambda):
            sub.scope_node = self.scope_node
            sub.requests = self.requests
            sub.expr(node.body)
            return sub.facts.evaluates
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return sub.function(node).evaluates
        return False

    # --- recording --------------------------------------------------------------------

    def evaluation(self, node: ast.expr) -> None:
        self.facts.evaluations[id(node)] = node

    def reads(self, expr: ast.expr, node: ast.expr | None = None) -> None:
        """``expr``, a queryset, is read whole (iterated, ``list()``, ``len()``, ``in``,
        truth): a query unless its rows are in memory; a local then holds them."""
        qs = self.queryset(expr)
        if qs is None:
            return
        if not qs.cached:
            self.evaluation(node if node is not None else expr)
        self.fill(expr)

    def fill(self, expr: ast.expr) -> None:
        """A local queryset evaluated here keeps its rows: reading it again is no query."""
        if isinstance(expr, ast.Name):
            bound = self.env.get(expr.id)
            if isinstance(bound, QuerySet):
                self.env[expr.id] = replace(bound, cached=True)

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
                for node in descendants(case.pattern):
                    for name in pattern_names(node):
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
            self.expressions(n for n in children(stmt) if isinstance(n, ast.expr))

    def loop(self, stmt: ast.For | ast.AsyncFor) -> None:
        self.expr(stmt.iter)
        if isinstance(stmt, ast.For):
            self.iterated(stmt.iter)
        else:
            self.fill(stmt.iter)  # ``async for`` fetches the rows in a thread, and keeps them
        self.bind_item(stmt.target, stmt.iter)
        self.statements(stmt.body)
        self.statements(stmt.orelse)

    def iterated(self, iterable: ast.expr) -> None:
        """``iterable`` is iterated by a sync ``for`` or comprehension."""
        if self.queryset(iterable) is not None:
            self.reads(iterable)
        elif self.iterates_queryset(iterable):
            assert isinstance(iterable, ast.Call)
            for arg in iterable.args:
                self.reads(arg, iterable)

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
            and thread_insensitive(decorator)
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
                    or self.produced_queryset(value)
                    or self.model_binding(value)
                )
            self.unbind_name(target.id)
            if bound is not None:
                self.env[target.id] = bound
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element, None)
            # ``order, created = Order.objects.get_or_create(...)``
            first = target.elts[0] if len(target.elts) == 2 else None
            if value is not None and isinstance(first, ast.Name) and first.id not in self.opaque:
                item = self.produced_instance(value, pair=True)
                if item is not None:
                    self.env[first.id] = item
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

    def model_binding(self, value: ast.expr) -> ModelClass | None:
        """``User = get_user_model()``: a local that names a model class."""
        model = self.model_call(value) if isinstance(value, ast.Call) else None
        return ModelClass(model) if model is not None else None

    # --- expressions -------------------------------------------------------------------

    def expressions(self, exprs: Iterable[ast.expr | None]) -> None:
        for expr in exprs:
            self.expr(expr)

    def truth(self, expr: ast.expr) -> None:
        """``expr`` is tested for truth (``if``, ``while``, ``not``, ``and``/``or``)."""
        self.expr(expr)
        self.reads(expr)

    def expr(self, expr: ast.expr | None) -> None:
        if expr is None or isinstance(expr, (ast.Name, ast.Constant, ast.Lambda)):
            return  # a name or a constant holds nothing to record; a lambda runs elsewhere
        if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            self.comprehension(expr)
        elif isinstance(expr, ast.Call):
            self.call(expr)
        elif isinstance(expr, ast.Attribute):
            self.attribute(expr)
        elif isinstance(expr, ast.Subscript):
            if not isinstance(expr.slice, ast.Slice):
                qs = self.queryset(expr.value)
                if qs is not None and not qs.cached:
                    self.evaluation(expr)  # a query for that row (the rows are not kept)
            self.expr(expr.value)
            self.expr(expr.slice)
        elif isinstance(expr, ast.Compare):
            self.expressions([expr.left, *expr.comparators])
            for op, right in zip(expr.ops, expr.comparators, strict=True):
                if isinstance(op, (ast.In, ast.NotIn)):
                    self.reads(right, expr)
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
            self.expressions(n for n in children(expr) if isinstance(n, ast.expr))

    def attribute(self, expr: ast.Attribute) -> None:
        value = expr.value
        if isinstance(expr.ctx, ast.Load) and isinstance(value, (ast.Name, ast.Attribute)):
            owner = self.env.get(value.id) if isinstance(value, ast.Name) else self.user_of(value)
            if isinstance(owner, Instance):
                relation = self.index.model_relations(owner.model).get(expr.attr)
                if (
                    relation is not None
                    and relation[0] in RELATION_KINDS
                    and not owner.has_loaded(expr.attr, relation[0])
                ):
                    self.facts.relation_reads[id(expr)] = RelationRead(
                        expr, dotted(value) or "", expr.attr, owner.model, owner.parameter
                    )
        self.expr(value)

    def comprehension(
        self, expr: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        saved = dict(self.env)
        first = expr.generators[0].iter  # evaluated in the enclosing body
        for generator in expr.generators:
            self.expr(generator.iter)
            if not generator.is_async:
                self.iterated(generator.iter)
            self.bind_item(generator.target, generator.iter)
            for condition in generator.ifs:
                self.truth(condition)
        if isinstance(expr, ast.DictComp):
            self.expressions([expr.key, expr.value])
        else:
            self.expr(expr.elt)
        self.env = saved
        self.fill(first)

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
        elif self.sf.resolve(func) in SHORTCUTS:
            self.evaluation(call)
        self.expr(func)
        self.expressions([*call.args, *(k.value for k in call.keywords)])
        if call.args and self.builtin(func, CONSUMERS):
            self.reads(call.args[0], call)
        elif (
            call.args
            and isinstance(func, ast.Call)
            and self.is_sync_to_async(func)
            and func.args
            and self.builtin(func.args[0], CONSUMERS)
        ):
            self.fill(call.args[0])  # ``await sync_to_async(list)(qs)``: its rows are kept
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
        if isinstance(func, ast.Call) and self.is_sync_to_async(func) and thread_insensitive(func):
            wrapper, target, args = func, first_arg(func.args), call.args
        elif self.is_sync_to_async(call) and thread_insensitive(call):
            wrapper, target = call, first_arg(call.args)
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
        if qs.cached and method in CACHE_READING:
            return False  # read from the rows in memory (or not surely a query)
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
