"""Base of the rules that read what every body does with the ORM (AG203, AG204)."""

from __future__ import annotations

import ast
from functools import cached_property
from typing import TYPE_CHECKING

from async_guard.audit.analysis.triggers import TriggerTest
from async_guard.audit.rules.base import Rule

if TYPE_CHECKING:
    from async_guard.audit.analysis.orm import OrmFacts
    from async_guard.audit.analysis.scope import Scope


class OrmBodyRule(Rule):
    """Reads the :class:`OrmFacts` of every body: the module's, each function's (sync
    or async). ``check`` gets the facts and the body's scope.

    A body is analyzed only when its own text holds one of the rule's triggers (in
    the one meaning of ``analysis.triggers``), or a name the file imports such a
    trigger under (``from asgiref.sync import sync_to_async as s2a``): in a long
    module with one ``sync_to_async`` call, no other function needs the analysis.
    """

    @cached_property
    def _file_test(self) -> TriggerTest:
        return TriggerTest(self.triggers)

    @cached_property
    def applies(self) -> bool:
        return self._file_test.search(self.file.text)

    @cached_property
    def _body_test(self) -> TriggerTest:
        aliases = (
            name for name, target in self.file.imports.items() if self._file_test.search(target)
        )
        return TriggerTest((*self.triggers, *aliases))

    def applies_to(self, node: ast.AST) -> bool:
        return self.applies and self._body_test.search(self.file.source_of(node))

    def visit_Module(self, node: ast.Module, scope: Scope) -> None:
        if self.applies:
            self.check(self.orm_facts(scope), scope)

    def visit_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        if self.applies_to(node):
            self.check(self.orm_facts(scope), scope)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, scope: Scope) -> None:
        if self.applies_to(node):
            self.check(self.orm_facts(scope), scope)

    def check(self, facts: OrmFacts, scope: Scope) -> None:
        raise NotImplementedError
