"""``--format sarif``: SARIF 2.1.0 (valid against ``sarif-schema-2.1.0.json`` here)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from async_guard import __version__
from async_guard.audit.results import AuditResult
from async_guard.audit.rules import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SCHEMA_PATH = Path(__file__).with_name("sarif-schema-2.1.0.json")
_LEVEL = {"error": "error", "warning": "warning"}


def _rule(rule: type[Rule]) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": rule.summary()},
        "help": {"text": rule.documentation(), "markdown": rule.documentation()},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
    }


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def message(text: str, hint: str = "") -> str:
    """A result's message: the finding and its hint, each a sentence with its full stop."""
    return _sentence(text) + (f" Hint: {_sentence(hint)}" if hint else "")


def _uri(path: str) -> str:
    return Path(path).as_posix()


def as_dict(result: AuditResult, rules: Sequence[type[Rule]]) -> dict[str, Any]:
    index = {rule.code: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for f in result.findings:
        item: dict[str, Any] = {
            "ruleId": f.code,
            "level": _LEVEL[f.severity],
            "message": {"text": message(f.message, f.hint)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path)},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.col,
                            "endLine": max(f.end_line, f.line),
                            "endColumn": f.end_col
                            if f.end_line > f.line
                            else max(f.end_col, f.col),
                        },
                    }
                }
            ],
            "properties": {"context": f.context, "symbol": f.symbol},
        }
        if f.code in index:
            item["ruleIndex"] = index[f.code]
        results.append(item)
    notifications = [
        {
            "level": "warning",
            "message": {"text": _sentence(e.message)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(e.path)},
                        "region": {"startLine": e.line},
                    }
                }
            ],
        }
        for e in result.parse_errors
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "async-guard",
                        "version": __version__,
                        "rules": [_rule(rule) for rule in rules],
                    }
                },
                "invocations": [
                    {"executionSuccessful": True, "toolExecutionNotifications": notifications}
                ],
                "results": results,
            }
        ],
    }


def render(result: AuditResult, rules: Sequence[type[Rule]] = ()) -> str:
    return json.dumps(as_dict(result, rules), indent=2) + "\n"
