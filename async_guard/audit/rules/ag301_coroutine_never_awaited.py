"""AG301: a coroutine function called, and the coroutine dropped."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.analysis.django_names import ASYNC_ORM_METHODS, TASK_COROUTINE_METHODS
from async_guard.audit.analysis.nodes import descendants
from async_guard.audit.analysis.orm.values import COROUTINE_METHODS
from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope


class CoroutineNeverAwaited(Rule):
    """A coroutine function is called but its coroutine is never awaited.

    ## What goes wrong

    Calling an `async def` function runs none of its body: it returns a
    coroutine object, which does the work only when it is awaited or handed to
    something that runs it. A dropped coroutine is a silent no-op (Python prints
    "RuntimeWarning: coroutine ... was never awaited" at garbage collection, into
    a log nobody reads): the order is not cancelled, the row not written. This
    is common when a function becomes `async` and one caller, perhaps in another
    module, is not updated.

    Reported for calls to functions defined `async def` anywhere in the scanned
    tree (through imports, and `self.method()` on the same class), Django's
    `a`-prefixed ORM methods on a model's manager, queryset, instance or related
    manager (`order.lines.acount()`, `user.groups.aadd(group)`), the
    `aenqueue()`, `acall()` and `aget_result()` of a `django.tasks` task (a
    function decorated with `@task`: the task is never queued), and names
    configured as `known-async`, when the call's result is thrown away (a
    statement on its own), tested for truth (`if coro():` is always true), or
    assigned to a name the function never reads. Handing the coroutine to
    `await`, `asyncio.gather`/`create_task`/`ensure_future`/`run`,
    `loop.run_until_complete`, `async_to_sync`, `run_async` or returning it is
    fine.

    ## Bad

    ```python
    def cancel_stale_orders():
        for order in Order.objects.filter(stale=True):
            broker.cancel_order(order.broker_id)  # async def: nothing happens
    ```

    ## Fix

    Await it in async code; bridge it in sync code:

    ```python
    def cancel_stale_orders():
        for order in Order.objects.filter(stale=True):
            async_to_sync(broker.cancel_order)(order.broker_id)
    ```
    """

    code: ClassVar[str] = "AG301"
    name: ClassVar[str] = "coroutine-never-awaited"
    severity: ClassVar[Severity] = "error"
    # A call of the async ORM API names its method; a call of a coroutine function
    # defined in another file may name nothing async at all (depends_on_callees).
    triggers: ClassVar[tuple[str, ...]] = (
        "async", *sorted(ASYNC_ORM_METHODS), *sorted(TASK_COROUTINE_METHODS)
    )  # fmt: skip
    depends_on_callees: ClassVar[bool] = True

    def visit_Expr(self, node: ast.Expr, scope: Scope) -> None:
        if isinstance(node.value, ast.Call):
            self.check(node.value, scope, "its result is discarded")

    def visit_If(self, node: ast.If, scope: Scope) -> None:
        if isinstance(node.test, ast.Call):
            self.check(node.test, scope, "a coroutine object is always true")

    def visit_While(self, node: ast.While, scope: Scope) -> None:
        if isinstance(node.test, ast.Call):
            self.check(node.test, scope, "a coroutine object is always true")

    def visit_Assign(self, node: ast.Assign, scope: Scope) -> None:
        function = scope.function
        if (
            function is None
            or len(node.targets) != 1
            or not isinstance(node.targets[0], ast.Name)
            or not isinstance(node.value, ast.Call)
        ):
            return
        name = node.targets[0].id
        label = self.coroutine_call(node.value, scope)
        if label is not None and not _used(function.node, name):
            self.report_dropped(node.value, label, f"it is assigned to {name}, which is never used")

    def check(self, call: ast.Call, scope: Scope, why: str) -> None:
        label = self.coroutine_call(call, scope)
        if label is not None:
            self.report_dropped(call, label, why)

    def report_dropped(self, call: ast.Call, label: str, why: str) -> None:
        self.report(
            call,
            f"coroutine {label}() is never awaited ({why}): its body never runs",
            hint="await it in async code; in sync code use async_to_sync(fn)(...) or "
            "async_guard.bridge.run_async(...)",
        )

    def coroutine_call(self, call: ast.Call, scope: Scope) -> str | None:
        """How to name the callee when calling it surely makes a coroutine, else None."""
        target = self.resolve(call.func, scope)
        if target is not None and self.index.is_coroutine_function(target):
            return target.rsplit(".", 1)[-1]
        if (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in COROUTINE_METHODS
            and id(call) in self.orm_facts(scope).async_calls
        ):
            return call.func.attr
        if isinstance(call.func, ast.Attribute) and call.func.attr in TASK_COROUTINE_METHODS:
            task = self.resolve(call.func.value, scope)
            if task is not None and self.index.entry_context(task) == "django-task":
                return f"{task.rsplit('.', 1)[-1]}.{call.func.attr}"
        return None


def _used(function: ast.AST, name: str) -> bool:
    """``name`` is read in ``function``, or declared global/nonlocal there (read elsewhere)."""
    return any(
        (isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Store))
        or (isinstance(n, (ast.Global, ast.Nonlocal)) and name in n.names)
        for n in descendants(function)
    )
