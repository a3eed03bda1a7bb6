"""One parametrized test over tests/fix_files: the real audit's findings, fixed, give the
expected file; the result parses, re-audits clean for what was fixed, and fixing again
changes nothing."""

from __future__ import annotations

import ast

import pytest

from async_guard.fix import FIXABLE_CODES, fix_source
from tests.adoption.corpus import Case, cases, fixable, missing_rule


def _key(finding: object) -> tuple[str, str, str]:
    return (finding.code, finding.symbol, finding.source_line)  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.name)
def test_fix_file(case: Case) -> None:
    if missing_rule(case.code):
        pytest.skip(f"the engine has no {case.code} rule yet")
    findings = fixable(case.source, case.audit_path)
    assert any(f.code == case.code for f in findings), "the fixture must trigger its rule"

    result = fix_source(case.source, findings)

    assert result.source == case.after.read_text(encoding="utf-8")
    assert {f for f in result.applied if f.code == case.code}, "nothing of the file's code fixed"
    assert sorted([*result.applied, *(f for f, _ in result.skipped)]) == sorted(set(findings))
    ast.parse(result.source)
    # What was fixed is gone; what is left was skipped, with a reason.
    left = fixable(result.source, case.audit_path)
    assert {_key(f) for f in left} <= {_key(f) for f, _ in result.skipped}
    assert all(reason for _, reason in result.skipped)
    # Idempotent: the second run, on its own fresh findings, changes nothing.
    assert fix_source(result.source, left).source == result.source


def test_every_fixable_code_has_a_fixture() -> None:
    assert {case.code for case in cases()} == FIXABLE_CODES
