"""AG203: ``sync_to_async(qs.get(pk=1))`` becomes ``sync_to_async(qs.get)(pk=1)``.

The original runs the query in the event loop, before anything is wrapped, and
hands ``sync_to_async`` a model instance. The rewrite wraps the bound method and
passes the arguments to the wrapper, so the query runs in the sync thread. The
callee expression is moved out of the wrapper, so it must be free of queries:
names, attributes, lazy queryset methods (``filter``, ``select_related``...) and
``get_user_model()`` only. A trailing empty call (``sync_to_async(qs.get(pk=1))()``) is absorbed.
"""

from __future__ import annotations

import libcst as cst

from async_guard.audit.finding import Finding
from async_guard.fix.base import SYNC_TO_ASYNC, Edit, FixContext, Fixer, Unfixable, comments_in

#: Queryset methods that build a query without running it.
LAZY = frozenset(
    {
        "all",
        "alias",
        "annotate",
        "defer",
        "distinct",
        "exclude",
        "filter",
        "none",
        "only",
        "order_by",
        "prefetch_related",
        "reverse",
        "select_for_update",
        "select_related",
        "using",
        "values",
        "values_list",
    }
)


class WrapCallableFixer(Fixer):
    code = "AG203"
    priority = 0

    def plan(self, finding: Finding, ctx: FixContext) -> list[Edit]:
        outer = self._wrapper_call(finding, ctx)
        positional = [arg for arg in outer.args if arg.keyword is None]
        if len(positional) != 1 or positional[0].star:
            raise Unfixable("sync_to_async() is not given exactly one positional argument")
        inner = positional[0].value
        if not isinstance(inner, cst.Call):
            raise Unfixable("the argument of sync_to_async() is not a call")
        if not _lazy(ctx, inner.func):
            raise Unfixable(
                "the callee itself calls something that may query; moving it out of "
                "sync_to_async() would run that in the event loop"
            )
        parent = ctx.parent(outer)
        if isinstance(parent, cst.Call) and parent.func is outer:
            if parent.args:
                raise Unfixable("the wrapper is called with arguments of its own")
            if comments_in(parent, outside=outer):
                raise Unfixable("a comment inside the wrapper's call ( ... ) would be lost")
            node: cst.CSTNode = parent
        elif isinstance(parent, cst.Await):
            node = outer
        else:
            raise Unfixable("the wrapper is neither awaited nor called here; fix it by hand")
        return [Edit(node, _rewrite, target=outer, locks=(inner, outer))]

    def _wrapper_call(self, finding: Finding, ctx: FixContext) -> cst.Call:
        def is_wrapper(call: cst.Call) -> bool:
            return SYNC_TO_ASYNC in ctx.qualified_names(call.func)

        def is_wrapped(call: cst.Call) -> bool:
            arg = ctx.parent(call)
            wrapper = ctx.parent(arg) if isinstance(arg, cst.Arg) else None
            return isinstance(wrapper, cst.Call) and is_wrapper(wrapper)

        call = ctx.locate(finding, cst.Call, lambda c: is_wrapper(c) or is_wrapped(c))
        if is_wrapper(call):
            return call
        wrapper = ctx.parent(ctx.parent(call) or call)
        assert isinstance(wrapper, cst.Call)
        return wrapper


#: Calls that never query, allowed in the callee (``get_user_model().objects.get``).
NO_QUERY = frozenset({"django.contrib.auth.get_user_model"})


def _lazy(ctx: FixContext, func: cst.BaseExpression) -> bool:
    if isinstance(func, cst.Name):
        return True
    if isinstance(func, cst.Attribute):
        return _lazy(ctx, func.value)
    if not isinstance(func, cst.Call):
        return False
    if not func.args and ctx.qualified_names(func.func) & NO_QUERY:
        return True
    return (
        isinstance(func.func, cst.Attribute)
        and func.func.attr.value in LAZY
        and _lazy(ctx, func.func.value)
    )


def _rewrite(node: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(node, cst.Call)
    outer = node.func if isinstance(node.func, cst.Call) else node
    assert isinstance(outer, cst.Call)
    positional = next(arg for arg in outer.args if arg.keyword is None)
    inner = positional.value
    assert isinstance(inner, cst.Call)
    args = [arg.with_changes(value=inner.func) if arg is positional else arg for arg in outer.args]
    wrapper = outer.with_changes(args=args, lpar=(), rpar=())
    return inner.with_changes(func=wrapper, lpar=node.lpar, rpar=node.rpar)
