"""The real ``pre-commit`` runs this repository's hook on a throwaway git repository.

``pre-commit try-repo`` installs the hook repository at a commit (HEAD: the hook
definition and the code as committed) into a fresh virtualenv, with pip's
configured index, exactly as a user's ``repo:`` entry would; no network beyond
that index is needed. The environment lives in the test's PRE_COMMIT_HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.adoption.corpus import BAD_TASK

REPO = Path(__file__).resolve().parents[2]

CLEAN = BAD_TASK.replace("import asyncio", "from asgiref.sync import async_to_sync").replace(
    "asyncio.run(fetch(pr))", "async_to_sync(fetch)(pr)"
)


def _run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.slow
def test_pre_commit_runs_the_hook(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and this repository's history")
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    project = tmp_path / "project"
    project.mkdir()
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    _run("git", "init", "-q", cwd=project, env=env)
    (project / "tasks.py").write_text(BAD_TASK)
    (project / "clean_tasks.py").write_text(CLEAN)
    _run("git", "add", "tasks.py", "clean_tasks.py", cwd=project, env=env)
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "async-guard"]

    bad = _run(*pre_commit, "--ref", commit, "--files", "tasks.py", cwd=project, env=env)
    output = bad.stdout + bad.stderr
    assert bad.returncode == 1, output
    assert "exit code: 1" in output and "AG101" in output and "tasks.py" in output

    clean = _run(*pre_commit, "--ref", commit, "--files", "clean_tasks.py", cwd=project, env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout
    assert (project / "tasks.py").read_text() == BAD_TASK  # the hook reports, it never rewrites
