"""The Rule API: what every rule module subclasses.

A rule declares ``code``, ``name``, ``severity``, its ``triggers`` and what its
findings depend on (``depends_on_callers``, ``depends_on_callees``); its
docstring is its documentation (first line a one-line summary, then the markdown
sections ``What goes wrong``, ``Bad`` and ``Fix``, in that order). Those
declarations are all the speed layer reads of a rule: it never holds rule code. The walker calls
``visit_<NodeClass>(node, scope)`` on every enabled rule that defines it, and
``leave_<NodeClass>(node, scope)`` after the node's children. For a
``FunctionDef``/``AsyncFunctionDef``/``ClassDef``/``Lambda`` the scope passed is
the definition's own scope (its decorators, defaults and bases are visited in
the enclosing scope before it).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar

from async_guard.audit.analysis.facts import callee_name
from async_guard.audit.analysis.orm import OrmFacts, body_facts
from async_guard.audit.finding import Finding, Severity, char_column

if TYPE_CHECKING:
    from async_guard.audit.analysis.questions import Questions
    from async_guard.audit.analysis.scope import Scope
    from async_guard.audit.analysis.source import SourceFile
    from async_guard.audit.analysis.walker import Walker


class Rule:
    """Base class of the audit's rules (a subclass with a ``code`` registers itself)."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = "warning"
    #: A severity some findings are raised to (AG101: error when the ORM is reached).
    escalates_to: ClassVar[Severity | None] = None
    #: Words its findings need in the text, with the meaning ``analysis.triggers``
    #: gives them: a file whose text holds none of them yields no finding of this
    #: rule (so the audit need not parse it), except at the calls ``depends_on_callees``
    #: describes. Keep them conservative: a missing one loses findings.
    triggers: ClassVar[tuple[str, ...]] = ()
    #: Its findings inside a function depend on the entry-point context that the
    #: function's callers give it (AG101: ``asyncio.run()`` is a bug in a Celery task,
    #: not in a script). The audit then reads every file that may call, however
    #: indirectly, a function holding a sync->async bridge (``FileFacts.bridges``).
    depends_on_callers: ClassVar[bool] = False
    #: Its findings may sit at a call of a function defined in another file and depend
    #: on what that function is (AG301: a coroutine function called without ``await``),
    #: in a file that holds none of its triggers. The audit then reads every file that
    #: may call a coroutine function.
    depends_on_callees: ClassVar[bool] = False

    def __init__(self, file: SourceFile, index: Questions, walker: Walker) -> None:
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
        return cls.documentation().strip().splitlines()[0] if cls.__doc__ else ""

    @classmethod
    def documentation(cls) -> str:
        import inspect  # here: the audit itself never needs it (a tenth of its start-up)

        return inspect.getdoc(cls) or ""

    def resolve(self, expr: ast.AST, scope: Scope) -> str | None:
        """``self.file.resolve`` plus ``self.method``/``cls.method`` and nested functions."""
        return callee_name(self.file, scope, expr)

    def function_name(self, scope: Scope) -> str:
        """How a message names the function ``scope`` is in: by its qualified name in
        its module (``OrderView.get``, not ``get``; ``refresh``; ``outer.inner``)."""
        qualname = scope.qualname
        prefix = self.file.module + "."
        return qualname[len(prefix) :] if qualname.startswith(prefix) else qualname

    def orm_facts(self, scope: Scope) -> OrmFacts:
        """What the body ``scope`` is in does with the ORM (analyzed once per walk)."""
        return body_facts(self.file, self.index, scope, self.walker.memo)

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
                col=char_column(text, getattr(node, "col_offset", 0)) + 1,
                code=self.code,
                end_line=end_line,
                end_col=char_column(
                    self.file.line(end_line), getattr(node, "end_col_offset", 0) or 0
                )
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
