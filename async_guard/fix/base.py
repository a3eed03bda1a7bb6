"""What a fixer is, and what it sees of the file it fixes.

A fixer never edits text. Given one finding it *plans* an edit: the node of the
original tree to replace and a function that builds the replacement from that
node as it stands after its children were rewritten. All plans of one file are
applied in a single pass over the tree (see ``async_guard.fix.apply``), so the
line and column of every finding stay valid while planning, and fixes nested in
one another (an ORM call fixed inside a ``handle`` that is itself rewritten)
compose instead of clobbering each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import libcst as cst
from libcst.metadata import (
    CodeRange,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from async_guard.audit.finding import Finding, char_column

N = TypeVar("N", bound=cst.CSTNode)

#: A replacement builder: receives the node after its children were rewritten.
Rewrite = Callable[[cst.CSTNode], "cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]"]

ASYNC_TO_SYNC = ("asgiref.sync", "async_to_sync")
SYNC_TO_ASYNC = "asgiref.sync.sync_to_async"


class Unfixable(Exception):
    """A finding that is left alone; the message says why (shown to the user)."""


@dataclass(frozen=True, eq=False)
class Edit:
    """One planned replacement of one node of the original tree.

    ``target`` is the node the finding points at, when that is not ``node``
    (two findings on one target are fixed once). ``locks`` are nodes no other
    fix may replace, because this rewrite restructures them (an
    ``asyncio.run(f(x))`` rewrite takes ``f(x)`` apart).
    ``add_imports`` are ``(module, name)`` pairs the new code needs;
    ``drop_imports`` are ``(module, name, asname)`` imports to remove if the
    rewritten file no longer uses them.
    """

    node: cst.CSTNode
    rewrite: Rewrite
    target: cst.CSTNode | None = None
    locks: tuple[cst.CSTNode, ...] = ()
    add_imports: tuple[tuple[str, str], ...] = ()
    drop_imports: tuple[tuple[str, str | None, str | None], ...] = ()

    @property
    def key(self) -> cst.CSTNode:
        return self.target if self.target is not None else self.node


class Fixer:
    """Base of the fixers: a subclass with a ``code`` registers itself.

    ``priority``: fixers with a lower number plan first and so win when two
    fixes would touch the same code (AG203 restructures a call that AG201 would
    otherwise rewrite on its own).
    """

    code: ClassVar[str]
    priority: ClassVar[int] = 1
    registry: ClassVar[dict[str, Fixer]] = {}

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if "code" in cls.__dict__:
            Fixer.registry[cls.code] = cls()

    def plan(self, finding: Finding, ctx: FixContext) -> list[Edit]:
        """The edits that fix ``finding``; raise ``Unfixable`` to leave it alone."""
        raise NotImplementedError


@dataclass
class FixContext:
    """The parsed file with the metadata fixers ask about, resolved lazily."""

    wrapper: MetadataWrapper
    source_lines: list[str]
    _by_line: dict[int, list[cst.CSTNode]] = field(default_factory=dict, init=False)

    @property
    def module(self) -> cst.Module:
        return self.wrapper.module

    def position(self, node: cst.CSTNode) -> CodeRange:
        return self.wrapper.resolve(PositionProvider)[node]

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.wrapper.resolve(ParentNodeProvider).get(node)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        parent = self.parent(node)
        while parent is not None:
            yield parent
            parent = self.parent(parent)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """What a name or dotted name means (``asyncio.run``); empty for anything else."""
        if not isinstance(node, cst.Name | cst.Attribute):
            return set()
        names: Any = self.wrapper.resolve(QualifiedNameProvider).get(node, set())
        if callable(names):  # libcst computes qualified names lazily
            names = names()
        return {q.name for q in names}

    def scope(self, node: cst.CSTNode) -> cst.metadata.Scope | None:
        return self.wrapper.resolve(ScopeProvider).get(node)

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | cst.Lambda | None:
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, cst.FunctionDef | cst.Lambda):
                return ancestor
        return None

    def locate(
        self, finding: Finding, kind: type[N], accept: Callable[[N], bool] = lambda _: True
    ) -> N:
        """The node of ``kind`` the finding points at.

        A finding's column is 1-based; the engine may count it in characters or,
        like ``ast``, in UTF-8 bytes, so both readings are tried; when neither
        matches, the only acceptable node on the line is taken, if there is
        exactly one.
        """
        candidates = [
            node for node in self._nodes_on(finding.line) if isinstance(node, kind) and accept(node)
        ]
        columns = {finding.col - 1, self._char_column(finding.line, finding.col - 1)}
        exact = [node for node in candidates if self._start_column(node) in columns]
        if exact:
            # ``a.filter().count()`` and ``a.filter()`` start at the same place: the
            # end position decides, else the outermost node (the one evaluated last).
            ends = {finding.end_col - 1, finding.end_col}
            exact.sort(
                key=lambda node: (
                    self._ends_at(node, finding.end_line, ends),
                    node_size(self.position(node)),
                ),
                reverse=True,
            )
            return exact[0]
        if len(candidates) == 1:
            return candidates[0]
        what = "one" if not candidates else f"one of {len(candidates)} candidates"
        raise Unfixable(
            f"cannot locate the reported code at {finding.line}:{finding.col} "
            f"(found {what}); was the file changed after the audit?"
        )

    def _start_column(self, node: cst.CSTNode) -> int:
        # libcst puts a def at its ``def``/``async`` keyword, as ast does.
        return self.position(node).start.column

    def _ends_at(self, node: cst.CSTNode, line: int, columns: set[int]) -> bool:
        end = self.position(node).end
        return end.line == line and end.column in columns

    def _char_column(self, line: int, byte_col: int) -> int:
        if not 0 < line <= len(self.source_lines):
            return byte_col
        return char_column(self.source_lines[line - 1], byte_col)

    def _nodes_on(self, line: int) -> list[cst.CSTNode]:
        if not self._by_line:
            for node, where in self.wrapper.resolve(PositionProvider).items():
                self._by_line.setdefault(where.start.line, []).append(node)
        return self._by_line.get(line, [])

    def meanings(self, node: cst.CSTNode, name: str) -> set[str]:
        """The qualified names ``name`` may stand for where ``node`` is (empty: unbound)."""
        scope = self.scope(node)
        found = scope.get_qualified_names_for(name) if scope is not None else set()
        return {q.name for q in found}


def node_size(where: CodeRange) -> tuple[int, int]:
    return (where.end.line - where.start.line, where.end.column - where.start.column)


def needs_async_to_sync(ctx: FixContext, node: cst.CSTNode) -> tuple[tuple[str, str], ...]:
    """The import ``async_to_sync`` needs at ``node``; Unfixable if the name is taken."""
    meanings = ctx.meanings(node, ASYNC_TO_SYNC[1])
    if not meanings:
        return (ASYNC_TO_SYNC,)
    if ".".join(ASYNC_TO_SYNC) not in meanings:
        raise Unfixable("the name async_to_sync is bound to something else in this scope")
    return ()


def comments_in(node: cst.CSTNode, *, outside: cst.CSTNode | None = None) -> bool:
    """Whether ``node`` holds a comment that is not inside ``outside``."""
    found = False

    class _Finder(cst.CSTVisitor):
        def on_visit(self, visiting: cst.CSTNode) -> bool:
            nonlocal found
            if visiting is outside:
                return False
            if isinstance(visiting, cst.Comment):
                found = True
            return not found

    node.visit(_Finder())
    return found
