"""AG201: ``Model.objects.get(...)`` in ``async def`` becomes ``await Model.objects.aget(...)``.

Only where Django has an awaitable drop-in with the same arguments and result:
the ``a``-prefixed queryset methods (Django 4.1) and, on Django 4.2 and later,
``asave()``/``adelete()``/``arefresh_from_db()`` on instances. Iteration,
``len()``, indexing and the rest have no drop-in and are left for a hand fix.
A call inside a generator expression or a lambda is left alone: an ``await``
there would change what the enclosing expression is.
"""

from __future__ import annotations

from importlib import metadata

import libcst as cst

from async_guard.audit.finding import Finding
from async_guard.fix.base import SYNC_TO_ASYNC, Edit, FixContext, Fixer, Rewrite, Unfixable

QUERYSET_DROP_INS = frozenset(
    {
        "aggregate",
        "bulk_create",
        "bulk_update",
        "contains",
        "count",
        "create",
        "delete",
        "earliest",
        "exists",
        "explain",
        "first",
        "get",
        "get_or_create",
        "in_bulk",
        "last",
        "latest",
        "update",
        "update_or_create",
    }
)
#: Model instance methods whose async twins arrived in Django 4.2.
INSTANCE_DROP_INS = frozenset({"save", "refresh_from_db"})


def django_version() -> tuple[int, int]:
    """The installed Django's (major, minor), read without importing Django."""
    try:
        major, minor = metadata.version("django").split(".")[:2]
        return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)
    except (metadata.PackageNotFoundError, ValueError):
        return (0, 0)


class AsyncOrmFixer(Fixer):
    code = "AG201"

    def plan(self, finding: Finding, ctx: FixContext) -> list[Edit]:
        call = ctx.locate(finding, cst.Call, lambda c: isinstance(c.func, cst.Attribute))
        assert isinstance(call.func, cst.Attribute)
        method = call.func.attr.value
        if method in INSTANCE_DROP_INS:
            if django_version() < (4, 2):
                raise Unfixable(f"a{method}() needs Django 4.2 or later")
        elif method[1:] in QUERYSET_DROP_INS | INSTANCE_DROP_INS and method[0] == "a":
            raise Unfixable(f".{method}() is already the async API")
        elif method not in QUERYSET_DROP_INS:
            raise Unfixable(f"no awaitable drop-in for .{method}(): wrap it in sync_to_async")
        parent = ctx.parent(call)
        if isinstance(parent, cst.Await):
            raise Unfixable("the call is already awaited")
        wrapper = ctx.parent(parent) if isinstance(parent, cst.Arg) else None
        if isinstance(wrapper, cst.Call) and SYNC_TO_ASYNC in ctx.qualified_names(wrapper.func):
            raise Unfixable("the call is the argument of sync_to_async(): the AG203 fix applies")
        for ancestor in ctx.ancestors(call):
            if isinstance(ancestor, cst.GeneratorExp | cst.Lambda):
                raise Unfixable("inside a generator expression or lambda, await would not fit")
            if isinstance(ancestor, cst.FunctionDef):
                if ancestor.asynchronous is None:
                    raise Unfixable("not directly inside an async def")
                break
        else:
            raise Unfixable("not inside an async def")
        needs_parens = (
            isinstance(parent, cst.Attribute | cst.Subscript) and parent.value is call
        ) or (isinstance(parent, cst.Call) and parent.func is call)
        return [Edit(call, _rewriter(needs_parens))]


def _rewriter(needs_parens: bool) -> Rewrite:
    def rewrite(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
        method = node.func.attr
        renamed = method.with_changes(value=f"a{method.value}")
        call = node.with_changes(func=node.func.with_changes(attr=renamed), lpar=(), rpar=())
        if needs_parens and not node.lpar:
            return cst.Await(call, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return cst.Await(call, lpar=node.lpar, rpar=node.rpar)

    return rewrite
