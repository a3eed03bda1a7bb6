"""Installing it as the README says (a Git URL, a local checkout), and a wheel an index takes.

pip builds the package from this repository's committed HEAD through the README's
``git+`` URL form (the URL pointed at this repository's path), exactly as a user's
``pip install`` from the project's Git URL would, with pip's configured index for
the build backend; then ``twine check`` reads the wheel as an index would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.processes import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

README = (ROOT / "README.md").read_text(encoding="utf-8")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_readme_installs_from_the_projects_git_url_or_a_checkout() -> None:
    source = PROJECT["urls"]["Source"]
    urls = re.findall(r'pip install "django-async-guard(?:\[celery\])? @ git\+(\S+)@main"', README)
    assert urls == [source, source]
    assert re.search(r"^pip install \.\./django-async-guard ", README, re.M)
    assert "pip install django-async-guard " not in README  # not on an index yet


@pytest.mark.slow
def test_a_wheel_built_from_the_git_url_is_ready_for_an_index(tmp_path: Path) -> None:
    commit = _run("git", "rev-parse", "HEAD").stdout.strip()
    wheels = tmp_path / "wheels"
    # file://localhost/...: the packaging vendored in older pips wants a host in the URL
    requirement = f"django-async-guard @ git+file://localhost{ROOT}@{commit}"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), requirement)
    (wheel,) = wheels.glob("django_async_guard-*.whl")
    twine = Path(sys.executable).with_name("twine")
    assert "PASSED" in _run(str(twine), "check", "--strict", str(wheel)).stdout

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(f"{info}/METADATA").decode()
        licence = archive.read(f"{info}/licenses/LICENSE").decode()
    assert {name.split("/")[0] for name in names} == {"async_guard", info}
    headers, _, description = metadata.partition("\n\n")
    assert "License-Expression: MIT" in headers and "License-File: LICENSE" in headers
    assert licence.startswith("MIT License")
    assert "Description-Content-Type: text/markdown" in headers
    for label, url in PROJECT["urls"].items():
        assert f"Project-URL: {label}, {url}" in headers
    for classifier in ("Intended Audience :: Developers", "Framework :: Django", "Typing :: Typed"):
        assert f"Classifier: {classifier}" in headers
    assert description.strip() == README.strip()


@pytest.mark.slow
def test_installing_from_a_local_checkout(tmp_path: Path) -> None:
    target = tmp_path / "site"
    _run(sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), ".")
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", "import async_guard; print(async_guard.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(target)
    assert (target / "async_guard" / "audit" / "report" / "sarif-schema-2.1.0.json").is_file()
