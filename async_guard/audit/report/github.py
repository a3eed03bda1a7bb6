"""``--format github``: workflow commands that annotate the pull request's diff.

``::error file=…,line=…,col=…,endLine=…,endColumn=…,title=AG101 name::message``;
values are escaped as the runner expects (``%``, CR, LF, and ``:``/``,`` in properties).
"""

from __future__ import annotations

from collections.abc import Sequence

from async_guard.audit.results import AuditResult
from async_guard.audit.rules import Rule


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def render(result: AuditResult, rules: Sequence[type[Rule]] = ()) -> str:
    lines = []
    for f in result.findings:
        props = ",".join(
            [
                f"file={_prop(f.path)}",
                f"line={f.line}",
                f"col={f.col}",
                f"endLine={f.end_line}",
                f"endColumn={f.end_col}",
                f"title={_prop(f'{f.code} {f.name}')}",
            ]
        )
        message = f.message + (f"\nhint: {f.hint}" if f.hint else "")
        lines.append(f"::{f.severity} {props}::{_data(message)}")
    for e in result.parse_errors:
        lines.append(f"::warning file={_prop(e.path)},line={e.line}::{_data(e.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
