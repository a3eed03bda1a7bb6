"""Calls that run or make an event loop from sync code (the sync->async bridges).

Shared by the fact collector and the AG1xx rules.

* ``asyncio.run(coro)``: a fresh loop, closed on return;
* ``<loop>.run_until_complete(coro)``: the given loop;
* ``async_to_sync(fn)(...)`` and the project's ``run_async(...)``: asgiref's bridge.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Literal

from async_guard.audit.analysis.source import SourceFile

ASYNCIO_RUN = frozenset({"asyncio.run", "asyncio.runners.run"})
NEW_LOOP = frozenset({"asyncio.new_event_loop", "asyncio.events.new_event_loop"})
GET_LOOP = frozenset({"asyncio.get_event_loop", "asyncio.events.get_event_loop"})
ASYNC_TO_SYNC = frozenset({"asgiref.sync.async_to_sync", "asgiref.sync.AsyncToSync"})

BridgeKind = Literal["asyncio.run", "run_until_complete", "async_to_sync", "run_async"]


@dataclass(frozen=True)
class Bridge:
    kind: BridgeKind
    call: ast.Call
    #: The coroutine (or coroutine function, for async_to_sync) handed over, if written.
    target: ast.expr | None
    #: For run_until_complete: the loop expression.
    loop: ast.expr | None = None


def bridge_of(sf: SourceFile, node: ast.Call) -> Bridge | None:
    """The bridge ``node`` is, or None."""
    func = node.func
    first = node.args[0] if node.args else None
    if isinstance(func, ast.Attribute) and func.attr == "run_until_complete":
        return Bridge("run_until_complete", node, first, func.value)
    if isinstance(func, ast.Call) and sf.resolve(func.func) in ASYNC_TO_SYNC:
        return Bridge("async_to_sync", node, func.args[0] if func.args else None)
    name = sf.resolve(func)
    if name in ASYNCIO_RUN:
        return Bridge("asyncio.run", node, first)
    if (
        name is not None
        and name.rsplit(".", 1)[-1] == "run_async"
        and not name.startswith("builtins.")
    ):
        return Bridge("run_async", node, first)
    return None


def call_target(expr: ast.expr | None) -> ast.expr | None:
    """``f`` for a coroutine written ``f(...)``, the function itself for ``async_to_sync(f)``."""
    if isinstance(expr, ast.Call):
        return expr.func
    if isinstance(expr, (ast.Name, ast.Attribute)):
        return expr
    return None


def function_body_nodes(node: ast.AST) -> list[ast.AST]:
    """Every node of a function (or module) body, not descending into nested definitions."""
    out: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        out.append(child)
        stack.extend(ast.iter_child_nodes(child))
    return out


def loop_variables(sf: SourceFile, node: ast.AST) -> dict[str, ast.Call]:
    """Local names assigned a fresh loop (``asyncio.new_event_loop()``/``get_event_loop()``)."""
    loops: dict[str, ast.Call] = {}
    for child in function_body_nodes(node):
        if (
            isinstance(child, ast.Assign)
            and isinstance(child.value, ast.Call)
            and sf.resolve(child.value.func) in NEW_LOOP | GET_LOOP
        ):
            for target in child.targets:
                if isinstance(target, ast.Name):
                    loops[target.id] = child.value
    return loops
