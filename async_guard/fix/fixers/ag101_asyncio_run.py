"""AG101: ``asyncio.run(fetch(pr, repo))`` becomes ``async_to_sync(fetch)(pr, repo)``.

``async_to_sync`` runs the coroutine so that the ``sync_to_async`` calls inside
it come back to the calling thread (and its database connection and
transaction), where ``asyncio.run`` sends them to asgiref's shared executor.
The arguments are evaluated in the caller either way, so the rewrite keeps
their order and side effects. ``import asyncio`` goes when nothing else uses it.
"""

from __future__ import annotations

import libcst as cst

from async_guard.audit.finding import Finding
from async_guard.fix.base import (
    ASYNC_TO_SYNC,
    Edit,
    FixContext,
    Fixer,
    Rewrite,
    Unfixable,
    comments_in,
    needs_async_to_sync,
)


class AsyncioRunFixer(Fixer):
    code = "AG101"
    priority = 0

    def plan(self, finding: Finding, ctx: FixContext) -> list[Edit]:
        call = ctx.locate(finding, cst.Call)
        if "asyncio.run" not in ctx.qualified_names(call.func):
            raise Unfixable(
                "not an asyncio.run() call (loop.run_until_complete() on your own loop: "
                "replace the loop and the call with async_to_sync by hand)"
            )
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            raise Unfixable("asyncio.run() has more than the coroutine argument (debug=...)")
        inner = call.args[0].value
        if isinstance(inner, cst.Lambda) or not isinstance(inner, cst.Call):
            raise Unfixable(
                "the argument is not a call like fetch(...): async_to_sync needs the "
                "coroutine function, and this expression does not name it"
            )
        if comments_in(call, outside=inner):
            raise Unfixable("a comment inside asyncio.run( ... ) would be lost")
        # ``asyncio.run(\n    fetch(\n        a,\n    )\n)``: the call moves up a line,
        # to the indentation of the line it now starts on; its continuation lines
        # move out by the same amount.
        outer_at, inner_at = ctx.position(call).start, ctx.position(inner).start
        line = ctx.source_lines[outer_at.line - 1]
        indent = len(line) - len(line.lstrip(" "))
        dedent = inner_at.column - indent if inner_at.line > outer_at.line else 0
        return [
            Edit(
                call,
                _rewriter(dedent),
                locks=(inner,),
                add_imports=needs_async_to_sync(ctx, call),
                drop_imports=(_import_of(call.func),),
            )
        ]


def _rewriter(dedent: int) -> Rewrite:
    def rewrite(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        inner = node.args[0].value
        assert isinstance(inner, cst.Call)
        bridge = cst.Call(func=cst.Name(ASYNC_TO_SYNC[1]), args=[cst.Arg(inner.func)])
        new = inner.with_changes(func=bridge, lpar=node.lpar, rpar=node.rpar)
        if dedent <= 0:
            return new
        dedenter = _Dedent(dedent)
        shifted = new.visit(dedenter)
        assert isinstance(shifted, cst.Call)
        return new if dedenter.failed else shifted

    return rewrite


class _Dedent(cst.CSTTransformer):
    """Moves the continuation lines of an expression ``by`` columns to the left.

    Leaves a line alone when it has fewer leading spaces than that (tabs, odd
    hand alignment), and then the whole rewrite keeps the old layout.
    """

    def __init__(self, by: int) -> None:
        super().__init__()
        self.by = by
        self.failed = False

    def _shift(self, space: cst.SimpleWhitespace) -> cst.SimpleWhitespace:
        if space.value[: self.by] != " " * self.by:
            self.failed = True
            return space
        return space.with_changes(value=space.value[self.by :])

    def leave_ParenthesizedWhitespace(
        self, original_node: cst.ParenthesizedWhitespace, updated_node: cst.ParenthesizedWhitespace
    ) -> cst.ParenthesizedWhitespace:
        return updated_node.with_changes(last_line=self._shift(updated_node.last_line))

    def leave_EmptyLine(
        self, original_node: cst.EmptyLine, updated_node: cst.EmptyLine
    ) -> cst.EmptyLine:
        return updated_node.with_changes(whitespace=self._shift(updated_node.whitespace))


def _import_of(func: cst.BaseExpression) -> tuple[str, str | None, str | None]:
    """The import that made ``func`` mean ``asyncio.run`` (removed later if unused)."""
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        alias = func.value.value
        return ("asyncio", None, None if alias == "asyncio" else alias)
    name = func.value if isinstance(func, cst.Name) else "run"
    return ("asyncio", "run", None if name == "run" else name)
