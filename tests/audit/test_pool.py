"""The worker pool gives the findings a run in one process gives.

A run in a process with other threads stays in that process (forking copies the
locks those threads hold), and a full test run has such threads by the time it
gets here; so these tests say the process is alone while the pool starts, as the
console script's process is. The children only audit files: they take no lock
another thread of this process could hold.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from async_guard.audit.config import Config
from async_guard.audit.runner import audit_paths
from benchmarks import corpus
from tests.audit.conftest import write_tree
from tests.audit.test_skip_safety import PROJECTS

# Python 3.12+ warns when a process with threads forks; these tests fork on purpose
# (the workers take no lock another thread of the test process could hold).
pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threading, "active_count", lambda: 1)


def findings(paths: list[Path], jobs: int, **config: object) -> list[dict[str, object]]:
    result = audit_paths([str(p) for p in paths], Config(cache=False, jobs=jobs, **config))  # type: ignore[arg-type]
    return [f.as_json() for f in sorted(result.findings)]


@pytest.mark.usefixtures("alone")
@pytest.mark.parametrize("skip", [True, False], ids=["skip", "no-skip"])
def test_workers_find_what_one_process_finds(tmp_path: Path, skip: bool) -> None:
    tree = tmp_path / "gen"
    corpus.generated_tree(tree, 120)  # above 20 files per job: the pool starts
    folders = [tree, ROOT / "tests" / "eval_files", ROOT / "examples" / "antipatterns"]
    alone_run = findings(folders, 1, skip=skip)
    assert alone_run, "the trees hold bugs, so the comparison is not vacuous"
    assert findings(folders, 2, skip=skip) == alone_run


@pytest.mark.usefixtures("alone")
@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_cross_file_projects_through_the_pool(tmp_path: Path, name: str) -> None:
    project = PROJECTS[name]
    files = dict(project.files)
    for n in range(45):  # enough files that two workers share them
        files[f"filler/m{n}.py"] = f"def f{n}():\n    return {n}\n"
    root = write_tree(tmp_path, files)
    expected = findings([root], 1, **project.config)
    assert findings([root], 2, **project.config) == expected
