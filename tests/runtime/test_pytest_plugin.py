"""The pytest plugin's strict mode, run by pytest on real test suites.

Two kinds of runs. The sample project in ``strict_project/`` (a small Django
project with async_guard installed, pytest-django, pytest-asyncio, Celery's
eager mode and ``live_server``) runs in a subprocess, exactly as a team's
suite would; its ``test_bad_<code>_*`` tests must fail with that event and its
``test_good_*`` tests pass. Smaller inner suites run in-process with
pytester, so that coverage sees the plugin run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import ROOT

pytest_plugins = ["pytester"]

PROJECT = Path(__file__).resolve().parent / "strict_project"

# What pytest would print of the guard's own source if its frames were shown.
GUARD_SOURCE = (
    "__tracebackhide__",
    "raise AsyncGuardError(code, message)",
    "unit.run(entered",
    "return TRAMPOLINES",
    "async_guard/runtime/",
    "async_guard/pytest_unit.py",
    "async_guard/pytest_plugin.py",
)


@dataclass
class Run:
    outcomes: dict[str, str]
    texts: dict[str, str]
    output: str


def run_project(tmp_path: Path, *args: str) -> Run:
    """Copy the sample project and run pytest on it; outcomes and failure texts by test name."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    report = tmp_path / "report.xml"
    completed = run_pytest(project, "-rA", f"--junitxml={report}", *args)
    output = completed.stdout + completed.stderr
    assert report.exists(), output
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name", "")] = kinds[0] if kinds else "passed"
    return Run(outcomes, failure_texts(output), output)


def failure_texts(output: str) -> dict[str, str]:
    """The terminal's failure report of each test, by test name (a method without its class).

    Without the captured output and log records: what the project's own code
    and loggers printed is not the failure's report.
    """
    texts: dict[str, str] = {}
    name = None
    captured = False
    for line in output.splitlines():
        header = re.fullmatch(r"_{3,} (\S+) _{3,}", line)
        if header:
            name = header.group(1).rpartition(".")[2]
            texts[name] = ""
            captured = False
        elif re.match(r"={3,} ", line):
            name = None
        elif re.match(r"-{3,} Captured ", line):
            captured = "async_guard events" not in line
            if not captured and name is not None:
                texts[name] += line + "\n"
        elif name is not None and not captured:
            texts[name] += line + "\n"
    return texts


@pytest.fixture(scope="module")
def strict_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_project(tmp_path_factory.mktemp("strict"), "--async-guard-strict")


def at(file: str, code: str) -> str:
    """``file:line`` of the sample project's line that holds ``code``."""
    lines = (PROJECT / file).read_text(encoding="utf-8").splitlines()
    return f"{file}:{[line.strip() for line in lines].index(code) + 1}"


SIGNUP_RUN = at("shop/signup.py", "asyncio.run(create(name))")
SIGNUP_ORM = at("shop/signup.py", "await sync_to_async(Group.objects.create)(name=name)")
DROPPED = at("shop/signup.py", "fetch_quote()  # Wrong: never awaited")


def forgotten_awaits() -> list[str]:
    lines = (PROJECT / "check_async.py").read_text(encoding="utf-8").splitlines()
    return [
        f"check_async.py:{n}"
        for n, line in enumerate(lines, 1)
        if line.strip() == "signup.fetch_quote()"
    ]


FORGOT_AWAIT = forgotten_awaits()


def expected_code(name: str) -> str | None:
    match = re.match(r"test_bad_(agr\d{3})_", name)
    return match.group(1).upper() if match else None


def test_every_bad_test_fails_with_its_event_and_every_good_one_passes(strict_run: Run) -> None:
    assert len(strict_run.outcomes) >= 20, strict_run.output
    for name, outcome in strict_run.outcomes.items():
        code = expected_code(name)
        if code is None:
            assert name.startswith("test_good_")
            assert outcome == "passed", (name, strict_run.texts.get(name, strict_run.output))
        else:
            assert outcome == "failure", (name, strict_run.output)
            assert code in strict_run.texts[name], (name, strict_run.texts[name])


def test_without_strict_mode_the_bugs_pass(tmp_path: Path) -> None:
    """What the issue reports: nothing starts a unit, so nothing sees them."""
    run = run_project(tmp_path, "check_sync.py")
    for name in ("test_bad_agr101_signup", "test_bad_agr106_dropped", "test_bad_agr106_in_a_cycle"):
        assert run.outcomes[name] == "passed", run.output


def test_asyncio_run_over_the_orm_shows_the_event_the_users_line_and_the_fix(
    strict_run: Run,
) -> None:
    text = strict_run.texts["test_bad_agr101_signup"]
    assert "AsyncGuardError: AGR101 query on thread" in text
    assert at("check_sync.py", 'signup.signup("alice")') in text  # the test's own line
    assert f"{SIGNUP_RUN}: in signup" in text
    assert f"AGR101 at {SIGNUP_ORM} in create" in text
    assert "call the coroutine with async_to_sync" in text
    for source in GUARD_SOURCE:
        assert source not in text, source


def test_an_event_the_code_swallowed_still_fails_the_test(strict_run: Run) -> None:
    text = strict_run.texts["test_bad_agr101_swallowed"]
    assert "async_guard strict mode: " in text
    assert f"AGR101 at {SIGNUP_ORM} in create" in text
    assert "Traceback" not in text
    for source in GUARD_SOURCE:
        assert source not in text, source


def test_a_dropped_coroutine_fails_the_test_that_made_it(strict_run: Run) -> None:
    text = strict_run.texts["test_bad_agr106_dropped"]
    assert f"AGR106 at {DROPPED} in refresh_quotes" in text
    assert "check_sync.py::test_bad_agr106_dropped" in text
    assert "Await it" in text
    # Kept alive by a reference cycle: found by the collection at the end of the test.
    assert (
        f"AGR106 at {at('check_sync.py', 'holder = [signup.fetch_quote()]')} "
        "in test_bad_agr106_in_a_cycle" in (strict_run.texts["test_bad_agr106_in_a_cycle"])
    )
    # Python's own warning keeps the user's line, and lists no frame of the guard.
    warning = strict_run.output.split("warnings summary", 1)[1]
    assert f"{DROPPED}: RuntimeWarning: coroutine 'fetch_quote' was never awaited" in warning
    for source in GUARD_SOURCE[1:]:
        assert source not in warning.split("check_sync.py::test_bad_agr106_in_a_cycle")[0]


def test_async_tests_are_async_units(strict_run: Run) -> None:
    assert (
        f"AGR106 at {FORGOT_AWAIT[0]} in test_bad_agr106_forgot_await"
        in (strict_run.texts["test_bad_agr106_forgot_await"])
    )
    assert f"AGR106 at {FORGOT_AWAIT[1]}" in strict_run.texts["test_bad_agr106_async_method"]
    # The test failed on its own: the event goes beside its failure.
    text = strict_run.texts["test_bad_agr108_sync_orm_in_async"]
    assert "SynchronousOnlyOperation" in text
    assert "Captured async_guard events call" in text and "AGR108" in text


def test_celery_eager_tasks_and_live_server_requests_are_units_inside_the_test(
    strict_run: Run,
) -> None:
    for name in ("test_bad_agr101_eager_task", "test_bad_agr101_live_server"):
        text = strict_run.texts[name]
        assert f"AGR101 at {SIGNUP_ORM} in create" in text
    assert "'GET /join/'" in strict_run.texts["test_bad_agr101_live_server"]
    assert "shop.tasks.join_badly" in strict_run.texts["test_bad_agr101_eager_task"]


# -- in-process runs ---------------------------------------------------------

# Django is already set up by the outer session, so the inner one runs without
# pytest-django; the outer test's database is the inner tests' database.
ARGS = ("-p", "no:cacheprovider", "-p", "no:cov", "-p", "no:django")

INNER = """
import asyncio
import unittest

import pytest
from django.test import SimpleTestCase

import async_guard


def leak():
    with async_guard.watch("leak"):
        asyncio.new_event_loop()


async def quote():
    return 1


@pytest.mark.async_guard_strict
def test_marked_leak():
    leak()


@pytest.mark.async_guard_strict
def test_marked_swallowed():
    try:
        leak()
    except Exception:
        pass


@pytest.mark.async_guard_strict
def test_marked_taken(async_guard_events):
    with pytest.raises(async_guard.AsyncGuardError):
        leak()
    assert [event["code"] for event in async_guard_events] == ["AGR102"]
    assert async_guard_events[0]["unit"] == "leak"


def test_unmarked_leak():
    leak()


def test_clean():
    with async_guard.watch("clean"):
        pass


def test_dropped():
    quote()


def test_loop_left_open():
    asyncio.new_event_loop()


@pytest.mark.asyncio
async def test_async_dropped():
    quote()


@pytest.mark.asyncio
async def test_async_clean():
    assert await quote() == 1


@pytest.mark.anyio
async def test_anyio_dropped():
    quote()


class Case(SimpleTestCase):
    def test_case_leak(self):
        leak()

    async def test_case_async_dropped(self):
        quote()

    async def test_case_async_clean(self):
        self.assertEqual(await quote(), 1)


class AsyncioCase(unittest.IsolatedAsyncioTestCase):
    async def test_isolated_dropped(self):
        quote()
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "settings")
    monkeypatch.delenv("ASYNC_GUARD_MODE", raising=False)
    pytester.makepyfile(test_inner=INNER)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    found = {}
    for line in result.stdout.lines:
        match = re.match(r"test_inner\.py::(?:\w+::)?(\w+)(?:\[\w+\])? (PASSED|FAILED)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_marker(inner: pytest.Pytester) -> None:
    result = inner.runpytest_inprocess(*ARGS, "-v")
    assert outcomes(result) == {
        "test_marked_leak": "FAILED",
        "test_marked_swallowed": "FAILED",
        "test_marked_taken": "PASSED",
        "test_unmarked_leak": "PASSED",
        "test_clean": "PASSED",
        "test_dropped": "PASSED",
        "test_loop_left_open": "PASSED",
        "test_async_dropped": "PASSED",
        "test_async_clean": "PASSED",
        "test_anyio_dropped": "PASSED",
        "test_case_leak": "PASSED",
        "test_case_async_dropped": "PASSED",
        "test_case_async_clean": "PASSED",
        "test_isolated_dropped": "PASSED",
    }
    result.stdout.fnmatch_lines(
        [
            "*AsyncGuardError: AGR102 event loop created*",
            "*Captured async_guard events call*",
            "async_guard strict mode: 1 guard event(s) fired during the test:",
            "AGR102 at test_inner.py:* in leak",
            "    event loop created on thread 'MainThread' during 'leak' was not closed*",
            "Fix the code, or take the events through the async_guard_events fixture*",
        ]
    )


def test_option(inner: pytest.Pytester) -> None:
    result = inner.runpytest_inprocess(*ARGS, "--async-guard-strict", "-v")
    assert outcomes(result) == {
        "test_marked_leak": "FAILED",
        "test_marked_swallowed": "FAILED",
        "test_marked_taken": "PASSED",
        "test_unmarked_leak": "FAILED",
        "test_clean": "PASSED",
        "test_dropped": "FAILED",
        "test_loop_left_open": "FAILED",
        "test_async_dropped": "FAILED",
        "test_async_clean": "PASSED",
        "test_anyio_dropped": "FAILED",
        "test_case_leak": "FAILED",
        "test_case_async_dropped": "FAILED",
        "test_case_async_clean": "PASSED",
        "test_isolated_dropped": "FAILED",
    }
    text = result.stdout.str()
    for name in (
        "test_dropped",
        "test_async_dropped",
        "test_anyio_dropped[asyncio]",
        "Case::test_case_async_dropped",
    ):
        assert f"during 'test_inner.py::{name}'" in text
    result.stdout.fnmatch_lines(["AGR106 at test_inner.py:* in test_isolated_dropped"])
    reports = failure_texts(text)
    assert len(reports) == 10
    for report in reports.values():
        for source in GUARD_SOURCE:
            assert source not in report, source


def test_ini(inner: pytest.Pytester) -> None:
    inner.makeini(
        "[pytest]\nasync_guard_strict = true\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = inner.runpytest_inprocess(*ARGS, "-v")
    assert list(outcomes(result).values()).count("FAILED") == 10


def test_a_run_without_strict_mode_imports_neither_django_nor_the_guard(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_nothing_loaded():
            loaded = [m for m in sys.modules if m.startswith(("django", "async_guard."))]
            assert loaded == ["async_guard.pytest_plugin"]
        """
    )
    completed = run_pytest(pytester.path, "-p", "no:django", "-p", "no:cov", "-p", "no:asyncio")
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_strict_mode_without_django_settings_runs_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    completed = run_pytest(pytester.path, "-p", "no:django", "-p", "no:cov", "--async-guard-strict")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "internal error" not in completed.stdout + completed.stderr


def run_pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a subprocess, on the settings found in ``cwd``, never the repository's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_an_event_with_no_place_or_a_place_outside_the_project_is_described(tmp_path: Path):
    from async_guard.pytest_plugin import describe

    text = describe(
        [
            {"code": "AGR106", "message": "AGR106 coroutine f was never awaited", "where": None},
            {
                "code": "AGR101",
                "message": "AGR101 query [at /elsewhere/app.py:3 in f]",
                "where": {"file": "/elsewhere/app.py", "line": 3, "function": "f"},
            },
        ],
        tmp_path,
    )
    assert "AGR106\n    coroutine f was never awaited\n" in text
    assert "AGR101 at /elsewhere/app.py:3 in f\n    query\n" in text


def test_a_guard_module_imported_as_another_is_removed_still_gets_hidden(monkeypatch) -> None:
    # The number of imported modules stays the same: one removed, one imported.
    import types

    from async_guard import pytest_unit

    placeholder = types.ModuleType("tests._removed_between_two_tests")
    monkeypatch.setitem(sys.modules, placeholder.__name__, placeholder)
    pytest_unit.hide_guard_frames()
    monkeypatch.delitem(sys.modules, placeholder.__name__)
    module = types.ModuleType("async_guard._imported_since")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    pytest_unit.hide_guard_frames()
    assert vars(module).get("__tracebackhide__") is True
