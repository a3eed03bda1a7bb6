"""Reporters: one module per output format, each ``render(result, rules) -> str``.

``text`` for people, ``json`` (versioned, documented schema), ``sarif`` (SARIF
2.1.0, valid against the official schema bundled next to this file) for code
scanning, ``github`` for workflow-command annotations on pull requests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from async_guard.audit.results import AuditResult
from async_guard.audit.rules import Rule

FORMATS = ("text", "json", "sarif", "github")

Renderer = Callable[[AuditResult, Sequence[type[Rule]]], str]


def renderer(name: str) -> Renderer:
    import importlib

    module = {"json": "json_report"}.get(name, name if name in FORMATS else "text")
    render: Renderer = importlib.import_module(f"{__name__}.{module}").render
    return render
