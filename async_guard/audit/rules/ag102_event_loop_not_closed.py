"""AG102: ``asyncio.new_event_loop()`` whose ``close()`` is not guaranteed."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.analysis.loop_calls import NEW_LOOP, function_body_nodes
from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope

# Handing the loop to these does not pass on the duty to close it.
_NOT_AN_OWNER = frozenset({"asyncio.set_event_loop", "asyncio.events.set_event_loop"})


class EventLoopNotClosed(Rule):
    """`asyncio.new_event_loop()` whose `close()` no `try/finally` or context manager guarantees.

    ## What goes wrong

    A loop that is never closed keeps its selector (a file descriptor), its
    default executor's threads and every transport opened on it. In a
    long-lived process (a Celery worker, a web server) each call leaks them,
    until the process runs out of file descriptors, and asyncio warns
    "unclosed event loop" at garbage collection. Calling `loop.close()` at the
    end of the happy path is not enough: when `run_until_complete()` raises,
    the close is skipped. Loops that are returned or stored elsewhere (their
    owner closes them) are not flagged.

    ## Bad

    ```python
    def call_api():
        loop = asyncio.new_event_loop()
        result = loop.run_until_complete(async_call())
        loop.close()  # skipped when async_call() raises
        return result
    ```

    ## Fix

    ```python
    def call_api():
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(async_call())
        finally:
            loop.close()
    ```

    or `with asyncio.Runner() as runner: runner.run(async_call())` (Python 3.11+),
    or, in Django code, `async_to_sync(async_call)()`.
    """

    code: ClassVar[str] = "AG102"
    name: ClassVar[str] = "event-loop-not-closed"
    severity: ClassVar[Severity] = "warning"
    triggers: ClassVar[tuple[str, ...]] = ("asyncio",)

    def visit_Module(self, node: ast.Module, scope: Scope) -> None:
        self._check(node, scope)

    def visit_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        self._check(node, scope)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, scope: Scope) -> None:
        self._check(node, scope)

    def _check(self, owner: ast.AST, scope: Scope) -> None:
        if "new_event_loop" not in self.file.source_of(owner):
            return  # nothing to find here: spare the walk
        nodes = function_body_nodes(owner)
        for node in nodes:
            if not isinstance(node, ast.Call) or self.file.resolve(node.func) not in NEW_LOOP:
                continue
            parent = self._assignment(nodes, node)
            if parent is None:
                if self._called_on(nodes, node):
                    self.report(
                        node,
                        "a new event loop is used and dropped without ever being closed",
                        hint="keep it in a variable and close() it in a finally block, "
                        "or use asyncio.Runner",
                        scope=scope,
                    )
                continue
            name = parent
            if (
                self._escapes(nodes, name)
                or self._captured(owner, name)
                or self._closed_in_finally(nodes, name)
            ):
                continue
            closed = self._closed_anywhere(nodes, name)
            self.report(
                node,
                f"event loop {name!r} is closed only on the happy path: an exception "
                "skips loop.close()"
                if closed
                else f"event loop {name!r} is never closed",
                hint="wrap its use in try: ... finally: loop.close() (or use asyncio.Runner)",
                scope=scope,
            )

    @staticmethod
    def _assignment(nodes: list[ast.AST], call: ast.Call) -> str | None:
        for node in nodes:
            if isinstance(node, ast.Assign) and node.value is call:
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                return names[0] if len(names) == len(node.targets) == 1 else "?"
            if isinstance(node, ast.AnnAssign) and node.value is call:
                return node.target.id if isinstance(node.target, ast.Name) else "?"
        return None

    @staticmethod
    def _called_on(nodes: list[ast.AST], call: ast.Call) -> bool:
        return any(
            isinstance(node, ast.Attribute) and node.value is call and node.attr != "close"
            for node in nodes
        )

    def _escapes(self, nodes: list[ast.AST], name: str) -> bool:
        if name == "?":
            return True  # stored in an attribute or a container: its owner closes it
        for node in nodes:
            if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)) and _holds(
                node.value, name
            ):
                return True
            if isinstance(node, ast.Call) and self.file.resolve(node.func) not in _NOT_AN_OWNER:
                args = [*node.args, *(k.value for k in node.keywords)]
                if any(_holds(a, name) for a in args):
                    return True
            if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                _mentions(item.context_expr, name) for item in node.items
            ):
                return True
            if isinstance(node, ast.Assign) and _holds(node.value, name):
                return True
            if isinstance(node, ast.keyword | ast.Call) and _bound_method_of(node, name):
                return True
        return False

    @staticmethod
    def _captured(owner: ast.AST, name: str) -> bool:
        """A nested function or lambda uses the loop: it lives on (say, in a thread)."""
        if isinstance(owner, ast.Module):
            return False  # module globals are not captured, they are shared
        return any(
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            and node is not owner
            and _mentions(node, name)
            and not any(
                isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
                for n in ast.walk(node)
            )
            for node in ast.walk(owner)
        )

    @staticmethod
    def _closed_in_finally(nodes: list[ast.AST], name: str) -> bool:
        return any(
            isinstance(node, ast.Try)
            and any(_is_close(n, name) for stmt in node.finalbody for n in ast.walk(stmt))
            for node in nodes
        )

    @staticmethod
    def _closed_anywhere(nodes: list[ast.AST], name: str) -> bool:
        return any(_is_close(node, name) for node in nodes)


def _is_close(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "close"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == name
    )


def _bound_method_of(node: ast.keyword | ast.Call, name: str) -> bool:
    """``target=loop.run_forever``: a method of the loop handed on, not called here."""
    values = [node.value] if isinstance(node, ast.keyword) else list(node.args)
    return any(
        isinstance(v, ast.Attribute) and isinstance(v.value, ast.Name) and v.value.id == name
        for v in values
    )


def _holds(node: ast.AST | None, name: str) -> bool:
    """The value is the loop itself, or a tuple/list/dict that contains it."""
    if isinstance(node, ast.Name):
        return node.id == name
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_holds(e, name) for e in node.elts)
    if isinstance(node, ast.Dict):
        return any(_holds(v, name) for v in node.values)
    if isinstance(node, ast.Starred):
        return _holds(node.value, name)
    return False


def _mentions(node: ast.AST | None, name: str) -> bool:
    return node is not None and any(
        isinstance(n, ast.Name) and n.id == name for n in ast.walk(node)
    )
