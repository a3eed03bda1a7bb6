"""AG304: an ``X_sync`` twin of an async ``X`` that runs its own event loop."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.analysis.loop_calls import GET_LOOP, NEW_LOOP, bridge_of
from async_guard.audit.analysis.nodes import descendants
from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope

_SUFFIX = "_sync"
#: Calls that open an event loop of the twin's own (beyond asyncio.run/run_until_complete).
_LOOP_OPENERS = NEW_LOOP | GET_LOOP | {"asyncio.Runner", "asyncio.runners.Runner"}


class SyncTwinNotBridged(Rule):
    """A service's `X_sync` twin of `async def X` runs its own event loop.

    ## What goes wrong

    A common service layout gives each async method a sync twin (`X_sync`) for
    management commands and Celery tasks. A twin that calls `asyncio.run()` or
    opens a loop with `new_event_loop()`/`run_until_complete()` breaks in the very
    places it is meant for: inside a Celery task or a view, `sync_to_async` and
    the async ORM under that loop run on asgiref's shared executor thread, on
    another database connection and outside the caller's transaction (writes
    silently lost); called from async code it fails because a loop is already
    running; and SDK sessions made in that loop die with it ("Event loop is
    closed"). Reported for a sync `X_sync` defined next to an `async def X` (in
    the same class, or both at module level) that opens a loop and does not
    delegate through `async_to_sync` or a `run_async` helper.

    ## Bad

    ```python
    class OrderExecutionService:
        async def create_profit_targets(self, position):
            ...

        def create_profit_targets_sync(self, position):
            return asyncio.run(self.create_profit_targets(position))
    ```

    ## Fix

    Delegate through `async_to_sync` (or `async_guard.bridge.run_async`, or
    `async_guard.bridge.sync_twin`):

    ```python
    class OrderExecutionService:
        async def create_profit_targets(self, position):
            ...

        def create_profit_targets_sync(self, position):
            return async_to_sync(self.create_profit_targets)(position)
    ```
    """

    code: ClassVar[str] = "AG304"
    name: ClassVar[str] = "sync-twin-not-bridged"
    severity: ClassVar[Severity] = "warning"
    # The twin is reported only beside an ``async def`` of its body, so a file without
    # ``async`` has none (``_sync`` alone matched every ``is_sync`` and ``force_sync``).
    triggers: ClassVar[tuple[str, ...]] = ("async",)

    def _async_names(self, parent: ast.AST) -> frozenset[str]:
        """The ``async def`` names directly in ``parent``'s body, once per body."""
        cache: dict[int, frozenset[str]] = self.__dict__.setdefault("_async_by_body", {})
        names = cache.get(id(parent))
        if names is None:
            body = getattr(parent, "body", [])
            names = cache[id(parent)] = frozenset(
                s.name for s in body if isinstance(s, ast.AsyncFunctionDef)
            )
        return names

    def visit_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        twin = node.name[: -len(_SUFFIX)]
        if not node.name.endswith(_SUFFIX) or not twin or scope.parent is None:
            return
        if twin not in self._async_names(scope.parent.node):
            return
        calls = [n for n in descendants(node) if isinstance(n, ast.Call)]
        bridges = {b.kind for b in (bridge_of(self.file, c) for c in calls) if b is not None}
        if bridges & {"async_to_sync", "run_async"}:
            return
        owner = "self." if scope.parent.kind == "class" else ""
        name = self.function_name(scope)
        if bridges or any(self.file.resolve(c.func) in _LOOP_OPENERS for c in calls):
            self.report(
                node,
                f"{name}() is the sync twin of async {name[: -len(node.name)]}{twin}() but "
                "runs its own event "
                "loop instead of bridging with async_to_sync",
                hint=f"return async_to_sync({owner}{twin})(...) or "
                f"async_guard.bridge.run_async({owner}{twin}(...))",
            )
