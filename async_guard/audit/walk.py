"""The walk of one file: every enabled rule over its tree, in one pass.

This is where the analysis ends: given a parsed file and something that answers
the project's questions (``analysis.questions``), :func:`walk_file` returns the
file's findings. It knows nothing of how files were chosen, read in parallel or
cached; :func:`audit_source` is the whole analysis of one text, in memory.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field

from async_guard.audit.analysis.facts import collect_facts
from async_guard.audit.analysis.index import ProjectIndex
from async_guard.audit.analysis.questions import Questions
from async_guard.audit.analysis.scope import Scope
from async_guard.audit.analysis.source import SourceFile, SourceProblem, too_deep
from async_guard.audit.analysis.walker import Walker
from async_guard.audit.config import Config
from async_guard.audit.finding import Finding
from async_guard.audit.rules import Rule, all_rules
from async_guard.audit.suppress import unsuppressed


@dataclass
class FileWalk:
    """What the walk of one file found."""

    findings: list[Finding]
    #: The context of each ``asyncio.run()`` call (for ``--stats``).
    run_contexts: list[str] = field(default_factory=list)


def enabled_rules(config: Config) -> list[type[Rule]]:
    return [rule for rule in all_rules() if rule.code != "AG000" and config.enabled(rule.code)]


def walk_file(sf: SourceFile, questions: Questions, config: Config) -> FileWalk:
    """Every enabled rule over one parsed file."""
    rules = [rule for rule in enabled_rules(config) if not config.ignored_in(sf.path, rule.code)]
    runs = _RunCounter()
    walker = Walker(sf, [], questions, config.task_decorators)
    instances = [rule(sf, questions, walker) for rule in rules]
    walker.add_visitors([*instances, runs])
    try:
        walker.run()
    finally:
        walker.close()  # rules hold the walker, its tables hold the rules: no cycle left
    findings = [f for rule in instances for f in rule.findings]
    return FileWalk(sorted(set(unsuppressed(findings, sf.lines))), runs.contexts)


class _RunCounter:
    def __init__(self) -> None:
        self.contexts: list[str] = []

    def visit_Call(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "run"
            and isinstance(func.value, ast.Name)
            and func.value.id == "asyncio"
        ):
            self.contexts.append(scope.context)


def syntax_finding(path: str, problem: SourceProblem, lines: Sequence[str] = ()) -> Finding:
    """The AG000 finding of a file that cannot be audited."""
    text = lines[problem.line - 1].strip() if 0 < problem.line <= len(lines) else ""
    return Finding(
        path=path, line=problem.line, col=problem.col, code="AG000", end_line=problem.line,
        end_col=problem.col, name="syntax-error", severity="error", message=problem.message,
        hint="Fix the file (or exclude it); the rest of the tree is still audited.",
        context="module", source_line=text,
    )  # fmt: skip


def audit_source(
    source: str, path: str = "example.py", *, config: Config | None = None
) -> list[Finding]:
    """Audit one file's text in memory (as if it were at ``path``)."""
    config = config or Config()
    lines = source.splitlines()
    try:
        sf = SourceFile.from_text(source, path)
        index = ProjectIndex([collect_facts(sf, config)], config)
        return walk_file(sf, index, config).findings
    except SourceProblem as problem:
        if not config.enabled("AG000") or config.ignored_in(path, "AG000"):
            return []
        return unsuppressed([syntax_finding(path, problem, lines)], lines)
    except RecursionError:
        return [syntax_finding(path, too_deep())]
