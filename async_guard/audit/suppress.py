"""Per-line suppression comments.

``# noqa: AG101`` and ``# async-guard: ignore[AG101]`` (several codes separated
by commas; prefixes such as ``AG1`` work) silence the named codes on that line.
A bare ``# noqa`` does not: it is usually written for another linter, and a
blanket silence would hide the async bugs this tool exists to find.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from async_guard.audit.finding import Finding

_NOQA = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[A-Z]+[0-9]*(?:\s*[,\s]\s*[A-Z]+[0-9]*)*)", re.I)
_IGNORE = re.compile(r"#\s*async-guard\s*:\s*ignore\[(?P<codes>[^\]]*)\]", re.I)


def suppressed_codes(line: str) -> frozenset[str]:
    if "#" not in line:
        return frozenset()
    codes: set[str] = set()
    for pattern in (_NOQA, _IGNORE):
        for match in pattern.finditer(line):
            codes.update(c.upper() for c in re.split(r"[,\s]+", match["codes"]) if c)
    return frozenset(c for c in codes if c.startswith("AG"))


def unsuppressed(findings: Iterable[Finding], lines: list[str]) -> list[Finding]:
    kept = []
    for finding in findings:
        text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        codes = suppressed_codes(text)
        if not any(finding.code.startswith(code) for code in codes):
            kept.append(finding)
    return kept
