"""The adoption workflow through the real command line (``async_guard.cli.main``):
--diff, --fix, --write-baseline, --baseline, --prune-baseline on a small tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from async_guard.cli import main
from tests.adoption.corpus import BAD_TASK

TASKS = BAD_TASK.replace("    return asyncio", "    # the bug\n    return asyncio") + (
    "\n\n@shared_task\ndef sync_prebuilt(pr):\n"
    "    coroutine = fetch(pr)\n    return asyncio.run(coroutine)\n"
)

FIXED_TASK = "    return async_to_sync(fetch)(pr)\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.async_guard]\n")
    (tmp_path / "tasks.py").write_text(TASKS)
    return tmp_path


def check(*args: str) -> int:
    return main(["check", ".", "--no-cache", "--jobs", "1", *args])


def test_diff_shows_the_fix_and_writes_nothing(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check("--diff") == 1
    out, err = capsys.readouterr()
    assert "-    return asyncio.run(fetch(pr))\n+" + FIXED_TASK in out
    assert "--- a/tasks.py" in out
    assert "tasks.py:19: AG101 not fixed: the argument is not a call" in err
    assert (tree / "tasks.py").read_text() == TASKS


def test_fix_rewrites_once_and_the_rest_is_reported(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check("--fix") == 1  # the unfixable AG101 still stands
    fixed = (tree / "tasks.py").read_text()
    assert FIXED_TASK in fixed and "    # the bug\n" in fixed
    assert "from asgiref.sync import async_to_sync" in fixed
    assert "import asyncio" in fixed  # still used by the call left alone
    _, err = capsys.readouterr()
    assert "tasks.py:13: AG101 fixed" in err
    assert check("--fix") == 1
    assert (tree / "tasks.py").read_text() == fixed
    assert check("--diff") == 0


def test_baseline_workflow(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tree / "async-guard-baseline.json"
    assert check("--write-baseline", str(baseline)) == 0
    assert len(json.loads(baseline.read_text())["entries"]) == 2
    assert check("--baseline", str(baseline)) == 0

    # Every line moves: still nothing new.
    (tree / "tasks.py").write_text('"""Tasks."""\n\nimport logging\n\n' + TASKS)
    assert check("--baseline", str(baseline)) == 0

    # A new bug fails; only it is reported.
    (tree / "more.py").write_text(TASKS.replace("def sync_pr(", "def sync_other("))
    capsys.readouterr()
    assert check("--baseline", str(baseline), "--format", "json") == 1
    report = json.loads(capsys.readouterr().out)
    assert {(f["path"], f["line"]) for f in report["findings"]} == {
        ("more.py", 13),
        ("more.py", 19),
    }
    (tree / "more.py").unlink()

    # Fixing one accepted finding reports it as fixed; pruning drops it.
    assert check("--fix") == 1
    capsys.readouterr()
    assert check("--baseline", str(baseline), "--prune-baseline") == 0
    err = capsys.readouterr().err
    assert f"the baseline {baseline} hid 1 finding; 1 of its entries is stale" in err
    assert "AG101 sync_pr" in err and "pruned 1 stale entries" in err
    assert len(json.loads(baseline.read_text())["entries"]) == 1
    assert check("--baseline", str(baseline)) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [("{", "invalid JSON"), ('{"version": 9, "entries": []}', "version 9 is not supported")],
)
def test_a_bad_baseline_is_a_usage_error_naming_the_file(
    tree: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    (tree / "b.json").write_text(content)
    assert check("--baseline", "b.json") == 2
    err = capsys.readouterr().err
    assert "b.json" in err and message in err


def test_manage_py_audit_async_fixes_too(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    with pytest.raises(SystemExit) as exited:
        call_command("audit_async", ".", "--diff", "--no-cache", "--jobs", "1")
    assert exited.value.code == 1
    assert "+" + FIXED_TASK in capsys.readouterr().out
    with pytest.raises(SystemExit):  # the unfixable AG101 still stands
        call_command("audit_async", ".", "--fix", "--no-cache", "--jobs", "1")
    assert FIXED_TASK in (tree / "tasks.py").read_text()


def test_isolated_reads_no_configuration(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "pyproject.toml").write_text('[tool.async_guard]\nexclude = ["tasks.py"]\nbogus = 1\n')
    assert check() == 2
    assert "bogus: unknown key" in capsys.readouterr().err
    assert check("--isolated", "--format", "json") == 1
    report = json.loads(capsys.readouterr().out)
    assert {f["path"] for f in report["findings"]} == {"tasks.py"}
