"""AG104: a sync->async bridge called inside ``async def``."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.analysis.loop_calls import bridge_of
from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope

_FAILURE = {
    "asyncio.run": "RuntimeError: asyncio.run() cannot be called from a running event loop",
    "run_until_complete": "RuntimeError: Cannot run the event loop while another loop is running",
    "async_to_sync": "RuntimeError: You cannot use AsyncToSync in the same thread as an async "
    "event loop",
    "run_async": "an error: the bridge refuses to start a loop inside a running one",
}


class BridgeInsideRunningLoop(Rule):
    """A sync->async bridge (`asyncio.run`, `async_to_sync()()`, `run_async`) inside `async def`.

    ## What goes wrong

    Code in an `async def` already runs on an event loop. Each of these bridges
    needs the calling thread to have *no* running loop, so the call fails at
    run time (`asyncio.run() cannot be called from a running event loop`,
    `You cannot use AsyncToSync in the same thread as an async event loop`),
    often only on the code path that tests did not cover. A sync function
    nested inside the `async def` is sync code and is not flagged (it usually
    runs in a thread through `sync_to_async`).

    ## Bad

    ```python
    async def refresh_quotes(symbols):
        session = async_to_sync(get_session)()
        return asyncio.run(fetch_quotes(session, symbols))
    ```

    ## Fix

    ```python
    async def refresh_quotes(symbols):
        session = await get_session()
        return await fetch_quotes(session, symbols)
    ```
    """

    code: ClassVar[str] = "AG104"
    name: ClassVar[str] = "bridge-inside-running-loop"
    severity: ClassVar[Severity] = "error"
    triggers: ClassVar[tuple[str, ...]] = ("async",)
    _awaited_calls: set[int] | None = None

    def visit_Call(self, node: ast.Call, scope: Scope) -> None:
        if not scope.in_async:
            return
        bridge = bridge_of(self.file, node)
        if bridge is None:
            return
        if bridge.kind == "run_async":
            callee = self.resolve(node.func, scope)
            if callee is not None and self.index.is_coroutine_function(callee):
                return  # an async helper that happens to be called run_async
            if self._awaited(node):
                return
        self.report(
            node,
            f"{bridge.kind}() inside async def: a loop is already running here, so this "
            f"fails with {_FAILURE[bridge.kind]}",
            hint="await the coroutine directly instead of bridging",
        )

    def _awaited(self, node: ast.Call) -> bool:
        if self._awaited_calls is None:  # once per file, however many calls ask
            self._awaited_calls = {
                id(n.value) for n in ast.walk(self.file.tree) if isinstance(n, ast.Await)
            }
        return id(node) in self._awaited_calls
