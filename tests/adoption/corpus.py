"""The before/after fixture corpus of the autofixes, and running the real audit on it."""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from async_guard.audit.config import Config
from async_guard.audit.finding import Finding
from async_guard.audit.rules import get_rule
from async_guard.audit.runner import audit_paths
from async_guard.audit.walk import audit_source
from async_guard.fix import FIXABLE_CODES, fix_source

FIX_FILES = Path(__file__).resolve().parent.parent / "fix_files"

#: asyncio.run() in a Celery task in its smallest form: AG101 at line 12, column 12.
BAD_TASK = """\
import asyncio

from celery import shared_task


async def fetch(pr):
    return pr


@shared_task
def sync_pr(pr):
    return asyncio.run(fetch(pr))
"""
_PATH_HEADER = re.compile(r"#\s*path:\s*(\S+)")


@dataclass(frozen=True)
class Case:
    """``<code>_<topic>.py`` and its expected ``<code>_<topic>.fixed.py``."""

    before: Path

    @property
    def name(self) -> str:
        return self.before.stem

    @property
    def code(self) -> str:
        return self.name.split("_", 1)[0].upper()

    @property
    def after(self) -> Path:
        return self.before.with_name(f"{self.name}.fixed.py")

    @property
    def source(self) -> str:
        return self.before.read_text(encoding="utf-8")

    @property
    def audit_path(self) -> str:
        """Where the audit believes the file lives (``# path:`` header; context comes from it)."""
        match = _PATH_HEADER.match(self.source)
        return match.group(1) if match else self.before.name


def cases() -> list[Case]:
    return [
        Case(path) for path in sorted(FIX_FILES.glob("*.py")) if not path.name.endswith(".fixed.py")
    ]


def missing_rule(code: str) -> bool:
    """Whether the engine does not have the rule yet (the fixture then cannot run)."""
    return get_rule(code) is None


def fixable(source: str, path: str) -> list[Finding]:
    """The real audit's findings on ``source`` that some fixer covers."""
    return [f for f in audit_source(source, path) if f.code in FIXABLE_CODES]


@dataclass
class TreeReport:
    """What ``fix_tree`` did to a tree, and what it found wrong with the result."""

    files: int = 0
    lines: int = 0
    changed: list[str] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Must stay empty: files that do not parse after the fix ...
    broken: list[str] = field(default_factory=list)
    #: ... files a second --fix (on a fresh audit) would change again ...
    unstable: list[str] = field(default_factory=list)
    #: ... and findings of a fixed code still there that were not skipped with a reason.
    left: list[Finding] = field(default_factory=list)

    def table(self) -> str:
        rows = [
            f"files audited: {self.files} ({self.lines} lines); files changed: {len(self.changed)}",
            "fixed: " + (", ".join(f"{c} {n}" for c, n in sorted(self.applied.items())) or "none"),
            f"not parsing after the fix: {len(self.broken)}; changed by a second run: "
            f"{len(self.unstable)}; fixed codes left unexplained: {len(self.left)}",
            "left alone (code, reason):",
        ]
        rows += [f"  {n:4d}  {code}  {reason}" for (code, reason), n in self.skipped.most_common()]
        return "\n".join(rows)


def fix_tree(root: Path) -> TreeReport:
    """Audit ``root``, apply every fix in place, then audit and fix again to check the result."""
    config = Config(cache=False, jobs=1)
    report = TreeReport()
    first = audit_paths([str(root)], config)
    report.files = first.files_scanned
    report.lines = first.stats.lines
    explained: dict[str, set[tuple[str, str]]] = {}
    for path, findings in _by_path(first.findings).items():
        source = Path(path).read_text(encoding="utf-8")
        result = fix_source(source, findings)
        report.applied.update(f.code for f in result.applied)
        report.skipped.update((f.code, _reason_kind(reason)) for f, reason in result.skipped)
        explained[path] = {(f.code, f.source_line) for f, _ in result.skipped}
        if result.source != source:
            try:
                ast.parse(result.source)
            except SyntaxError:
                report.broken.append(path)
                continue
            Path(path).write_text(result.source, encoding="utf-8")
            report.changed.append(path)
    fixed_codes = set(report.applied)
    for path, findings in _by_path(audit_paths([str(root)], config).findings).items():
        source = Path(path).read_text(encoding="utf-8")
        if fix_source(source, findings).source != source:
            report.unstable.append(path)
        report.left += [
            f
            for f in findings
            if f.code in fixed_codes and (f.code, f.source_line) not in explained.get(path, set())
        ]
    return report


def _by_path(findings: list[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.code in FIXABLE_CODES:
            grouped.setdefault(finding.path, []).append(finding)
    return grouped


def _reason_kind(reason: str) -> str:
    """The reason without the names and line numbers that make each one unique."""
    return re.sub(r"\b(line \d+|at \d+:\d+|\.\w+\(\)|\w+ is|\w+ escapes)", "…", reason)[:90]


_DROP_IN_NAMES = frozenset(
    {"get", "first", "last", "count", "exists", "create", "update", "delete", "save"}
)


def synthetic_findings(source: str, path: str) -> list[Finding]:
    """Findings placed where a fixer would act, whether or not a rule would report them.

    For stress runs on real code: every ``asyncio.run(...)`` (AG101),
    ``new_event_loop()`` (AG102), ``.get/.first/.save...()`` call directly in an
    ``async def`` (AG201), ``sync_to_async(<call>)`` (AG203) and ``async def handle``
    (AG303). The fixers must then refuse or fix each one, never break the file.
    """
    tree = ast.parse(source)
    found: list[Finding] = []

    def add(node: ast.expr | ast.stmt, code: str) -> None:
        line, col = node.lineno, node.col_offset + 1
        end_line, end_col = node.end_lineno or line, (node.end_col_offset or 0) + 1
        text = source.splitlines()[line - 1].strip()
        found.append(
            Finding(
                path,
                line,
                col,
                code,
                end_line,
                end_col,
                "synthetic",
                "error",
                "",
                "",
                source_line=text,
            )
        )

    def walk(node: ast.AST, in_async: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.AsyncFunctionDef | ast.FunctionDef | ast.Lambda):
                if isinstance(child, ast.AsyncFunctionDef) and child.name == "handle":
                    add(child, "AG303")
                walk(child, isinstance(child, ast.AsyncFunctionDef))
                continue
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                name = child.func.attr
                if name == "run" and ast.unparse(child.func.value) == "asyncio":
                    add(child, "AG101")
                elif name == "new_event_loop":
                    add(child, "AG102")
                elif in_async and name in _DROP_IN_NAMES:
                    add(child, "AG201")
            if isinstance(child, ast.Call) and ast.unparse(child.func).endswith("sync_to_async"):
                if child.args and isinstance(child.args[0], ast.Call):
                    add(child, "AG203")
            walk(child, in_async)

    walk(tree, False)
    return found


def stress_tree(root: Path) -> TreeReport:
    """Fix ``synthetic_findings`` in every file of ``root`` (in memory): nothing may break.

    ``broken``: results that do not parse; ``unstable``: results that a second
    run with the same findings changes again.
    """
    report = TreeReport()
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8", errors="replace")
        report.files += 1
        report.lines += source.count("\n")
        try:
            findings = synthetic_findings(source, str(path))
        except (SyntaxError, ValueError):
            continue
        result = fix_source(source, findings)
        report.applied.update(f.code for f in result.applied)
        report.skipped.update((f.code, _reason_kind(reason)) for f, reason in result.skipped)
        if result.source == source:
            continue
        report.changed.append(str(path))
        try:
            ast.parse(result.source)
        except SyntaxError:
            report.broken.append(str(path))
        if fix_source(result.source, findings).source != result.source:
            report.unstable.append(str(path))
    return report
