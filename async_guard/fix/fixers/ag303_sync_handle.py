"""AG303: ``async def handle`` becomes a sync ``handle`` that bridges to the old body.

Django calls ``handle()`` and never awaits it, so an ``async def handle`` does
nothing but build a coroutine. The rewrite keeps the body, untouched, in a new
method ``_handle_async`` and makes ``handle`` a sync method with the same
signature and decorators that runs it through ``async_to_sync``: its ORM work
(through ``sync_to_async``) then comes back to the command's own thread. A
sibling method rather than a nested function keeps ``super()`` working.
"""

from __future__ import annotations

import libcst as cst

from async_guard.audit.finding import Finding
from async_guard.fix.base import (
    ASYNC_TO_SYNC,
    Edit,
    FixContext,
    Fixer,
    Unfixable,
    needs_async_to_sync,
)

BODY_NAME = "_handle_async"


class SyncHandleFixer(Fixer):
    code = "AG303"

    def plan(self, finding: Finding, ctx: FixContext) -> list[Edit]:
        handle = ctx.locate(
            finding,
            cst.FunctionDef,
            lambda f: f.name.value == "handle" and f.asynchronous is not None,
        )
        owner = ctx.parent(ctx.parent(handle) or handle)
        if not isinstance(owner, cst.ClassDef):
            raise Unfixable("handle is not a method of a class")
        if any(
            isinstance(stmt, cst.FunctionDef) and stmt.name.value == BODY_NAME
            for stmt in owner.body.body
        ):
            raise Unfixable(f"the class already defines {BODY_NAME}")
        if any(_decorator_name(d) in ("staticmethod", "classmethod") for d in handle.decorators):
            raise Unfixable("handle is a static or class method")
        params = handle.params
        if not (params.posonly_params or params.params):
            raise Unfixable("handle takes no self argument")
        return [Edit(handle, _rewrite, add_imports=needs_async_to_sync(ctx, handle))]


def _decorator_name(decorator: cst.Decorator) -> str:
    target = decorator.decorator
    return target.value if isinstance(target, cst.Name) else ""


def _rewrite(node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
    assert isinstance(node, cst.FunctionDef)
    params = node.params
    positional = [*params.posonly_params, *params.params]
    instance = positional[0].name
    forwarded = [cst.Arg(p.name) for p in positional[1:]]
    if isinstance(params.star_arg, cst.Param):
        forwarded.append(cst.Arg(params.star_arg.name, star="*"))
    tight = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
    forwarded += [cst.Arg(p.name, keyword=p.name, equal=tight) for p in params.kwonly_params]
    if params.star_kwarg is not None:
        forwarded.append(cst.Arg(params.star_kwarg.name, star="**"))
    bridge = cst.Call(
        cst.Call(
            cst.Name(ASYNC_TO_SYNC[1]),
            [cst.Arg(cst.Attribute(instance, cst.Name(BODY_NAME)))],
        ),
        forwarded,
    )
    sync = node.with_changes(
        asynchronous=None,
        body=cst.IndentedBlock([cst.SimpleStatementLine([cst.Return(bridge)])]),
    )
    body = node.with_changes(
        name=cst.Name(BODY_NAME), decorators=(), leading_lines=[cst.EmptyLine(indent=False)]
    )
    return cst.FlattenSentinel([sync, body])
