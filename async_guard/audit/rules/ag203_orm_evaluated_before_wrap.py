"""AG203: ``sync_to_async(<query>)``: the query ran before it was wrapped."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.finding import Severity
from async_guard.audit.rules.orm_body import OrmBodyRule

if TYPE_CHECKING:
    from async_guard.audit.analysis.orm import OrmFacts
    from async_guard.audit.analysis.scope import Scope


class OrmEvaluatedBeforeWrap(OrmBodyRule):
    """`sync_to_async()` is given a query's result instead of the callable.

    ## What goes wrong

    `sync_to_async(Position.objects.get(pk=1))` calls `get()` first, right where
    it stands (on the event loop, raising `SynchronousOnlyOperation`, or silently
    on the wrong thread), and then hands the *result* to `sync_to_async`, which
    fails when it is called because a model instance is not callable. The same
    holds for `sync_to_async(list(qs))` and `sync_to_async(position.save())`.

    ## Bad

    ```python
    position = await sync_to_async(Position.objects.get(pk=pk))()
    rows = await sync_to_async(list(qs))()
    ```

    ## Fix

    Pass the callable, then its arguments:

    ```python
    position = await sync_to_async(Position.objects.get)(pk=pk)
    rows = await sync_to_async(list)(qs)
    ```
    """

    code: ClassVar[str] = "AG203"
    name: ClassVar[str] = "orm-evaluated-before-wrap"
    severity: ClassVar[Severity] = "error"
    triggers: ClassVar[tuple[str, ...]] = ("sync_to_async", "SyncToAsync")

    def check(self, facts: OrmFacts, scope: Scope) -> None:
        for call in facts.wrapped_evaluations.values():
            self.report(
                call,
                "the query runs before sync_to_async() wraps it: it is evaluated here, "
                "and sync_to_async gets its result instead of a callable",
                hint="pass the callable and its arguments separately: "
                "sync_to_async(Model.objects.get)(pk=...), sync_to_async(list)(qs)",
                scope=scope,
            )
