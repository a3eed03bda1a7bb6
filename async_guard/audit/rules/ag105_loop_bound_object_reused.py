"""AG105: a loop-bound value made in one bridged call used after its loop is gone."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.analysis.loop_calls import (
    Bridge,
    bridge_of,
    call_target,
    function_body_nodes,
)
from async_guard.audit.analysis.source import dotted
from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope

# Values that hold sockets, futures or tasks of the loop they were made on.
_LOOP_BOUND = re.compile(
    r"session|client|conn|channel|pool|socket|stream|transport|engine|websocket|producer|consumer",
    re.I,
)


@dataclass
class _Made:
    bridge: Bridge
    loop: str | None  # the loop variable for run_until_complete, None for a fresh loop
    line: int


class LoopBoundObjectReused(Rule):
    """A session or client made in one bridged call is used by a later one, after its loop closed.

    ## What goes wrong

    Async clients (HTTP sessions, SDK sessions, database and broker
    connections, streamers) bind their sockets and futures to the event loop
    that was running when they were created. `asyncio.run()`,
    `async_to_sync()` and `run_async()` each make a loop for one call and
    close it on return, so an object created in one such call is attached to a
    dead loop when the next call uses it: `RuntimeError: Event loop is
    closed`, or a hang on a future nobody will resolve (a broker SDK session
    created in one task run and kept in a module global fails this way on the
    next run). The same happens with `loop.run_until_complete()` after
    `loop.close()`.
    Only values whose name (or whose factory's name) says session, client,
    connection, channel, pool, socket, stream, transport or engine are
    tracked; plain data returned by a bridge is fine.

    ## Bad

    ```python
    def sync_account(user):
        session = async_to_sync(get_oauth_session)(user)
        return async_to_sync(fetch_positions)(session)  # session's loop is closed
    ```

    ## Fix

    Do all the async work in one bridged call:

    ```python
    async def _sync_account(user):
        session = await get_oauth_session(user)
        return await fetch_positions(session)


    def sync_account(user):
        return async_to_sync(_sync_account)(user)
    ```

    or keep one loop open for all the calls (`try/finally: loop.close()`).
    """

    code: ClassVar[str] = "AG105"
    name: ClassVar[str] = "loop-bound-object-reused"
    severity: ClassVar[Severity] = "error"
    triggers: ClassVar[tuple[str, ...]] = (
        "asyncio",
        "run_until_complete",
        "run_async",
        "async_to_sync",
    )

    def visit_Module(self, node: ast.Module, scope: Scope) -> None:
        self._check(node, scope)

    def visit_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        self._check(node, scope)

    def _check(self, owner: ast.AST, scope: Scope) -> None:
        text = self.file.source_of(owner)
        if "run" not in text and "async_to_sync" not in text:
            return  # no bridge can be written without these: spare the walk
        events: list[tuple[tuple[int, int], int, ast.AST]] = []
        for node in function_body_nodes(owner):
            if isinstance(node, ast.Call):
                events.append(((node.lineno, node.col_offset), 0, node))
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
                events.append((end, 1, node))
        made: dict[str, _Made] = {}
        closed: set[str] = set()
        for _, _, node in sorted(events, key=lambda e: (e[0], e[1])):
            if isinstance(node, ast.Assign):
                self._record(node, made)
                continue
            assert isinstance(node, ast.Call)
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "close"
                and isinstance(func.value, ast.Name)
            ):
                closed.add(func.value.id)
                continue
            bridge = bridge_of(self.file, node)
            if bridge is None:
                continue
            this_loop = dotted(bridge.loop) if bridge.loop is not None else None
            for name in _names_in(bridge.call):
                value = made.get(name)
                if value is None or value.bridge.call is node:
                    continue
                same_open_loop = (
                    value.loop is not None and value.loop == this_loop and value.loop not in closed
                )
                if same_open_loop:
                    continue
                why = (
                    f"its loop {value.loop!r} was closed"
                    if value.loop is not None and value.loop in closed
                    else "its loop closed (each bridge call makes and closes its own loop)"
                    if value.loop is None
                    else f"it belongs to loop {value.loop!r}, not this one"
                )
                self.report(
                    node,
                    f"{name!r} was made in the bridged call on line {value.line} and is used "
                    f"here after {why}: 'Event loop is closed' or a hang at run time",
                    hint="do the whole async sequence inside one coroutine and bridge once",
                    scope=scope,
                )

    def _record(self, node: ast.Assign, made: dict[str, _Made]) -> None:
        assert isinstance(node.value, ast.Call)
        bridge = bridge_of(self.file, node.value)
        for target in node.targets:
            if not isinstance(target, ast.Name):
                continue
            made.pop(target.id, None)
            if bridge is None:
                continue
            factory = call_target(bridge.target)
            factory_name = dotted(factory) if factory is not None else None
            if not (
                _LOOP_BOUND.search(target.id) or (factory_name and _LOOP_BOUND.search(factory_name))
            ):
                continue
            loop = dotted(bridge.loop) if bridge.loop is not None else None
            if bridge.kind == "run_until_complete" and loop is None:
                continue  # a loop we cannot name: unsure
            made[target.id] = _Made(bridge, loop, node.lineno)


def _names_in(call: ast.Call) -> set[str]:
    names: set[str] = set()
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        names.update(n.id for n in ast.walk(arg) if isinstance(n, ast.Name))
    if isinstance(call.func, ast.Call):  # async_to_sync(fn)(args): fn's own arguments too
        for arg in call.func.args[1:]:
            names.update(n.id for n in ast.walk(arg) if isinstance(n, ast.Name))
    return names
