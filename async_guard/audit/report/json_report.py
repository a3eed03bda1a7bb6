"""``--format json``: one object, ``{"version": 1, "findings": [...], "files_scanned": N,
"parse_errors": [...], "duration_s": X}`` (plus ``"stats"`` with ``--stats``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from async_guard.audit.results import AuditResult
from async_guard.audit.rules import Rule

VERSION = 1


def as_dict(result: AuditResult, *, stats: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": VERSION,
        "findings": [f.as_json() for f in result.findings],
        "files_scanned": result.files_scanned,
        "parse_errors": [e.as_json() for e in result.parse_errors],
        "duration_s": result.duration_s,
    }
    if stats:
        data["stats"] = result.stats.as_json()
    return data


def render(result: AuditResult, rules: Sequence[type[Rule]] = (), *, stats: bool = False) -> str:
    return json.dumps(as_dict(result, stats=stats), indent=2) + "\n"
