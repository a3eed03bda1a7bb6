"""AG106: ``asyncio.get_event_loop()`` in sync code."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.analysis.loop_calls import GET_LOOP
from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope


class GetEventLoopInSyncCode(Rule):
    """`asyncio.get_event_loop()` called in sync code (fails in worker threads; deprecated).

    ## What goes wrong

    Outside a running loop, `get_event_loop()` only works in the main thread,
    where it silently creates a loop (deprecated since Python 3.10, an error
    in 3.12+ when there is no current loop). In any other thread (a Celery
    worker thread, a threaded WSGI server, code run through `sync_to_async`)
    it raises `RuntimeError: There is no current event loop in thread ...`.
    Code that works in `manage.py shell` then fails in production.

    ## Bad

    ```python
    def fetch_quote(symbol):
        loop = asyncio.get_event_loop()
        return loop.run_until_complete(get_quote(symbol))
    ```

    ## Fix

    ```python
    def fetch_quote(symbol):
        return async_to_sync(get_quote)(symbol)
    ```

    Inside `async def`, use `asyncio.get_running_loop()`.
    """

    code: ClassVar[str] = "AG106"
    name: ClassVar[str] = "get-event-loop-in-sync-code"
    severity: ClassVar[Severity] = "warning"
    triggers: ClassVar[tuple[str, ...]] = ("get_event_loop",)

    _guarded: set[int] | None = None

    def visit_Call(self, node: ast.Call, scope: Scope) -> None:
        if scope.in_async or self.file.resolve(node.func) not in GET_LOOP:
            return
        if id(node) in self._guarded_calls():
            return  # the code expects the RuntimeError and handles it
        self.report(
            node,
            "asyncio.get_event_loop() in sync code: raises RuntimeError in threads without "
            "a loop (Celery workers, sync_to_async threads) and is deprecated",
            hint="bridge with async_to_sync(fn)(...); inside async def use "
            "asyncio.get_running_loop()",
        )

    def _guarded_calls(self) -> set[int]:
        """Calls inside a ``try`` whose handlers catch RuntimeError (once per file)."""
        if self._guarded is None:
            self._guarded = set()
            for node in ast.walk(self.file.tree):
                if isinstance(node, ast.Try) and any(
                    _catches_runtime_error(h) for h in node.handlers
                ):
                    for stmt in node.body:
                        self._guarded.update(id(n) for n in ast.walk(stmt))
        return self._guarded


def _catches_runtime_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(
        isinstance(t, (ast.Name, ast.Attribute))
        and (t.id if isinstance(t, ast.Name) else t.attr)
        in ("RuntimeError", "Exception", "BaseException")
        for t in types
    )
