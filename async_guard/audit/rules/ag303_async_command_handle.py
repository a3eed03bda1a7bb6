"""AG303: a management command whose ``handle`` is ``async def``."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope


class AsyncCommandHandle(Rule):
    """A management command's `handle` is `async def`: Django never awaits it.

    ## What goes wrong

    `BaseCommand.execute()` calls `self.handle(*args, **options)` and writes
    what it returns to stdout. An `async def handle` returns a coroutine object,
    so the command does nothing, exits 0, and (when the coroutine is printed)
    may even show `<coroutine object ...>` as its output. Applies to subclasses
    of `BaseCommand`, `LabelCommand` and `AppCommand`, directly or through
    project base classes.

    ## Bad

    ```python
    class Command(BaseCommand):
        async def handle(self, *args, **options):
            await cancel_order(options["order_id"])
    ```

    ## Fix

    Keep `handle` sync and bridge into the async helper:

    ```python
    class Command(BaseCommand):
        def handle(self, *args, **options):
            async_to_sync(cancel_order)(options["order_id"])
    ```
    """

    code: ClassVar[str] = "AG303"
    name: ClassVar[str] = "async-command-handle"
    severity: ClassVar[Severity] = "error"
    triggers: ClassVar[tuple[str, ...]] = ("async",)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, scope: Scope) -> None:
        if node.name == "handle" and scope.direct_context == "management-command":
            self.report(
                node,
                "management command handle() is async def: Django calls it without "
                "awaiting, so the command does nothing and exits successfully",
                hint="make handle() a plain def and call the async code with "
                "async_to_sync(fn)(...) or async_guard.bridge.run_async(...)",
            )
