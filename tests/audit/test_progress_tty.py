"""The progress display: on a terminal's stderr for a long run, nowhere else.

``async-guard check`` runs as a real subprocess with its stderr on a
pseudo-terminal (``pty``), on a generated Django project big enough to take
more than the two seconds after which progress appears. The same run with
stderr on a pipe, and the JSON that ``--format json`` writes, must carry none
of it. (audit-core's ``test_cli.py`` checks a piped run on a small tree; this
file checks the terminal case, where a display can actually appear.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks import corpus
from tests.support.terminal import run_on_terminal

AUDIT = [sys.executable, "-m", "async_guard", "check", "--no-cache", "--fail-on", "never"]
PROGRESS = re.compile(r"async-guard: (\d+)/(\d+) files")
DEADLINE_S = 120  # far above the few seconds a run takes; only guards against a hang

# The runs must last well past the two seconds after which progress appears: the
# tree is parsed whole (skipping off) by one job, and doubled until a run takes
# LONG_RUN_S. (Not a speed assertion: it only makes sure the case is exercised.)
SLOW = ["--no-skip", "--jobs", "1"]
SIZES = (1100, 2200, 4400, 8800, 17600)
LONG_RUN_S = 4.0

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class LongRun:
    root: Path
    files: int
    piped: subprocess.CompletedProcess[str]  # the run that showed it is long enough


@pytest.fixture(scope="module")
def long_run(tmp_path_factory: pytest.TempPathFactory) -> LongRun:
    for files in SIZES:
        root = corpus.generated_tree(tmp_path_factory.mktemp(f"progress{files}"), files)
        started = time.monotonic()
        piped = subprocess.run(
            [*AUDIT, *SLOW, "."], cwd=root, capture_output=True, text=True, timeout=DEADLINE_S
        )
        if time.monotonic() - started > LONG_RUN_S:
            return LongRun(root, files, piped)
    pytest.skip(f"even {SIZES[-1]} files audit in under {LONG_RUN_S} s: raise SIZES")


def run_with_tty_stderr(argv: list[str], cwd: Path, stdout: Path) -> tuple[int, str]:
    """Run ``argv`` with stderr on a pseudo-terminal; (exit code, what the terminal got)."""
    with stdout.open("wb") as out:
        try:
            return run_on_terminal(argv, cwd, deadline_s=DEADLINE_S, stdout=out)
        except TimeoutError as error:
            pytest.fail(str(error))


def test_progress_on_a_terminal(long_run: LongRun, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    code, terminal = run_with_tty_stderr([*AUDIT, *SLOW, "."], long_run.root, out)
    assert code == 0, terminal
    counts = [(int(d), int(t)) for d, t in PROGRESS.findall(terminal)]
    assert counts, f"no progress on the terminal's stderr:\n{terminal!r}"
    assert all(0 < done <= total == long_run.files for done, total in counts), counts
    assert [d for d, _ in counts] == sorted(d for d, _ in counts), "progress goes backwards"
    # the display is rewritten in place and wiped at the end, not left in the scrollback
    assert "\n" not in terminal[terminal.index("async-guard: ") :]
    assert terminal.rstrip("\r\n").endswith("\x1b[K"), repr(terminal[-80:])
    report = out.read_text(encoding="utf-8")
    assert "order_total" in report and not PROGRESS.search(report)


def test_no_progress_when_stderr_is_a_pipe(long_run: LongRun) -> None:
    piped = long_run.piped
    assert piped.returncode == 0, piped.stderr
    assert not PROGRESS.search(piped.stderr) and "\r" not in piped.stderr, piped.stderr
    assert "order_total" in piped.stdout and not PROGRESS.search(piped.stdout)


def test_json_output_never_carries_progress(long_run: LongRun, tmp_path: Path) -> None:
    """Even with stderr on a terminal, what ``--format json`` writes is only the JSON."""
    out = tmp_path / "out.json"
    argv = [*AUDIT, *SLOW, "--format", "json", "."]
    code, terminal = run_with_tty_stderr(argv, long_run.root, out)
    assert code == 0, terminal
    text = out.read_text(encoding="utf-8")
    assert not PROGRESS.search(text) and "\r" not in text and "\x1b" not in text
    data = json.loads(text)
    assert data["files_scanned"] == long_run.files
    assert any("order_total" in finding["message"] for finding in data["findings"])
