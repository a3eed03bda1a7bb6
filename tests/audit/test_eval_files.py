"""Every fixture in tests/eval_files/ audited in memory, against its ``# expect:`` comments.

Format (see "Adding a rule" in docs/audit.md): a line that must produce
a finding ends with ``# expect: AG201`` (several: ``# expect: AG201, AG202``);
every other line must produce none of the file's codes (the code in the file
name's prefix plus any ``# codes: AG201, AG202`` header line). ``# path:
apps/billing/tasks.py`` near the top audits the file as if it had that path.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from async_guard.audit.config import Config
from async_guard.audit.rules import all_rules
from async_guard.audit.walk import audit_source

EVAL_DIR = Path(__file__).resolve().parents[1] / "eval_files"
FILES = sorted(EVAL_DIR.glob("*.py"))
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>AG\d+(?:\s*,\s*AG\d+)*)")
_CODES = re.compile(r"^#\s*codes:\s*(?P<codes>AG\d+(?:\s*,\s*AG\d+)*)\s*$", re.M)
_PATH = re.compile(r"^#\s*path:\s*(?P<path>\S+)\s*$", re.M)
# ``# python: <3.12``: the file's expectations hold on older interpreters only.
_BELOW = re.compile(r"^#\s*python:\s*<\s*(?P<major>\d+)\.(?P<minor>\d+)\s*$", re.M)


def _split(codes: str) -> set[str]:
    return {c.strip() for c in codes.split(",") if c.strip()}


def fixture_spec(path: Path) -> tuple[str, set[str], set[tuple[int, str]], str]:
    """(text, the file's codes, expected (line, code) pairs, path to audit it as)."""
    text = path.read_text(encoding="utf-8")
    codes = {path.name.split("_", 1)[0].upper()}
    for match in _CODES.finditer(text):
        codes |= _split(match["codes"])
    expected = {
        (lineno, code)
        for lineno, line in enumerate(text.splitlines(), start=1)
        for match in _EXPECT.finditer(line)
        for code in _split(match["codes"])
    }
    as_path = _PATH.search(text)
    return text, codes, expected, as_path["path"] if as_path else f"tests/eval_files/{path.name}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_eval_file(path: Path) -> None:
    text, codes, expected, as_path = fixture_spec(path)
    below = _BELOW.search(text)
    if below and sys.version_info >= (int(below["major"]), int(below["minor"])):
        pytest.skip(f"its expectations hold below Python {below['major']}.{below['minor']}")
    findings = audit_source(text, as_path, config=Config())
    actual = {(f.line, f.code) for f in findings if f.code in codes}
    lines = text.splitlines()

    def show(pairs: set[tuple[int, str]]) -> str:
        return "\n".join(f"  {ln}: {code}  | {lines[ln - 1].strip()}" for ln, code in sorted(pairs))

    missing, unexpected = expected - actual, actual - expected
    assert not missing and not unexpected, (
        f"{path.name} (audited as {as_path})\nmissing:\n{show(missing)}\nunexpected:\n"
        f"{show(unexpected)}\nall findings: {[(f.line, f.code, f.message) for f in findings]}"
    )


def test_every_rule_has_a_finding_fixture_and_a_clean_one() -> None:
    with_finding: set[str] = set()
    clean: set[str] = set()
    for path in FILES:
        _, codes, expected, _ = fixture_spec(path)
        expected_codes = {code for _, code in expected}
        with_finding |= expected_codes
        clean |= codes - expected_codes
    rules = {rule.code for rule in all_rules()}
    assert not rules - with_finding, (
        f"rules without a fixture that expects a finding: {sorted(rules - with_finding)}"
    )
    assert not rules - clean, (
        f"rules without a clean fixture (a file of theirs with no expect): {sorted(rules - clean)}"
    )


def test_fixture_codes_are_real_rules() -> None:
    rules = {rule.code for rule in all_rules()}
    for path in FILES:
        _, codes, expected, _ = fixture_spec(path)
        unknown = (codes | {c for _, c in expected}) - rules
        assert not unknown, f"{path.name} names unknown codes {sorted(unknown)}"
