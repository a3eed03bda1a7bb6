"""Project scope: a file named alone is audited with the whole project's knowledge.

The index is built from every Python file of the project the paths belong to;
findings are reported only for the files named. This is what makes a pre-commit
run over the staged files alone as sharp as a run over the whole tree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from async_guard.audit.config import Config
from async_guard.audit.runner import audit_paths
from tests.audit.conftest import write_tree
from tests.audit.test_skip_safety import PROJECTS

MODELS = """\
from django.db import models


class Order(models.Model):
    total = models.IntegerField()
"""
VIEWS = """\
from shop.models import Order


async def order_detail(request, pk):
    return Order.objects.get(pk=pk)
"""
CLIENT = """\
async def fetch(pk):
    return pk
"""
TASKS = """\
from celery import shared_task

from shop.client import fetch


@shared_task
def refresh(pk):
    fetch(pk)
"""


def codes(paths: list[Path], **config: object) -> list[tuple[str, int, str]]:
    result = audit_paths([str(p) for p in paths], Config(cache=False, **config))  # type: ignore[arg-type]
    return [(Path(f.path).name, f.line, f.code) for f in result.findings]


def shop(root: Path, *, marker: str = "pyproject.toml", package: bool = True) -> Path:
    files = {
        "shop/models.py": MODELS,
        "shop/views.py": VIEWS,
        "shop/client.py": CLIENT,
        "shop/tasks.py": TASKS,
        "shop/plain.py": "def add(a, b):\n    return a + b\n",
    }
    if package:
        files["shop/__init__.py"] = ""
    if marker:
        files[marker] = ""
    return write_tree(root, files)


@pytest.mark.parametrize("marker", ["pyproject.toml", "setup.cfg", "setup.py", "manage.py"])
def test_a_model_defined_in_a_file_not_named_is_known(tmp_path: Path, marker: str) -> None:
    root = shop(tmp_path / "p", marker=marker)
    assert codes([root / "shop" / "views.py"]) == [("views.py", 5, "AG201")]


def test_a_git_checkout_is_a_project_too(tmp_path: Path) -> None:
    root = shop(tmp_path / "p", marker="")
    (root / ".git").mkdir()
    assert codes([root / "shop" / "views.py"]) == [("views.py", 5, "AG201")]


def test_a_coroutine_of_another_module_dropped_in_a_task(tmp_path: Path) -> None:
    root = shop(tmp_path / "p")
    assert codes([root / "shop" / "tasks.py"]) == [("tasks.py", 8, "AG301")]


def test_only_the_named_files_are_reported(tmp_path: Path) -> None:
    root = shop(tmp_path / "p")
    write_tree(root, {"shop/broken.py": "def (:\n"})  # another file's syntax error
    result = audit_paths([str(root / "shop" / "plain.py")], Config(cache=False))
    assert result.findings == [] and result.parse_errors == []
    assert result.files_scanned == 1


def test_without_a_marker_the_named_folder_is_the_project(tmp_path: Path) -> None:
    root = shop(tmp_path / "p", marker="")
    (root / "shop" / "views.py").unlink()
    web = write_tree(root, {"web/views.py": VIEWS})
    assert codes([web / "web" / "views.py"]) == []  # shop/ is not part of its project
    assert codes([root / "shop", web / "web" / "views.py"]) == [
        ("tasks.py", 8, "AG301"),
        ("views.py", 5, "AG201"),
    ]


def test_project_root_given_on_the_command_line_and_in_the_configuration(
    tmp_path: Path,
) -> None:
    root = shop(tmp_path / "p", marker="")
    views = root / "shop" / "views.py"
    assert codes([views], project_root=str(root)) == [("views.py", 5, "AG201")]
    cli = [sys.executable, "-m", "async_guard", "check", "--no-cache", "--isolated"]
    done = subprocess.run(
        [*cli, "--project-root", str(root), str(views)], capture_output=True, text=True
    )
    assert done.returncode == 1 and "AG201" in done.stdout, done.stdout + done.stderr
    bad = subprocess.run(
        [*cli, "--project-root", str(root / "nowhere"), str(views)], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "--project-root" in bad.stderr
    write_tree(root, {"pyproject.toml": '[tool.async_guard]\nproject-root = "."\n'})
    done = subprocess.run(
        [sys.executable, "-m", "async_guard", "check", "--no-cache", str(views)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "AG201" in done.stdout, done.stdout + done.stderr


def test_a_namespace_package_and_a_src_layout(tmp_path: Path) -> None:
    """Folders without ``__init__.py`` (PEP 420) name their modules from the root; a
    ``src`` folder is a source root of its own."""
    namespace = shop(tmp_path / "ns", package=False)
    assert codes([namespace / "shop" / "views.py"]) == [("views.py", 5, "AG201")]
    src = tmp_path / "src-layout"
    shop(src / "src", marker="")
    write_tree(src, {"pyproject.toml": ""})
    assert codes([src / "src" / "shop" / "views.py"]) == [("views.py", 5, "AG201")]
    # a configured source root: imports start at lib/
    lib = tmp_path / "lib-layout"
    shop(lib / "lib", marker="")
    write_tree(lib, {"pyproject.toml": '[tool.async_guard]\nsrc = ["lib"]\n'})
    done = subprocess.run(
        [sys.executable, "-m", "async_guard", "check", "--no-cache", "lib/shop/views.py"],
        cwd=lib,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "AG201" in done.stdout, done.stdout + done.stderr


def test_a_script_imports_its_neighbours_by_their_bare_names(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "pyproject.toml": "",
            "scripts/helpers.py": "async def fetch():\n    return 1\n",
            "scripts/run.py": "from helpers import fetch\n\n"
            "if __name__ == '__main__':\n    fetch()\n",
        },
    )
    assert codes([root / "scripts" / "run.py"]) == [("run.py", 4, "AG301")]


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_each_file_alone_finds_what_the_whole_project_run_finds(name: str, tmp_path: Path) -> None:
    """The cross-file projects of the skip-safety tests, each file audited on its own."""
    project = PROJECTS[name]
    root = write_tree(tmp_path / name, {"pyproject.toml": "", **project.files})
    whole = audit_paths([str(root)], Config(cache=False, **project.config))
    assert whole.findings, "the comparison would be vacuous"
    for path in sorted(root.rglob("*.py")):
        alone = audit_paths([str(path)], Config(cache=False, **project.config))
        expected = [f for f in whole.findings if Path(f.path) == path]
        assert [f.as_json() for f in alone.findings] == [f.as_json() for f in expected], path


def test_a_staged_file_is_the_only_file_read_once_the_project_is_summed_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot: what a run needs of every other file is kept by the file's stat."""
    from async_guard.audit.speed.pool import worker

    root = shop(tmp_path / "p")
    config = Config(cache_dir=str(tmp_path / "cache"), jobs=1)
    views = root / "shop" / "views.py"
    assert audit_paths([str(root)], config).findings  # the whole project, once
    reads: list[str] = []
    real_read = worker.read_file

    def counting_read(path: str) -> bytes:
        reads.append(Path(path).name)
        return real_read(path)

    monkeypatch.setattr(worker, "read_file", counting_read)
    views.write_text(VIEWS + "\n\nasync def other(request):\n    return Order.objects.first()\n")
    found = audit_paths([str(views)], config)
    assert [(f.line, f.code) for f in found.findings] == [(5, "AG201"), (9, "AG201")]
    assert reads == ["views.py"]
    # a file that changed is read again, not recalled: Order stops being a model
    reads.clear()
    (root / "shop" / "models.py").write_text("class Order:\n    pass\n")
    assert audit_paths([str(views)], config).findings == []
    # models.py changed; views.py is walked again (its answers changed); nothing else
    assert set(reads) == {"models.py", "views.py"}


def test_a_broken_snapshot_is_read_as_none(tmp_path: Path) -> None:
    root = shop(tmp_path / "p")
    config = Config(cache_dir=str(tmp_path / "cache"), jobs=1)
    first = audit_paths([str(root)], config)
    for snapshot in (tmp_path / "cache").rglob("snapshot.pickle"):
        snapshot.write_bytes(b"not a pickle")
    (root / "shop" / "plain.py").write_text("def add(a, b):\n    return b + a\n")
    assert audit_paths([str(root)], config).findings == first.findings
