"""AG101: ``asyncio.run()`` or ``run_until_complete()`` on a fresh loop in a sync entry point."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, ClassVar

from async_guard.audit.analysis.entrypoints import SYNC_ENTRY_CONTEXTS
from async_guard.audit.analysis.loop_calls import (
    GET_LOOP,
    NEW_LOOP,
    bridge_of,
    call_target,
    loop_variables,
)
from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope

_WHERE = {
    "celery-task": "a Celery task",
    "django-task": "a Django task",
    "view": "a view",
    "signal-receiver": "a signal receiver",
    "middleware": "a middleware",
    "model-method": "a model method",
}


class AsyncioRunInSyncEntrypoint(Rule):
    """`asyncio.run()` or a fresh loop's `run_until_complete()` in a task, view or receiver.

    ## What goes wrong

    `asyncio.run()` starts a brand-new event loop in the calling thread. Any
    `sync_to_async` (thread-sensitive, the default) or async ORM call
    (`aget()`, `asave()` ...) inside the coroutine then cannot find the outer
    sync thread that asgiref would normally hand it back to, so its ORM work
    runs on asgiref's shared executor thread: on *another database
    connection*, outside the caller's transaction and its
    `select_for_update()` locks, without the request's or task's thread
    locals. Writes are committed (or lost) behind the caller's back, and a
    rollback in the caller does not undo them. In Celery workers this shows
    up as database writes that "silently fail": the task succeeds, its
    transaction rolls back, and the rows written from the other connection
    stay (or the other way round). The finding is an error when the
    coroutine reaches `sync_to_async` or the async ORM through calls the
    audit can resolve, a warning otherwise (a fresh loop per call is still
    wasteful and breaks loop-bound clients).

    Helpers count too: a function reached only from one of these entry
    points, through calls the index resolves, is in that entry point's context.
    Management commands and scripts are not flagged (see AG103 for those).

    ## Bad

    ```python
    @shared_task
    def sync_pr(pr_id):
        pr = PullRequest.objects.get(pk=pr_id)
        result = asyncio.run(fetch_pr_complete_data(pr))  # ORM inside runs elsewhere
    ```

    ## Fix

    ```python
    from asgiref.sync import async_to_sync


    @shared_task
    def sync_pr(pr_id):
        pr = PullRequest.objects.get(pk=pr_id)
        result = async_to_sync(fetch_pr_complete_data)(pr)
    ```

    `async_to_sync` runs the coroutine on a loop in another thread and sends
    `sync_to_async` work back to *this* thread, on this thread's connection.
    `async_guard.bridge.run_async(coro)` does the same.
    """

    code: ClassVar[str] = "AG101"
    name: ClassVar[str] = "asyncio-run-in-sync-entrypoint"
    severity: ClassVar[Severity] = "warning"
    escalates_to: ClassVar[Severity | None] = "error"
    triggers: ClassVar[tuple[str, ...]] = ("asyncio",)
    depends_on_callers: ClassVar[bool] = True  # the entry point that reaches the call

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loops: dict[int, set[str]] = {}

    def visit_Call(self, node: ast.Call, scope: Scope) -> None:
        if scope.in_async:
            return
        bridge = bridge_of(self.file, node)
        if bridge is None or bridge.kind not in ("asyncio.run", "run_until_complete"):
            return
        if bridge.kind == "run_until_complete" and not self._fresh_loop(bridge.loop, scope):
            return
        where = self._entry(scope)
        if where is None:
            return
        target = call_target(bridge.target)
        callee = self.resolve(target, scope) if target is not None else None
        reaches_orm = callee is not None and self.index.reaches_async_orm(callee)
        what = (
            "asyncio.run()"
            if bridge.kind == "asyncio.run"
            else "run_until_complete() on a fresh loop"
        )
        if reaches_orm:
            message = (
                f"{what} in {_WHERE[where]}: the coroutine reaches sync_to_async/the async ORM, "
                "whose queries then run on asgiref's shared executor thread, on another "
                "database connection, outside this code's transaction"
            )
        else:
            message = (
                f"{what} in {_WHERE[where]}: a fresh event loop per call; any sync_to_async "
                "or async ORM work inside runs on another thread and database connection"
            )
        self.report(
            node,
            message,
            hint="use asgiref.sync.async_to_sync(fn)(...) (or async_guard.bridge.run_async)",
            severity="error" if reaches_orm else "warning",
        )

    def _fresh_loop(self, loop: ast.expr | None, scope: Scope) -> bool:
        if isinstance(loop, ast.Call):
            return self.file.resolve(loop.func) in NEW_LOOP | GET_LOOP
        if isinstance(loop, ast.Name):
            owner = scope.function.node if scope.function is not None else self.file.tree
            if id(owner) not in self._loops:  # once per function, however many calls ask
                self._loops[id(owner)] = set(loop_variables(self.file, owner))
            return loop.id in self._loops[id(owner)]
        return False

    def _entry(self, scope: Scope) -> str | None:
        function = scope.function
        if function is None:
            return None
        if function.context in SYNC_ENTRY_CONTEXTS:
            return function.context
        reached = self.index.contexts_of(function.qualname)
        for context in SYNC_ENTRY_CONTEXTS:
            if context in reached:
                return context
        klass = function.parent
        if klass is not None and klass.kind == "class" and self.index.is_model(klass.qualname):
            return "model-method"
        return None
