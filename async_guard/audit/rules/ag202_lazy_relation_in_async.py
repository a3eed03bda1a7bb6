"""AG202: a ForeignKey/OneToOne read in ``async def`` that was not loaded."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.finding import Severity
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.scope import Scope


class LazyRelationInAsync(Rule):
    """A ForeignKey/OneToOne attribute read in `async def` runs a hidden query.

    ## What goes wrong

    Reading `position.account` loads the related row on first access: a
    synchronous query. Inside `async def` it raises `SynchronousOnlyOperation`
    unless the relation came with the instance (`select_related()` or
    `prefetch_related()` of that relation). Typical cases: `account.user` on an
    account an async service fetched with a plain `aget()`, a `Position`
    fetched in sync code without `select_related('user')` and passed to an
    async helper that reads `position.user`, and a reverse one-to-one such as
    `user.profile` on `await request.auser()` (the authentication middleware
    loads the user alone).

    Reported when the instance was fetched in the same function without loading
    that relation (an error), and when it came in as a parameter annotated with a
    model class (a warning: the caller may have loaded the relation, but nothing
    here says so). Reading `position.account_id` is fine: the key is a column.

    ## Bad

    ```python
    async def notify(pk):
        account = await TradingAccount.objects.aget(pk=pk)
        email = account.user.email  # lazy load on the event loop
    ```

    ## Fix

    Load the relation with the instance:

    ```python
    async def notify(pk):
        account = await TradingAccount.objects.select_related("user").aget(pk=pk)
        email = account.user.email
    ```
    """

    code: ClassVar[str] = "AG202"
    name: ClassVar[str] = "lazy-relation-in-async"
    severity: ClassVar[Severity] = "error"
    triggers: ClassVar[tuple[str, ...]] = ("async",)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, scope: Scope) -> None:
        facts = self.orm_facts(scope)
        for read in facts.relation_reads.values():
            model = read.model.rsplit(".", 1)[-1]
            if read.parameter:
                where = f"parameter {read.name}: {model} may arrive without it"
                severity: Severity = "warning"
            else:
                where = f"{read.name} was fetched without select_related({read.relation!r})"
                severity = "error"
            self.report(
                read.node,
                f"{read.name}.{read.relation} loads the related row with a query on first "
                f"access, in async function {self.function_name(scope)}() ({where})",
                hint=f"fetch it with .select_related({read.relation!r}) (or "
                f"prefetch_related), or read {read.name}.{read.relation}_id",
                severity=severity,
                scope=scope,
            )
