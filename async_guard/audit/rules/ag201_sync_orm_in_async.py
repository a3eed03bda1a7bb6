"""AG201: a query evaluated inside ``async def``."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope


class SyncOrmInAsync(Rule):
    """A Django query runs inside `async def` without `sync_to_async`.

    ## What goes wrong

    Django's ORM is synchronous. Called on the event loop's thread it raises
    `SynchronousOnlyOperation` ("You cannot call this from an async context"),
    often halfway through a job whose first writes already happened, which
    leaves data half-updated (one team lost two trading positions that way).
    The query runs when it is
    *evaluated*: `get()`, `first()`, `last()`, `count()`, `exists()`, `create()`,
    `get_or_create()`, `update()`, `delete()`, `earliest()`, `latest()`,
    `in_bulk()`, `aggregate()`, an instance's `save()`, `delete()` or
    `refresh_from_db()`, a `for` loop or comprehension over a queryset, `list()`,
    `len()`, `bool()`, `if qs:`, `x in qs`, `qs[0]`, a related manager's
    `add()`/`remove()`/`clear()`/`set()`, `get_object_or_404()`.

    Querysets come from a model's managers (`objects`, declared ones, custom
    managers and `QuerySet.as_manager()`, `_default_manager`), from a custom
    manager's or queryset's method whose body returns one (`Order.objects.open()`),
    from `await sync_to_async(Order.objects.filter)(...)` (still lazy: it runs
    where it is evaluated), and from related managers: a reverse foreign key or
    many-to-many (`order.lines.all()`, `order.line_set.count()`,
    `user.groups.exists()`, `group.user_set.all()`) on an instance, whether it
    was fetched (`get()`, `create()`, `get_or_create()`, their awaited async
    twins, a loop over a queryset), annotated as a parameter, or is
    `request.user`.

    Building a queryset (`filter()`, `exclude()`, `order_by()`,
    `select_related()`, slicing) runs nothing and is not reported; neither is the
    `a`-prefixed async API (`aget()`, `acount()`, `asave()`...) nor `async for`,
    nor reading rows already in memory: a relation prefetched with the instance
    (`prefetch_related("lines")`, then `order.lines.all()`), or a queryset
    evaluated earlier in the same function (`rows = list(qs)`, then `len(qs)`).
    Only managers of classes known to be Django models count (`bucket.objects` of
    boto3 is not the ORM), and code in a nested sync `def` or a `lambda` is not
    in the async function: it runs where it is called.

    ## Bad

    ```python
    async def fix_position(pk):
        position = Position.objects.get(id=pk)  # SynchronousOnlyOperation
        position.save()
    ```

    ## Fix

    Use the async API, or hand the sync call (not its result) to `sync_to_async`:

    ```python
    async def fix_position(pk):
        position = await Position.objects.aget(id=pk)
        await position.asave()
        # or
        position = await sync_to_async(Position.objects.get)(id=pk)
        await sync_to_async(position.save)()
    ```
    """

    code: ClassVar[str] = "AG201"
    name: ClassVar[str] = "sync-orm-in-async"
    severity: ClassVar[Severity] = "error"
    triggers: ClassVar[tuple[str, ...]] = ("async",)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, scope: Scope) -> None:
        facts = self.orm_facts(scope)
        for expr in facts.evaluations.values():
            self.report(
                expr,
                f"query evaluated in async function {self.function_name(scope)}(): raises "
                "SynchronousOnlyOperation on the event loop",
                hint="use the async API (aget, acount, asave, async for ...) or "
                "await sync_to_async(<the callable>)(...)",
                scope=scope,
            )
