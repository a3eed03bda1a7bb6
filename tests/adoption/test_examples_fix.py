"""Issue 6's bar on the anti-pattern examples: --fix (on a copy) leaves every file
parsing, a second run changes nothing, and the fixed codes audit clean except for
findings skipped with a reason."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from tests.adoption.corpus import FIX_FILES, fix_tree, stress_tree

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "antipatterns"


def test_fixing_the_antipattern_examples(tmp_path: Path) -> None:
    if not any(EXAMPLES.rglob("*.py")):
        pytest.skip("examples/antipatterns/ has no Python files yet")
    originals = {path: path.read_bytes() for path in EXAMPLES.rglob("*.py")}
    copy = tmp_path / "antipatterns"
    shutil.copytree(EXAMPLES, copy)

    report = fix_tree(copy)

    print(report.table())  # shown with -s: what was fixed and what was left, and why
    assert report.changed, "the examples hold fixable anti-patterns: something must change"
    assert not report.broken
    assert not report.unstable
    assert not report.left, [f"{f.path}:{f.line} {f.code}" for f in report.left]
    for path in copy.rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"))
    assert {path: path.read_bytes() for path in EXAMPLES.rglob("*.py")} == originals


def test_every_fixer_site_in_the_examples_and_fixtures_fixes_cleanly() -> None:
    """Stress: a finding at every place a fixer acts, reported or not (see stress_tree)."""
    for root in (EXAMPLES, FIX_FILES):
        if not any(root.rglob("*.py")):
            continue
        report = stress_tree(root)
        assert sum(report.applied.values()) > 0, root
        assert not report.broken and not report.unstable, report.table()
