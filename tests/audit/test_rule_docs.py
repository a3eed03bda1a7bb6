"""Rule documentation: required docstring sections, docs/rules.md in sync, listed by the CLI."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from async_guard.audit import docs
from async_guard.audit.rules import all_rules, get_rule
from async_guard.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_docstring_has_the_required_sections(rule: type) -> None:
    assert rule.code.startswith("AG") and len(rule.code) == 5
    assert rule.name and rule.name == rule.name.lower() and " " not in rule.name
    assert rule.severity in ("error", "warning")
    assert rule.summary() and len(rule.summary()) <= 100
    assert docs.section_titles(rule)[:3] == list(docs.SECTIONS)
    text = rule.documentation()
    bad = text.split("## Bad", 1)[1].split("## Fix", 1)[0]
    fix = text.split("## Fix", 1)[1]
    assert "```python" in bad and "```python" in fix
    assert rule.__module__.rsplit(".", 1)[-1].startswith(rule.code.lower() + "_")


def test_codes_and_names_are_unique() -> None:
    rules = all_rules()
    assert len({r.code for r in rules}) == len({r.name for r in rules}) == len(rules)
    assert get_rule("ag101") is get_rule("AG101") and get_rule("AG999") is None


def test_docs_rules_md_is_generated_from_the_docstrings() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == docs.render(), (
        "regenerate: python -m async_guard.audit.docs > docs/rules.md"
    )
    for rule in all_rules():
        assert f"## {rule.code}" in committed


def test_cli_lists_every_rule() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["rules"]) == 0
    assert [line.split()[0] for line in out.getvalue().splitlines()] == [
        r.code for r in all_rules()
    ]
    out = io.StringIO()
    with redirect_stdout(out):
        assert docs.main() == 0
    assert out.getvalue() == docs.render()
