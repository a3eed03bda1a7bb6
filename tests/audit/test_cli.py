"""End to end: the console script and ``manage.py audit_async`` as subprocesses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import async_guard
from async_guard.audit.report.sarif import SCHEMA_PATH
from async_guard.audit.rules import all_rules
from tests.support.terminal import run_on_terminal

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


# --- the first hour: usage errors, --isolated, what a run hid, colour ---------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain_env(**extra: str) -> dict[str, str]:
    """The environment of ``run``, without the colour variables the caller may have set."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(ROOT)}
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        env.pop(name, None)
    return {**env, **extra}


def run_env(
    args: list[str], cwd: Path, env: dict[str, str], *, manage: bool = False
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "manage.py"), "audit_async"] if manage else [SCRIPT]
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("manage", [False, True], ids=["console-script", "manage.py"])
def test_a_path_that_does_not_exist_is_a_usage_error(project: Path, manage: bool) -> None:
    """A typo in a CI configuration must fail the job, not pass it with "0 files"."""
    args = ["no_such_dir/", "--no-cache"] if manage else ["check", "no_such_dir/", "--no-cache"]
    result = run(args, project, manage=manage)
    assert result.returncode == 2
    assert result.stderr == "async-guard: error: no such file or directory: no_such_dir/\n"
    assert result.stdout == ""
    # one good path beside it does not hide the typo
    both = run([*args[:-2], "shop", "no_such_dir/", "--no-cache"], project, manage=manage)
    assert both.returncode == 2 and "no_such_dir/" in both.stderr and "AG101" not in both.stdout


def test_isolated_ignores_every_configuration_file(project: Path) -> None:
    excluded = run(["check", "legacy", "--no-cache"], project)
    assert excluded.returncode == 0 and "--isolated ignores the configuration" in excluded.stderr
    isolated = run(["check", "--isolated", "legacy", "--no-cache"], project)
    assert isolated.returncode == 1, isolated.stderr
    assert "legacy/old.py:" in isolated.stdout and isolated.stderr == ""
    # a configuration file that would stop the run is not even read
    (project / "pyproject.toml").write_text("[tool.async_guard]\nselct = ['AG1']\n")
    assert run(["check", "shop", "--no-cache"], project).returncode == 2
    result = run(["check", "--isolated", "shop", "--no-cache"], project)
    assert result.returncode == 1 and "AG101" in result.stdout


def _settings_module(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(f"from settings import *  # noqa: F403\n\n{body}\n")


def test_isolated_manage_py_ignores_the_settings_too(project: Path, tmp_path: Path) -> None:
    _settings_module(
        tmp_path, "ag_select_settings", 'ASYNC_GUARD = {"AUDIT": {"SELECT": ["AG102"]}}'
    )
    _settings_module(tmp_path, "ag_lower_settings", 'ASYNC_GUARD = {"AUDIT": {"select": ["AG1"]}}')
    pythonpath = f"{ROOT}{os.pathsep}{tmp_path}"
    shop = str(project / "shop")

    def codes(module: str, *args: str) -> tuple[int, set[str], str]:
        env = plain_env(DJANGO_SETTINGS_MODULE=module, PYTHONPATH=pythonpath)
        result = run_env([shop, "--no-cache", "--format", "json", *args], ROOT, env, manage=True)
        found = json.loads(result.stdout)["findings"] if result.stdout else []
        return result.returncode, {f["code"] for f in found}, result.stderr

    assert codes("ag_select_settings")[:2] == (1, {"AG102"})
    assert codes("ag_select_settings", "--isolated")[:2] == (1, {"AG101", "AG102"})
    code, found, err = codes("ag_lower_settings")
    assert code == 2 and not found
    assert err.startswith("async-guard: error: settings: ASYNC_GUARD['AUDIT'] key 'select'")
    assert "'SELECT'" in err and err.count("\n") == 1
    assert codes("ag_lower_settings", "--isolated")[:2] == (1, {"AG101", "AG102"})


def test_a_baseline_run_says_what_it_hid_and_what_is_stale(project: Path) -> None:
    assert (
        run(["check", "shop", "--write-baseline", "base.json", "--no-cache"], project).returncode
        == 0
    )
    result = run(["check", "shop", "--baseline", "base.json", "--no-cache"], project)
    assert result.returncode == 0
    assert result.stderr == (
        "async-guard: the baseline base.json hid 3 findings; none of its entries is stale\n"
    )
    tasks = project / "shop" / "tasks.py"
    tasks.write_text(
        tasks.read_text().replace("return asyncio.run(fetch(pk))  # noqa\n", "return 1\n")
    )
    for fmt in ("text", "json"):
        result = run(
            ["check", "shop", "--baseline", "base.json", "--no-cache", "--format", fmt], project
        )
        assert result.returncode == 0
        first = result.stderr.splitlines()[0]
        assert first == (
            "async-guard: the baseline base.json hid 2 findings; 1 of its entries is stale "
            "(the finding is gone): --prune-baseline drops them"
        )
    assert (
        "shop/tasks.py: AG101 bare_noqa"
        in run(["check", "shop", "--baseline", "base.json", "--no-cache"], project).stderr
    )
    quiet = run(["check", "shop", "--baseline", "base.json", "--no-cache", "--quiet"], project)
    assert quiet.returncode == 0 and quiet.stderr == ""


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_output_file_prints_one_summary_line(project: Path, fmt: str) -> None:
    result = run(
        ["check", "shop", "--format", fmt, "--output", "report.out", "--no-cache"], project
    )
    assert result.returncode == 1 and result.stdout == ""
    assert re.fullmatch(
        rf"async-guard: wrote report\.out \({fmt}\): 3 findings \(0 errors, 3 warnings\) "
        r"in 4 files \(\d+\.\d\ds\)\n",
        result.stderr,
    ), result.stderr
    assert "AG101" in (project / "report.out").read_text()
    clean = run(["check", "shop/plain.py", "--output", "clean.txt", "--no-cache"], project)
    assert clean.returncode == 0 and "no findings in 1 file (" in clean.stderr
    quiet = run(["check", "shop", "--output", "q.txt", "--quiet", "--no-cache"], project)
    assert quiet.stderr == ""


def test_sarif_messages_are_sentences_before_the_hint(project: Path) -> None:
    result = run(["check", "shop", "--format", "sarif", "--no-cache"], project)
    texts = [r["message"]["text"] for r in json.loads(result.stdout)["runs"][0]["results"]]
    assert len(texts) == 3
    for text in texts:
        finding, hint = text.split(" Hint: ")
        assert finding.endswith(".") and not finding.endswith(".."), text
        assert hint.endswith("."), text


def _read_pty(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run ``argv`` with stdout and stderr on a pseudo-terminal; (exit code, the screen)."""
    return run_on_terminal(argv, cwd, deadline_s=120, env=env)


def test_colour_on_a_terminal_none_when_piped(project: Path) -> None:
    argv = [SCRIPT, "check", "shop", "--no-cache"]
    piped = run_env(argv[1:], project, plain_env())
    assert piped.returncode == 1 and "\x1b[" not in piped.stdout + piped.stderr
    code, screen = _read_pty(argv, project, plain_env(TERM="xterm"))
    assert code == 1
    assert "\x1b[1;33mAG101\x1b[0m" in screen  # a warning's code in yellow
    assert "\x1b[1mshop/tasks.py:10:12:\x1b[0m" in screen
    # the words are the same as in the piped output (the terminal writes CR LF)
    assert (
        ANSI.sub("", screen).replace("\r\n", "\n").splitlines()[:-1]
        == (piped.stdout.splitlines()[:-1])
    )
    for variables in ({"NO_COLOR": "1"}, {"TERM": "dumb"}, {"NO_COLOR": "1", "FORCE_COLOR": "1"}):
        code, screen = _read_pty(argv, project, plain_env(**{"TERM": "xterm", **variables}))
        assert code == 1 and "AG101" in screen and "\x1b[" not in screen, variables


def test_force_color_when_piped_and_never_in_a_file(project: Path) -> None:
    forced = run_env(["check", "shop", "--no-cache"], project, plain_env(FORCE_COLOR="1"))
    assert "\x1b[1;33mAG101\x1b[0m" in forced.stdout
    assert "\x1b[1;33mFound 3 findings" in forced.stdout
    to_file = run_env(
        ["check", "shop", "--output", "out.txt", "--no-cache"], project, plain_env(FORCE_COLOR="1")
    )
    assert to_file.returncode == 1 and "\x1b[" not in (project / "out.txt").read_text()
    # manage.py: Django's own --force-color / --no-color, over the environment
    shop = str(project / "shop")
    managed = run_env([shop, "--no-cache", "--force-color"], ROOT, plain_env(), manage=True)
    assert "\x1b[1;33mAG101\x1b[0m" in managed.stdout
    plain = run_env(
        [shop, "--no-cache", "--no-color"], ROOT, plain_env(FORCE_COLOR="1"), manage=True
    )
    assert plain.returncode == 1 and "AG101" in plain.stdout and "\x1b[" not in plain.stdout
