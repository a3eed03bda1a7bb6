"""AG102: an unclosed ``loop = asyncio.new_event_loop()`` gets ``try/finally: loop.close()``.

The statements after the assignment, in the same block, move into the ``try``;
a bare ``loop.close()`` among them moves to the ``finally``. Only done when
every use of the loop is in those statements and the loop cannot escape them
(returned, stored, aliased, used by a nested function): then closing it when
the block ends is exactly its lifetime.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from async_guard.audit.finding import Finding
from async_guard.fix.base import Edit, FixContext, Fixer, Rewrite, Unfixable

NEW_EVENT_LOOP = "asyncio.new_event_loop"


class CloseLoopFixer(Fixer):
    code = "AG102"

    def plan(self, finding: Finding, ctx: FixContext) -> list[Edit]:
        call = ctx.locate(
            finding, cst.Call, lambda c: NEW_EVENT_LOOP in ctx.qualified_names(c.func)
        )
        assign = ctx.parent(call)
        line = ctx.parent(assign) if assign is not None else None
        block = ctx.parent(line) if line is not None else None
        if not (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
            and isinstance(line, cst.SimpleStatementLine)
            and len(line.body) == 1
        ):
            raise Unfixable("the new loop is not assigned to a plain name on its own line")
        if not isinstance(block, cst.IndentedBlock):
            raise Unfixable("the loop is created at module level, not in a function body")
        function = ctx.enclosing_function(call)
        if not isinstance(function, cst.FunctionDef):
            raise Unfixable("the loop is not created inside a function")
        name = assign.targets[0].target.value
        rest = list(block.body[block.body.index(line) + 1 :])
        _check_uses(ctx, function, name, assign, rest)
        body = [stmt for stmt in rest if not _is_close(stmt, name)]
        if len(body) == 1 and _closes_finally(body[0], name):
            raise Unfixable(f"{name} is already closed in a finally block")
        if not body:
            raise Unfixable(f"nothing runs on {name} before it is closed")
        return [Edit(block, _rewriter(line, name), target=call)]


def _check_uses(
    ctx: FixContext,
    function: cst.FunctionDef,
    name: str,
    assign: cst.Assign,
    rest: list[cst.BaseStatement],
) -> None:
    declared = m.findall(function, m.Global() | m.Nonlocal())
    if any(n.name.value == name for d in declared for n in d.names):  # type: ignore[attr-defined]
        raise Unfixable(f"{name} is declared global or nonlocal")
    for use in m.findall(function, m.Name(value=name)):
        chain = list(ctx.ancestors(use))
        holder = chain[0]
        if use is assign.targets[0].target or _not_a_reference(use, holder):
            continue
        if not any(stmt in chain for stmt in rest):
            raise Unfixable(f"{name} is also used outside the statements that follow its creation")
        inner = next(a for a in chain if isinstance(a, cst.FunctionDef | cst.Lambda | cst.ClassDef))
        if inner is not function:
            raise Unfixable(f"{name} is used by a nested function, lambda or class")
        if isinstance(holder, cst.Attribute) and holder.value is use:
            continue
        if isinstance(holder, cst.Arg) and holder.keyword is None and not holder.star:
            continue
        raise Unfixable(
            f"{name} escapes (returned, stored, rebound or aliased) at line "
            f"{ctx.position(use).start.line}"
        )


def _not_a_reference(name: cst.CSTNode, holder: cst.CSTNode) -> bool:
    """``x.loop`` and ``f(loop=...)`` spell the name without meaning the variable."""
    return (isinstance(holder, cst.Attribute) and holder.attr is name) or (
        isinstance(holder, cst.Arg) and holder.keyword is name
    )


def _closes_finally(stmt: cst.BaseStatement, name: str) -> bool:
    return (
        isinstance(stmt, cst.Try)
        and stmt.finalbody is not None
        and any(_is_close(s, name) for s in stmt.finalbody.body.body)
    )


def _is_close(stmt: cst.CSTNode, name: str) -> bool:
    return m.matches(
        stmt,
        m.SimpleStatementLine(
            body=[m.Expr(m.Call(func=m.Attribute(m.Name(name), m.Name("close")), args=[]))]
        ),
    )


def _rewriter(line: cst.SimpleStatementLine, name: str) -> Rewrite:
    def rewrite(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.IndentedBlock)
        index = next(i for i, stmt in enumerate(node.body) if stmt.deep_equals(line))
        kept = [stmt for stmt in node.body[index + 1 :] if not _is_close(stmt, name)]
        close = cst.SimpleStatementLine(
            [cst.Expr(cst.Call(cst.Attribute(cst.Name(name), cst.Name("close"))))]
        )
        guarded = cst.Try(
            body=cst.IndentedBlock(kept),
            finalbody=cst.Finally(cst.IndentedBlock([close])),
        )
        return node.with_changes(body=[*node.body[: index + 1], guarded])

    return rewrite
