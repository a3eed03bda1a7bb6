"""Every anti-pattern example still reproduces its failure when run (other helpers rely on it)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import ROOT, subprocess_env

EXAMPLES = ROOT / "examples" / "antipatterns"
MODULES = sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_"))

pytestmark = [pytest.mark.slow, pytest.mark.async_guard_strict]


def test_the_readme_maps_every_example_to_its_codes() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)\.py` \|.*?\| (AG\d{3}[^|]*)\|", readme, re.M))
    assert sorted(rows) == MODULES
    assert len(MODULES) == 10


@pytest.mark.django_db(transaction=True)
def test_every_example_reproduces_its_failure(tmp_path: Path) -> None:
    env = subprocess_env(ASYNC_GUARD_MODE="off")
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
    failures = []
    for name, (proc, log) in procs.items():
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        output = (tmp_path / f"{name}.log").read_text(errors="replace")
        if proc.returncode != 0 or not re.search(r"^REPRODUCED: ", output, re.M):
            failures.append(f"{name} (exit {proc.returncode}):\n{output}")
    assert not failures, "\n\n".join(failures)
