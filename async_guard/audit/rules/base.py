"""The Rule API: what every rule module subclasses.

A rule declares ``code``, ``name``, ``severity`` and ``triggers``; its docstring
is its documentation (first line a one-line summary, then the markdown sections
``What goes wrong``, ``Bad`` and ``Fix``, in that order). The walker calls
``visit_<NodeClass>(node, scope)`` on every enabled rule that defines it, and
``leave_<NodeClass>(node, scope)`` after the node's children. For a
``FunctionDef``/``AsyncFunctionDef``/``ClassDef``/``Lambda`` the scope passed is
the definition's own scope (its decorators, defaults and bases are visited in
the enclosing scope before it).
"""

from __future__ import annotations

import ast
import inspect
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.finding import Finding, Severity
from async_guard.audit.index import callee_name

if TYPE_CHECKING:
    from async_guard.audit.context import Scope, Walker
    from async_guard.audit.index import ProjectIndex
    from async_guard.audit.source import SourceFile


class Rule:
    """Base class of the audit's rules (a subclass with a ``code`` registers itself)."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = "warning"
    #: A severity some findings are raised to (AG101: error when the ORM is reached).
    escalates_to: ClassVar[Severity | None] = None
    #: Substrings: a file that contains none of them cannot produce a finding of this
    #: rule (the engine then may skip parsing it). Keep them conservative.
    triggers: ClassVar[tuple[str, ...]] = ()

    def __init__(self, file: SourceFile, index: ProjectIndex, walker: Walker) -> None:
        self.file = file
        self.index = index
        self.walker = walker
        self.findings: list[Finding] = []

    @classmethod
    def severity_label(cls) -> str:
        """``warning``, or ``warning/error`` for a rule whose findings may be raised."""
        return f"{cls.severity}/{cls.escalates_to}" if cls.escalates_to else cls.severity

    @classmethod
    def summary(cls) -> str:
        return (inspect.getdoc(cls) or "").strip().splitlines()[0] if cls.__doc__ else ""

    @classmethod
    def documentation(cls) -> str:
        return inspect.getdoc(cls) or ""

    def resolve(self, expr: ast.AST, scope: Scope) -> str | None:
        """``self.file.resolve`` plus ``self.method``/``cls.method`` and nested functions."""
        return callee_name(self.file, scope, expr)

    def report(
        self,
        node: ast.AST,
        message: str,
        *,
        hint: str = "",
        severity: Severity | None = None,
        scope: Scope | None = None,
    ) -> None:
        """Record a finding at ``node`` in the current (or the given) scope."""
        where = scope or self.walker.scope
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        text = self.file.line(line)
        symbol = where.qualname
        if where.kind == "module":
            symbol = ""
        elif symbol.startswith(self.file.module + "."):
            symbol = symbol[len(self.file.module) + 1 :]
        self.findings.append(
            Finding(
                path=self.file.path,
                line=line,
                col=_char_col(text, getattr(node, "col_offset", 0)) + 1,
                code=self.code,
                end_line=end_line,
                end_col=_char_col(self.file.line(end_line), getattr(node, "end_col_offset", 0) or 0)
                + 1,
                name=self.name,
                severity=severity or self.severity,
                message=message,
                hint=hint,
                context=where.context,
                symbol=symbol,
                source_line=text.strip(),
            )
        )


def _char_col(line: str, byte_offset: int) -> int:
    """ast offsets count UTF-8 bytes; reports count characters."""
    if line.isascii():
        return byte_offset
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))
