"""End to end: the console script and ``manage.py audit_async`` as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import async_guard
from async_guard.audit.report.sarif import SCHEMA_PATH
from async_guard.audit.rules import all_rules

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(Path(sys.executable).with_name("async-guard"))
EXPECTED = [
    ("shop/remote.py", 14, "AG102"),
    ("shop/tasks.py", 10, "AG101"),
    ("shop/tasks.py", 20, "AG101"),
]


def run(args: list[str], cwd: Path, *, manage: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "manage.py"), "audit_async"] if manage else [SCRIPT]
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_text_format_reports_findings_and_exits_1(project: Path) -> None:
    result = run(["check", "shop", "--no-cache"], project)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("shop/remote.py:14:12: AG102 event loop")
    assert lines[2].startswith("shop/tasks.py:10:12: AG101 asyncio.run() in a Celery task")
    assert any(line.startswith("    hint: ") for line in lines)
    # suppression by code works, a bare noqa does not
    assert not any("tasks.py:15:" in line for line in lines)
    assert any("tasks.py:20:" in line for line in lines)
    assert lines[-1].startswith("Found 3 findings (0 errors, 3 warnings) in 4 files")


def test_json_format_schema(project: Path) -> None:
    result = run(["check", ".", "--format", "json", "--no-cache", "--jobs", "1"], project)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"version", "findings", "files_scanned", "parse_errors", "duration_s"}
    assert data["version"] == 1 and data["files_scanned"] == 4  # legacy/ excluded by pyproject
    found = [(f["path"], f["line"], f["code"]) for f in data["findings"]]
    assert found == EXPECTED
    first = data["findings"][0]
    assert set(first) == {
        "path", "line", "col", "end_line", "end_col", "code", "name", "severity", "message",
        "hint", "context",
    }  # fmt: skip
    assert first["context"] == "sync-function" and first["col"] == 12
    assert [f["context"] for f in data["findings"][1:]] == ["celery-task", "celery-task"]


def test_sarif_format_is_valid_sarif_2_1_0(project: Path) -> None:
    result = run(["check", "shop", "--format", "sarif", "--no-cache"], project)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    run_ = data["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == [r.code for r in all_rules()]
    assert all(r["help"]["text"] for r in run_["tool"]["driver"]["rules"])
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in run_["results"]] == [("AG102", 14), ("AG101", 10), ("AG101", 20)]  # fmt: skip


def test_github_format_annotations(project: Path) -> None:
    result = run(["check", "shop", "--format", "github", "--no-cache"], project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith(
        "::warning file=shop/tasks.py,line=10,col=12,endLine=10,endColumn=34,"
        "title=AG101 asyncio-run-in-sync-entrypoint::asyncio.run() in a Celery task"
    )
    assert "%0Ahint: " in lines[1]


def test_fail_on_select_ignore_quiet_output(project: Path, tmp_path: Path) -> None:
    assert run(["check", "shop", "--fail-on", "error", "--no-cache"], project).returncode == 0
    assert run(["check", "shop", "--fail-on", "never", "--no-cache"], project).returncode == 0
    result = run(["check", "shop", "--select", "AG102", "--quiet", "--no-cache"], project)
    assert result.returncode == 1
    assert [
        line.split(": ")[1].split()[0] for line in result.stdout.splitlines() if ": AG" in line
    ] == ["AG102"]
    assert "Found" not in result.stdout
    assert run(["check", "shop", "--ignore", "AG1", "--no-cache"], project).returncode == 0
    out = tmp_path / "report.json"
    result = run(["check", "shop", "--format", "json", "--output", str(out), "--no-cache"], project)
    assert result.returncode == 1 and result.stdout == ""
    assert len(json.loads(out.read_text())["findings"]) == 3


def test_usage_errors_exit_2_naming_the_problem(project: Path) -> None:
    for args, needle in [
        (["check", "--select", "AG9"], "--select: 'AG9' matches no rule"),
        (["check", "--format", "xml"], "--format"),
        (["check", "--jobs", "many"], "--jobs"),
        (["check", "--prune-baseline"], "--prune-baseline needs --baseline"),
        (["check", "--output", "missing/dir/out.txt"], "--output"),
        (["explain", "AG999"], "unknown rule 'AG999'"),
        ([], "choose a command"),
    ]:
        result = run(args, project)
        assert result.returncode == 2, (args, result.stderr)
        assert needle in result.stderr, (args, result.stderr)
    (project / "pyproject.toml").write_text("[tool.async_guard]\nselct = ['AG1']\n")
    result = run(["check", "shop"], project)
    assert result.returncode == 2
    assert "pyproject.toml [tool.async_guard]: selct: unknown key" in result.stderr
    (project / "pyproject.toml").write_text("[tool.async_guard]\nfail-on = 'sometimes'\n")
    result = run(["check", "shop"], project)
    assert result.returncode == 2 and "fail-on" in result.stderr


def test_rules_explain_and_version(project: Path) -> None:
    result = run(["rules"], project)
    assert result.returncode == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == [rule.code for rule in all_rules()]
    explained = run(["explain", "ag101"], project)
    assert explained.returncode == 0
    for section in ("## What goes wrong", "## Bad", "## Fix", "async_to_sync"):
        assert section in explained.stdout
    assert async_guard.__version__ in run(["--version"], project).stdout
    module = subprocess.run(
        [sys.executable, "-m", "async_guard", "rules"], cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert module.stdout == result.stdout


def test_management_command_on_a_tree_and_on_the_project(project: Path) -> None:
    result = run([str(project / "shop"), "--format", "json", "--no-cache"], ROOT, manage=True)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert [(Path(f["path"]).name, f["line"], f["code"]) for f in data["findings"]] == [
        ("remote.py", 14, "AG102"), ("tasks.py", 10, "AG101"), ("tasks.py", 20, "AG101"),
    ]  # fmt: skip
    for fmt in ("sarif", "github"):
        other = run([str(project / "shop"), "--format", fmt, "--no-cache"], ROOT, manage=True)
        assert other.returncode == 1 and "AG101" in other.stdout
    clean = run(["--no-cache"], ROOT, manage=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("No findings in ")


def test_progress_never_appears_in_piped_output(project: Path) -> None:
    result = run(["check", "shop", "--no-cache"], project)
    assert "files" not in result.stderr and "\r" not in result.stderr


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_stats_inventory(project: Path, fmt: str) -> None:
    result = run(["check", "shop", "--stats", "--format", fmt, "--no-cache", "--no-skip"], project)
    if fmt == "json":
        stats = json.loads(result.stdout)["stats"]
        assert stats["files"] == 4 and stats["async_functions"] == 1
        assert stats["sync_functions"] == 6 and stats["mixed_files"] == 1
        assert stats["asyncio_run_by_context"] == {"celery-task": 3}
    else:
        assert "asyncio.run() calls" in result.stdout
        assert "celery-task: 3" in result.stdout


def test_a_reader_that_goes_away_ends_the_run_quietly(project: Path) -> None:
    """``async-guard rules | head -0``: the pipe is closed before the first write.

    Python's own exit would print "Exception ignored ... BrokenPipeError" and exit 120.
    """
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [SCRIPT, "rules"], cwd=project, stdout=write_end, stderr=subprocess.PIPE, timeout=60
        )
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert result.stderr == b"", result.stderr


def test_output_to_a_file_is_complete_after_the_fast_exit(project: Path, tmp_path: Path) -> None:
    """The command exits without the interpreter's teardown; its output is flushed first."""
    out = tmp_path / "report.json"
    with out.open("w") as handle:
        code = subprocess.run(
            [sys.executable, "-m", "async_guard", "check", "shop", "--no-cache", "--format",
             "json"],
            cwd=project, stdout=handle, timeout=120,
        ).returncode  # fmt: skip
    assert code == 1
    report = json.loads(out.read_text())
    assert [(f["path"], f["line"], f["code"]) for f in report["findings"]] == EXPECTED


def test_rules_lists_a_severity_that_escalates(project: Path) -> None:
    """AG101 is a warning that becomes an error when the coroutine reaches the ORM."""
    listing = {
        line.split()[0]: line.split()[2] for line in run(["rules"], project).stdout.splitlines()
    }
    assert listing["AG101"] == "warning/error"
    assert listing["AG201"] == "error" and listing["AG102"] == "warning"


def test_a_path_the_configuration_excludes_is_named(project: Path) -> None:
    """Asking for an excluded folder audits nothing, and says so instead of "0 files"."""
    result = run(["check", "legacy", "--no-cache"], project)
    assert result.returncode == 0
    assert "legacy: nothing audited, the configuration's exclude leaves out all" in result.stderr
    assert "legacy/*" in result.stderr
    assert "warning" not in run(["check", "shop", "--no-cache"], project).stderr
