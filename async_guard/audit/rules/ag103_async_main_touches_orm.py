"""AG103: a script or management command whose entry point is ``asyncio.run(main())``
with an async ``main`` that reaches the ORM."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.analysis.loop_calls import bridge_of
from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope


class AsyncMainTouchesOrm(Rule):
    """A script or command runs `asyncio.run(main())` and the async `main` reaches the ORM.

    ## What goes wrong

    Inside `main()` every query must go through `sync_to_async` or the async
    ORM, and each of those runs on asgiref's executor thread: the script's
    work is split across threads and connections, any direct query raises
    `SynchronousOnlyOperation` halfway through (after earlier writes were
    committed), and `transaction.atomic()` around the run protects nothing.
    A script that ran `asyncio.run(main())` over ORM work this way corrupted
    two positions halfway through a data fix, and committed the rest. The
    finding is reported at the `asyncio.run()` call when `main` reaches a
    model manager, `sync_to_async` or the async ORM through resolvable calls.

    ## Bad

    ```python
    async def main():
        position = await sync_to_async(Position.objects.get)(id=33)
        await cancel_order(position.order_id)


    if __name__ == "__main__":
        asyncio.run(main())
    ```

    ## Fix

    Keep the entry point sync, do the ORM work there, and bridge only the SDK
    calls:

    ```python
    def main():
        position = Position.objects.get(id=33)
        async_to_sync(cancel_order)(position.order_id)


    if __name__ == "__main__":
        main()
    ```
    """

    code: ClassVar[str] = "AG103"
    name: ClassVar[str] = "async-main-touches-orm"
    severity: ClassVar[Severity] = "error"
    triggers: ClassVar[tuple[str, ...]] = ("asyncio",)
    depends_on_callers: ClassVar[bool] = True  # a script or command reaching the call

    def visit_Call(self, node: ast.Call, scope: Scope) -> None:
        if scope.in_async or scope.context not in ("script", "management-command"):
            return
        bridge = bridge_of(self.file, node)
        if (
            bridge is None
            or bridge.kind != "asyncio.run"
            or not isinstance(bridge.target, ast.Call)
        ):
            return
        callee = self.resolve(bridge.target.func, scope)
        if callee is None or not self.index.is_coroutine_function(callee):
            return
        if not self.index.reaches_orm(callee):
            return
        where = "script" if scope.context == "script" else "management command"
        name = callee.rsplit(".", 1)[-1]
        self.report(
            node,
            f"this {where} runs async {name}() with asyncio.run() and {name}() reaches the ORM: "
            "its queries run on other threads and connections, outside any transaction here",
            hint=f"make {name}() sync, keep the ORM work in it, and bridge only the async SDK "
            "calls with async_to_sync",
        )
