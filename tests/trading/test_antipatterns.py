"""Every anti-pattern example reproduces its failure, and the README's codes are true.

Other helpers use these examples; this test keeps them working and keeps the
README's audit and runtime columns honest against the real audit and guard.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import ROOT, subprocess_env

EXAMPLES = ROOT / "examples" / "antipatterns"
MODULES = sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_"))
CODE = re.compile(r"AGR?\d{3}")

pytestmark = [pytest.mark.slow, pytest.mark.async_guard_strict]


def readme_cells(column: int, *, with_parentheses: bool = False) -> dict[str, set[str]]:
    """module -> the codes in one column of the README table (3: audit, 4: runtime)."""
    rows = {}
    for line in (EXAMPLES / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `(\w+)\.py` \|", line)
        if match:
            cell = [c.strip() for c in line.strip("|").split("|")][column]
            if not with_parentheses:
                cell = re.sub(r"\(.*?\)", "", cell)
            rows[match.group(1)] = set(CODE.findall(cell))
    return rows


def test_the_readme_has_a_row_for_every_example() -> None:
    audit, runtime = readme_cells(3), readme_cells(4)
    assert sorted(audit) == sorted(runtime) == MODULES
    assert len(MODULES) == 10
    assert all(audit[name] and runtime[name] for name in MODULES)


@pytest.mark.django_db(transaction=True)
def test_every_example_reproduces_its_failure_and_logs_its_events(tmp_path: Path) -> None:
    env = subprocess_env(ASYNC_GUARD_MODE="warn")
    procs = {}
    for name in MODULES:
        log = (tmp_path / f"{name}.log").open("wb")
        procs[name] = (
            subprocess.Popen(
                [sys.executable, "-m", f"examples.antipatterns.{name}"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            ),
            log,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    runtime = readme_cells(4)
    failures = []
    for name, (proc, log) in procs.items():
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        output = (tmp_path / f"{name}.log").read_text(errors="replace")
        events = set(re.findall(r"\bAGR\d{3}\b", output))
        if proc.returncode != 0 or not re.search(r"^REPRODUCED: ", output, re.M):
            failures.append(f"{name} (exit {proc.returncode}):\n{output}")
        elif events != runtime[name]:
            failures.append(f"{name}: events {sorted(events)}, README {sorted(runtime[name])}")
    assert not failures, "\n\n".join(failures)


def test_the_audit_reports_the_readme_codes(tmp_path: Path) -> None:
    # The repository's audit excludes examples/antipatterns; a copy elsewhere is audited.
    copy = tmp_path / "antipatterns"
    shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "SQLITE_PATH": str(tmp_path / "db")}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "audit_async", "--no-cache", "--format", "json", str(copy)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    findings = json.loads(result.stdout)["findings"]
    found: dict[str, set[str]] = {name: set() for name in MODULES}
    for finding in findings:
        found.setdefault(Path(finding["path"]).stem, set()).add(finding["code"])
    required, allowed = readme_cells(3), readme_cells(3, with_parentheses=True)
    # Codes in parentheses in the README are extra findings: allowed, not required.
    wrong = {n: sorted(found[n]) for n in MODULES if not required[n] <= found[n] <= allowed[n]}
    assert not wrong, f"audit codes differ from the README: {wrong}"
    assert not {n: c for n, c in found.items() if n not in MODULES and c}
