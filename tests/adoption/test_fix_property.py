"""Properties of the autofix over the fixture corpus, with findings from the real audit.

For any fixture, any subset of its fixable findings, and any number of lines
added above everything:

- the result parses, and every finding given is either applied or skipped with a reason;
- fixing again with the same (now stale) findings changes nothing;
- moving the file down by k lines moves the result down by k lines and changes nothing else;
- what was applied is gone on a re-audit;
- fixing until the audit finds nothing more to fix converges, and the fixed file is stable.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from async_guard.audit.finding import Finding
from async_guard.fix import fix_source
from tests.adoption.corpus import Case, cases, fixable, missing_rule

CASES = [case for case in cases() if not missing_rule(case.code)]


def _key(finding: Finding) -> tuple[str, str]:
    return (finding.code, finding.source_line)


@st.composite
def inputs(draw: st.DrawFn) -> tuple[Case, list[Finding], int]:
    case = draw(st.sampled_from(CASES))
    findings = fixable(case.source, case.audit_path)
    chosen = draw(st.lists(st.sampled_from(findings), unique=True)) if findings else []
    return case, chosen, draw(st.integers(min_value=0, max_value=3))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs())
def test_fix_properties(example: tuple[Case, list[Finding], int]) -> None:
    case, findings, shift = example
    result = fix_source(case.source, findings)

    ast.parse(result.source)
    assert sorted([*result.applied, *(f for f, _ in result.skipped)]) == sorted(findings)
    assert all(reason for _, reason in result.skipped)
    assert fix_source(result.source, findings).source == result.source

    moved = [replace(f, line=f.line + shift, end_line=f.end_line + shift) for f in findings]
    prefix = "# a line added above\n" * shift
    assert fix_source(prefix + case.source, moved).source == prefix + result.source

    before = Counter(_key(f) for f in fixable(case.source, case.audit_path))
    after = Counter(_key(f) for f in fixable(result.source, case.audit_path))
    assert after <= before - Counter(_key(f) for f in result.applied)


def test_fixing_until_clean_converges() -> None:
    for case in CASES:
        source = case.source
        for _ in range(3):
            result = fix_source(source, fixable(source, case.audit_path))
            if result.source == source:
                break
            source = result.source
        else:
            raise AssertionError(f"{case.name}: still changing after 3 rounds")
        assert not result.applied, case.name
