"""One walk per file: a stack of scopes, and every visitor called at every node.

The walker visits every node once and fans it out to every visitor (the rules,
or the fact collector) that defines ``visit_<NodeClass>``, then to
``leave_<NodeClass>`` after the node's children. A function's decorators,
default values and annotations are evaluated where the ``def`` stands, so they
are visited in the enclosing scope; its body in its own.

Each function's scope carries its entry-point context (see ``entrypoints``):
declared by the code, else the contexts that reach it through calls (asked of
the project, when the walk has one), else that of an enclosing sync entry point.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from async_guard.audit.analysis.entrypoints import (
    ENTRY_CONTEXTS,
    class_bases,
    function_context,
    has_main_guard,
    is_middleware_class,
)
from async_guard.audit.analysis.nodes import child_fields
from async_guard.audit.analysis.scope import Scope

if TYPE_CHECKING:
    from async_guard.audit.analysis.questions import Questions
    from async_guard.audit.analysis.source import SourceFile


Visitor = Callable[[Any, Scope], None]
_DEFINITIONS = frozenset({"FunctionDef", "AsyncFunctionDef", "ClassDef", "Lambda"})
#: Per node class: (its name if it is a definition, visit methods, child fields, leave methods).
_Row = tuple[str | None, tuple[Visitor, ...], tuple[str, ...], tuple[Visitor, ...]]
#: Per visitor class: its (node class name, method name) pairs for visiting and leaving,
#: read from the class once (``dir()`` of every rule on every walk cost a tenth of it).
_METHODS: dict[type, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {}


def _methods(cls: type) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    found = _METHODS.get(cls)
    if found is None:
        names = dir(cls)
        found = _METHODS[cls] = (
            tuple((name[6:], name) for name in names if name.startswith("visit_")),
            tuple((name[6:], name) for name in names if name.startswith("leave_")),
        )
    return found


class Walker:
    """Walks one tree once, keeping the scope stack and dispatching to visitors."""

    def __init__(
        self,
        sf: SourceFile,
        visitors: Iterable[object],
        index: Questions | None = None,
        task_decorators: Iterable[str] = (),
    ) -> None:
        self.sf = sf
        self.index = index
        self.task_decorators = tuple(task_decorators)
        self._enter: dict[str, list[Visitor]] = {}
        self._leave: dict[str, list[Visitor]] = {}
        self._table: dict[type, _Row] = {}
        #: Node classes with nothing to do: no visitor, no child nodes (see ``_visit``).
        self._inert: set[type] = set()
        self.add_visitors(visitors)
        script = has_main_guard(sf.tree) or sf.text.startswith("#!")
        self.scope = Scope("module", sf.tree, "", context="script" if script else "module")
        #: Where the visitors of this walk share work (the ORM analysis of a body,
        #: which several rules read), for this walk only.
        self.memo: dict[Any, Any] = {}

    def add_visitors(self, visitors: Iterable[object]) -> None:
        """Dispatch table: node class name -> bound visit/leave methods, built once."""
        for visitor in visitors:
            enter, leave = _methods(type(visitor))
            for node_name, method in enter:
                self._enter.setdefault(node_name, []).append(getattr(visitor, method))
            for node_name, method in leave:
                self._leave.setdefault(node_name, []).append(getattr(visitor, method))
        self._table.clear()
        self._inert.clear()

    def run(self) -> None:
        self._visit(self.sf.tree)

    def close(self) -> None:
        """Drop the dispatch tables: rules hold the walker, the tables hold the rules."""
        self._enter.clear()
        self._leave.clear()
        self._table.clear()
        self._inert.clear()
        self.memo.clear()

    def _row(self, kind: type) -> _Row:
        """What to do at a node of class ``kind``: once per class and walk."""
        name = kind.__name__
        fields = child_fields(kind)
        row = (
            name if name in _DEFINITIONS else None,
            tuple(self._enter.get(name, ())),
            fields,
            tuple(self._leave.get(name, ())),
        )
        self._table[kind] = row
        if row == (None, (), (), ()):
            self._inert.add(kind)
        return row

    def _visit(self, node: ast.AST) -> None:
        kind = type(node)
        row = self._table.get(kind) or self._row(kind)
        definition, enter, fields, leave = row
        if definition is not None:
            self._visit_definition(node, definition)  # type: ignore[arg-type]
            return
        if enter:
            scope = self.scope
            for visit in enter:
                visit(node, scope)
        # ast.iter_child_nodes, inlined and without the leaves no visitor wants (the
        # Load/Store contexts and operators): the walk is the audit's hottest loop
        # Names, constants and the like, which no visitor asks for and which hold no
        # node, are not visited at all (about half of a tree's nodes)
        inert = self._inert
        for field_name in fields:
            value = getattr(node, field_name, None)
            if type(value) is list:
                for item in value:
                    if type(item) not in inert and isinstance(item, ast.AST):
                        self._visit(item)
            elif type(value) not in inert and isinstance(value, ast.AST):
                self._visit(value)
        if leave:
            scope = self.scope
            for visit in leave:
                visit(node, scope)

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
            klass.middleware_convention = is_middleware_class(klass)
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
