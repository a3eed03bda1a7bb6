"""AG204: ``sync_to_async(..., thread_sensitive=False)`` around ORM work."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.finding import Severity
from async_guard.audit.rules.orm_body import OrmBodyRule

if TYPE_CHECKING:
    from async_guard.audit.analysis.orm import OrmFacts
    from async_guard.audit.analysis.scope import Scope


class ThreadInsensitiveOrm(OrmBodyRule):
    """ORM work handed to `sync_to_async(..., thread_sensitive=False)` or another pool thread.

    ## What goes wrong

    With `thread_sensitive=False` asgiref runs the function in a pool thread of
    its own choosing. Django keeps one database connection per thread, so the
    query uses another connection than the request or task around it: outside
    its `transaction.atomic()` block, unable to see its uncommitted rows, and
    leaving connections that Django's request cleanup never closes. Django
    requires the ORM to run thread-sensitive (the default). `asyncio.to_thread()`
    and `loop.run_in_executor()` have the same effect.

    Reported when the wrapped callable surely does ORM work: a model manager or
    queryset method that runs a query, an instance's `save()`/`delete()`, a
    lambda or a function of this file whose body evaluates a query, or
    `list`/`len`... applied to a queryset.

    ## Bad

    ```python
    rows = await sync_to_async(load_positions, thread_sensitive=False)()
    ```

    ## Fix

    Keep the default (`thread_sensitive=True`), which runs the ORM on the one
    thread that owns the connection:

    ```python
    rows = await sync_to_async(load_positions)()
    ```
    """

    code: ClassVar[str] = "AG204"
    name: ClassVar[str] = "thread-insensitive-orm"
    severity: ClassVar[Severity] = "warning"
    triggers: ClassVar[tuple[str, ...]] = ("thread_sensitive", "to_thread", "run_in_executor")

    def check(self, facts: OrmFacts, scope: Scope) -> None:
        for node in facts.thread_insensitive.values():
            self.report(
                node,
                "ORM work sent to a pool thread (thread_sensitive=False, to_thread, "
                "run_in_executor) uses another database connection, outside the caller's "
                "transaction",
                hint="use sync_to_async(fn) with the default thread_sensitive=True: it keeps "
                "the ORM on the thread that owns the connection",
                scope=scope,
            )
