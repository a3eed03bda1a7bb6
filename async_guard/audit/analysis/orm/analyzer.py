"""The ORM analysis of one body: one pass, in source order (see the package doc)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import replace

from async_guard.audit.analysis.orm.classify import OrmTypes
from async_guard.audit.analysis.orm.values import (
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
    OrmFacts,
    QuerySet,
    RelationRead,
    defs_in,
    first_arg,
    pattern_names,
    thread_insensitive,
)
from async_guard.audit.analysis.questions import Questions
from async_guard.audit.analysis.source import SourceFile


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
        for arg in [*positional, *args.kwonlyargs]:
            model = self.annotation_model(arg.annotation)
            if model is not None:
                self.env[arg.arg] = Instance(model, parameter=True)
        self.statements(node.body)
        return self.facts

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
