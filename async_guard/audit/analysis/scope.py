"""Where the walk is: the module, a class body or a function body, and its context."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Literal

ScopeKind = Literal["module", "class", "function"]


@dataclass
class Scope:
    """Where the walker is: the module, a class body or a function body."""

    kind: ScopeKind
    node: ast.AST
    qualname: str
    is_async: bool = False
    context: str = "module"
    parent: Scope | None = None
    #: Entry context declared by the code itself (decorator, base, convention), or None.
    direct_context: str | None = None
    bases: tuple[str, ...] = field(default=())
    #: Names of the functions defined directly in this function's body.
    local_defs: frozenset[str] = field(default=frozenset())
    #: For a class: follows Django's middleware convention (see _is_middleware_class).
    middleware_convention: bool = False

    @property
    def class_scope(self) -> Scope | None:
        scope = self.parent if self.kind == "class" else self
        while scope is not None and scope.kind != "class":
            scope = scope.parent
        return scope

    @property
    def function(self) -> Scope | None:
        scope: Scope | None = self
        while scope is not None and scope.kind != "function":
            scope = scope.parent
        return scope

    @property
    def in_async(self) -> bool:
        """True when code here runs on the event loop (the innermost function is async)."""
        function = self.function
        return function is not None and function.is_async
