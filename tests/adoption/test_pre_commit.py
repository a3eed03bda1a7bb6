"""The real ``pre-commit`` runs the two hook configurations docs/ci.md documents.

Each configuration is read from docs/ci.md, so the documented text is what runs.
The Git-URL one gets this repository's path for its URL (git clones a path as it
clones a URL) and the committed HEAD for its ``rev``: pre-commit clones it and
installs the hook into a fresh virtualenv with pip's configured index, exactly as
for a user; the environment lives in the test's PRE_COMMIT_HOME. The local one
runs the ``async-guard`` of the virtualenv the tests run in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.adoption.corpus import BAD_TASK

REPO = Path(__file__).resolve().parents[2]
URL = "https://github.com/django-async-guard/django-async-guard"

CLEAN = BAD_TASK.replace("import asyncio", "from asgiref.sync import async_to_sync").replace(
    "asyncio.run(fetch(pr))", "async_to_sync(fetch)(pr)"
)


def documented_configs() -> dict[str, str]:
    """The ``.pre-commit-config.yaml`` examples of docs/ci.md, by their ``repo:``."""
    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(repos:\n.*?)```", text, re.S)
    return {re.search(r"- repo: (\S+)", block).group(1): block for block in blocks}


def _run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _project(tmp_path: Path, config: str) -> tuple[Path, dict[str, str]]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and this repository's history")
    project = tmp_path / "project"
    project.mkdir()
    # The virtualenv's bin first: a local hook runs the async-guard installed there.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PATH": path}
    _run("git", "init", "-q", cwd=project, env=env)
    (project / "tasks.py").write_text(BAD_TASK)
    (project / "clean_tasks.py").write_text(CLEAN)
    (project / ".pre-commit-config.yaml").write_text(config)
    _run("git", "add", ".", cwd=project, env=env)
    return project, env


def _hook_fails_on_the_bug_and_passes_clean_code(project: Path, env: dict[str, str]) -> None:
    pre_commit = [sys.executable, "-m", "pre_commit", "run"]
    bad = _run(*pre_commit, "--files", "tasks.py", cwd=project, env=env)
    output = bad.stdout + bad.stderr
    assert bad.returncode == 1, output
    assert "exit code: 1" in output and "AG101" in output and "tasks.py" in output

    clean = _run(*pre_commit, "--files", "clean_tasks.py", cwd=project, env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout
    assert (project / "tasks.py").read_text() == BAD_TASK  # the hook reports, it never rewrites


def _hook_repositories(tmp_path: Path) -> list[str]:
    home = tmp_path / "pre-commit-home"
    return (
        sorted(p.name for p in home.iterdir() if p.name.startswith("repo")) if home.exists() else []
    )


def test_the_docs_have_a_git_url_hook_and_a_local_hook() -> None:
    configs = documented_configs()
    assert sorted(configs) == sorted([URL, "local"])
    for text in (REPO / "docs" / "ci.md", REPO / ".pre-commit-hooks.yaml", REPO / "README.md"):
        assert "<org>" not in text.read_text(encoding="utf-8"), text


@pytest.mark.slow
def test_pre_commit_runs_the_hook_from_the_git_url(tmp_path: Path) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    config = documented_configs()[URL].replace(URL, str(REPO))
    config = re.sub(r"rev: main\b", f"rev: {commit}", config)
    project, env = _project(tmp_path, config)
    _hook_fails_on_the_bug_and_passes_clean_code(project, env)
    assert len(_hook_repositories(tmp_path)) == 1  # cloned and installed once


@pytest.mark.slow
def test_a_staged_file_is_audited_with_the_whole_projects_knowledge(tmp_path: Path) -> None:
    """``git commit`` runs the hook on the staged files only: a view staged alone, whose
    model lives in a file committed earlier, is still reported."""
    project, env = _project(tmp_path, documented_configs()["local"])
    (project / "shop").mkdir()
    (project / "shop" / "__init__.py").write_text("")
    (project / "shop" / "models.py").write_text(
        "from django.db import models\n\n\nclass Order(models.Model):\n    pass\n"
    )
    _run("git", "add", ".", cwd=project, env=env)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    _run(*git, "commit", "-q", "--no-verify", "-m", "models", cwd=project, env=env)
    (project / "shop" / "views.py").write_text(
        "from shop.models import Order\n\n\nasync def detail(request, pk):\n"
        "    return Order.objects.get(pk=pk)\n"
    )
    _run("git", "add", "shop/views.py", cwd=project, env=env)
    staged = _run("git", "diff", "--cached", "--name-only", cwd=project, env=env).stdout
    assert staged.split() == ["shop/views.py"]
    run = _run(sys.executable, "-m", "pre_commit", "run", cwd=project, env=env)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "shop/views.py:5" in output and "AG201" in output
    assert "models.py" not in output.replace("shop.models", "")  # not audited, only known


@pytest.mark.slow
def test_pre_commit_runs_the_local_hook(tmp_path: Path) -> None:
    project, env = _project(tmp_path, documented_configs()["local"])
    _hook_fails_on_the_bug_and_passes_clean_code(project, env)
    assert _hook_repositories(tmp_path) == []  # nothing cloned, nothing installed
