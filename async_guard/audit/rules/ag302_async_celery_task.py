"""AG302: a Celery task defined ``async def``."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope


#: Task libraries whose workers await coroutine tasks: not Celery's problem.
_AWAITING_QUEUES = ("dramatiq.",)


class AsyncCeleryTask(Rule):
    """A Celery task is defined `async def`: Celery never awaits it.

    ## What goes wrong

    Celery calls a task's function synchronously and stores what it returns.
    For an `async def` task that is a coroutine object: the body never runs, the
    task is marked SUCCESS, and a "coroutine was never awaited" warning is the
    only trace (with a JSON result backend the task fails to serialize instead).
    Applies to `@shared_task`, `@app.task`, `@celery.task`, configured task
    decorators (`task-decorators`), and the `run` method of a `Task` subclass.

    ## Bad

    ```python
    @shared_task
    async def sync_positions_task():
        await sync_all_positions()
    ```

    ## Fix

    Keep the task sync and bridge into the async code once (`async_to_sync` or
    `async_guard.bridge.run_async`):

    ```python
    @shared_task
    def sync_positions_task():
        async_to_sync(sync_all_positions)()
    ```
    """

    code: ClassVar[str] = "AG302"
    name: ClassVar[str] = "async-celery-task"
    severity: ClassVar[Severity] = "error"
    triggers: ClassVar[tuple[str, ...]] = ("async",)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, scope: Scope) -> None:
        if scope.direct_context == "celery-task" and not self.runs_coroutines(node):
            self.report(
                node,
                f"Celery task {self.function_name(scope)}() is async def: Celery calls it without "
                "awaiting, so the body never runs and the task reports success",
                hint="make the task a plain def and call the async code with "
                "async_to_sync(fn)(...) or async_guard.bridge.run_async(...)",
            )

    def runs_coroutines(self, node: ast.AsyncFunctionDef) -> bool:
        """Task queues that do await an ``async def`` task (dramatiq's async actors)."""
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if (self.file.resolve(target) or "").startswith(_AWAITING_QUEUES):
                return True
        return False
