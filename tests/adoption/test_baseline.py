"""The baseline file: round trip, matching that survives moved lines, fixed entries,
pruning, clear errors on bad files, atomic writes. Findings come from the real audit."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from async_guard.audit import baseline
from async_guard.audit.baseline import Baseline, BaselineEntry, BaselineError
from async_guard.audit.finding import Finding
from async_guard.audit.walk import audit_source

MODELS = """\
from django.db import models


class Position(models.Model):
    symbol = models.CharField(max_length=10)


"""

VIEWS = (
    MODELS
    + """\
async def refresh(pk):
    position = Position.objects.get(pk=pk)
    position.save()
    return position


async def count():
    return Position.objects.count()
"""
)


def audit(source: str) -> list[Finding]:
    findings = audit_source(source, "trading/views.py")
    assert findings, "the test source must produce findings"
    return findings


def test_round_trip(tmp_path: Path) -> None:
    findings = audit(VIEWS)
    path = tmp_path / "baseline.json"
    baseline.write(path, findings)
    loaded = baseline.load(path)
    assert len(loaded) == len(findings)
    assert loaded.split(findings) == ([], [])


def test_an_edit_that_moves_every_line_keeps_the_matches(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    baseline.write(path, audit(VIEWS))
    moved = '"""Module docstring added above everything."""\n\nimport logging\n\n' + VIEWS
    moved = moved.replace("    return position", "    # why\n    return position")
    new, fixed = baseline.load(path).split(audit(moved))
    assert (new, fixed) == ([], [])


def test_a_new_finding_is_reported_and_a_fixed_one_listed(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    baseline.write(path, audit(VIEWS))
    edited = VIEWS.replace("    position.save()\n", "    await position.asave()\n")
    edited += "\n\nasync def last():\n    return Position.objects.last()\n"
    new, fixed = baseline.load(path).split(audit(edited))
    assert [(f.code, f.source_line) for f in new] == [("AG201", "return Position.objects.last()")]
    assert [(e.code, e.symbol, e.line) for e in fixed] == [("AG201", "refresh", 10)]
    # Pruning drops exactly the fixed entries.
    pruned = baseline.load(path).without(fixed)
    baseline.write(path, pruned)
    assert len(baseline.load(path)) == len(audit(VIEWS)) - 1


def test_the_same_line_moved_to_another_function_is_new(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    baseline.write(path, audit(VIEWS))
    renamed = VIEWS.replace("async def count():", "async def total():")
    new, fixed = baseline.load(path).split(audit(renamed))
    assert [f.symbol for f in new] == ["total"]
    assert [e.symbol for e in fixed] == ["count"]


def test_identical_lines_in_one_function_match_by_count() -> None:
    once = MODELS + "async def f():\n    Position.objects.count()\n"
    twice = once + "    Position.objects.count()\n"
    thrice = twice + "    Position.objects.count()\n"
    accepted = Baseline.of(audit(twice))
    new, fixed = accepted.split(audit(thrice))
    assert [f.line for f in new] == [11]
    assert fixed == []
    new, fixed = accepted.split(audit(once))
    assert new == [] and len(fixed) == 1


def test_paths_are_normalised() -> None:
    (finding,) = audit_source(MODELS + "async def f():\n    Position.objects.count()\n", "x.py")
    dotted = Finding(**{**finding.__dict__, "path": "./apps\\x.py"})
    plain = Finding(**{**finding.__dict__, "path": "apps/x.py"})
    assert Baseline.of([dotted]).split([plain]) == ([], [])


def test_the_file_is_sorted_versioned_and_stable(tmp_path: Path) -> None:
    findings = audit(VIEWS)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    baseline.write(first, findings)
    baseline.write(second, list(reversed(findings)))
    assert first.read_bytes() == second.read_bytes()
    data = json.loads(first.read_text())
    assert data["version"] == 1
    keys = [(e["path"], e["code"], e["fingerprint"], e["line"]) for e in data["entries"]]
    assert keys == sorted(keys)
    assert set(data["entries"][0]) == {"path", "code", "fingerprint", "line", "symbol", "message"}
    assert first.read_text().endswith("}\n")


def test_write_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("old")
    path.chmod(0o640)
    baseline.write(path, audit(VIEWS))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json"]


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    baseline.write(path, [])
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert baseline.load(path).entries == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON at line 1 column 2"),
        ("[]", "expected an object with version and entries"),
        ('{"version": 2, "entries": []}', "version 2 is not supported"),
        ('{"version": 1, "entries": {}}', "'entries' must be a list"),
        ('{"version": 1, "entries": [3]}', "entry 1: expected an object, got int"),
        ('{"version": 1, "entries": [{"path": "a.py", "code": "AG101"}]}', "'fingerprint'"),
        (
            '{"version": 1, "entries": [{"path": "a", "code": "A", "fingerprint": "f", '
            '"line": "3"}]}',
            "'line' must be an integer",
        ),
    ],
)
def test_bad_files_name_the_file_and_the_problem(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(BaselineError, match=message) as error:
        baseline.load(path)
    assert str(path) in str(error.value)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match=r"not found .*--write-baseline"):
        baseline.load(tmp_path / "nope.json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BaselineError, match="cannot read"):
        baseline.load(tmp_path / "binary.json")


def test_without_removes_each_entry_once() -> None:
    entry = BaselineEntry("a.py", "AG201", "f", 1)
    twice = Baseline((entry, entry))
    assert twice.without([entry]).entries == (entry,)
    assert twice.without([BaselineEntry("b.py", "AG201", "f", 1)]) == twice
