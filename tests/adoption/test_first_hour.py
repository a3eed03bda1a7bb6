"""The README's first steps, run as a newcomer runs them, and what they print.

The quick start's "See it catch bugs" commands run in fresh processes; every
line of the output the README shows must appear, in order, in what they really
print (``…`` stands for any text, a line of its own for any lines). The claims
around them (which files each audit command counts, that the console script
finds fewer of the examples' bugs without the app registry) are checked too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SCRIPT = str(Path(sys.executable).with_name("async-guard"))


def first_minute() -> list[tuple[str, str]]:
    """(command, shown output) pairs of the README's "See it catch bugs" section."""
    section = README.split("### See it catch bugs", 1)[1].split("\n## ", 1)[0]
    section = section.split("\n### ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```\s*```text\n(.*?)```", section, re.S)


def pattern(shown: str) -> re.Pattern[str]:
    """The shown output as a pattern over the real one: ``…`` is any text."""
    parts = []
    for line in shown.splitlines():
        if line.strip() == "…":
            parts.append(r"(?:.*\n)*?")
            continue
        line = re.escape(line).replace("…", ".*?")
        line = re.sub(r"\\\(\d+\\\.\d+s\\\)", r"\\(\\d+\\.\\d+s\\)", line)  # the time taken
        parts.append(line + r"\n")
    return re.compile("".join(parts))


def environment(tmp_path: Path) -> dict[str, str]:
    """A newcomer's shell after the main job: the venv active, a migrated SQLite file."""
    env = {**os.environ, "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "ASYNC_GUARD_MODE"):
        env.pop(name, None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def shell(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


@pytest.mark.slow
def test_the_first_minute_shows_what_the_readme_shows(tmp_path: Path) -> None:
    steps = first_minute()
    assert [command for command, _ in steps] == [
        "python manage.py audit_async --isolated examples/antipatterns/",
        "python -m examples.antipatterns.asyncio_run_in_task",
    ]
    env = environment(tmp_path)
    migrated = shell("python manage.py migrate --noinput", env)
    assert migrated.returncode == 0, migrated.stderr
    audit, runtime = (shell(command, env) for command, _ in steps)

    assert audit.returncode == 1, audit.stderr  # findings
    assert pattern(steps[0][1]).search(audit.stdout), audit.stdout
    assert runtime.returncode == 0, runtime.stderr  # the example reproduced its bug
    both = runtime.stderr + runtime.stdout
    logged = "".join(line + "\n" for line in sorted(both.splitlines(), key=_log_order))
    assert pattern(steps[1][1]).search(logged), both
    assert re.search(r"^\S+ \S+ ERROR async_guard \d+ AGR101 ", runtime.stderr, re.M)


def _log_order(line: str) -> int:
    """The README lists the lines in the order they happen: AGR101, the result, AGR107."""
    return 0 if " AGR101 " in line else 2 if " AGR107 " in line else 1


def _files_scanned(command: list[str], env: dict[str, str]) -> tuple[int, int]:
    result = subprocess.run(
        [*command, "--format", "json", "--no-cache"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    return data["files_scanned"], len(data["findings"])


@pytest.mark.slow
def test_why_the_two_commands_count_different_files(tmp_path: Path) -> None:
    env = environment(tmp_path)
    manage = [sys.executable, "manage.py", "audit_async"]
    apps, _ = _files_scanned(manage, env)
    named, _ = _files_scanned([*manage, "async_guard", "trading"], env)
    assert "here `async_guard/` and `trading/`" in README
    assert apps == named  # the installed apps under BASE_DIR are exactly those two
    everything, _ = _files_scanned([SCRIPT, "check"], env)
    top_level = ["async_guard", "trading", "services", "settings", "tests", "manage.py", "examples"]
    with_the_rest, _ = _files_scanned([SCRIPT, "check", *top_level], env)
    assert everything == with_the_rest > apps
    # Both know the whole project's models (trading's, used by the examples); the app
    # registry can only add to them.
    _, registry = _files_scanned([*manage, "--isolated", "examples/antipatterns/"], env)
    _, console = _files_scanned([SCRIPT, "check", "--isolated", "examples/antipatterns/"], env)
    assert 0 < console <= registry
