"""``benchmarks/instructions.py``: its children run the operations, its parser reads callgrind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import instructions

ROOT = Path(__file__).resolve().parents[2]


def test_collected_reads_callgrinds_total() -> None:
    assert instructions.collected("==41== Events    : Ir\n==41== Collected : 2395476119\n") == (
        2395476119
    )
    with pytest.raises(RuntimeError, match="no 'Collected' line"):
        instructions.collected("valgrind: command not found")


@pytest.mark.parametrize("op", instructions.OPS)
def test_each_child_runs_its_operation(op: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "benchmarks/instructions.py", "--child", op, "guard", "3"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def test_without_valgrind_it_says_so(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    assert instructions.main(["--op", "sync_view"]) == 2
    assert "needs valgrind" in capsys.readouterr().err


def test_a_count_below_one_is_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        instructions.main(["--count", "0"])
    assert "--count must be at least 1, not 0" in capsys.readouterr().err
