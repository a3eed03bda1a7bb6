"""``ASYNC_GUARD["AUDIT_CHECK"]`` through the real ``manage.py``: findings never stop
``migrate``; they fail ``manage.py check`` only where the team asked for it.

Each run is a fresh process on a throwaway project: an installed app ``ag_levelapp``
under a ``BASE_DIR`` of its own, with one error finding (AG201, the ORM in
``async def``) and one warning (AG102, a loop never closed), its own SQLite file,
and settings that import the reference project's and change ``ASYNC_GUARD``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT

VIEWS = """\
import asyncio

from django.db import models


class Position(models.Model):
    class Meta:
        app_label = "ag_levelapp"


async def view(request):
    return Position.objects.get(pk=1)


def leaky():
    loop = asyncio.new_event_loop()
    return loop.run_until_complete(asyncio.sleep(0))
"""

SETTINGS = """\
from pathlib import Path

from settings import *  # noqa: F403

BASE_DIR = Path(__file__).resolve().parent
INSTALLED_APPS = [*INSTALLED_APPS, "ag_levelapp"]  # noqa: F405
ASYNC_GUARD = {value}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    app = tmp_path / "ag_levelapp"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "views.py").write_text(VIEWS)
    return tmp_path


def manage(project: Path, setting: object, *args: str) -> subprocess.CompletedProcess[str]:
    module = f"ag_level_{abs(hash(repr(setting)))}"
    (project / f"{module}.py").write_text(SETTINGS.format(value=repr(setting)))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": module, "PYTHONPATH": f"{project}"}
    env.pop("DATABASE_URL", None)
    env["SQLITE_PATH"] = str(project / "db.sqlite3")
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def audit(mode: str) -> dict[str, object]:
    return {"AUDIT_CHECK": mode, "AUDIT": {"CACHE": False, "SELECT": ["AG201", "AG102"]}}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["warn", "error", "deploy"])
def test_findings_never_stop_migrate(project: Path, mode: str) -> None:
    result = manage(project, audit(mode), "migrate", "--noinput")
    assert result.returncode == 0, result.stderr
    assert "async_guard.W201" in result.stderr and "async_guard.W102" in result.stderr
    assert "async_guard.E201" not in result.stderr
    assert "Applying auth" in result.stdout or "No migrations to apply" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "deploy", "fails"),
    [
        ("off", False, False),
        ("warn", False, False),
        ("warn", True, False),
        ("error", False, True),
        ("error", True, True),
        ("deploy", False, False),
        ("deploy", True, True),
    ],
)
def test_manage_py_check_fails_only_where_the_team_opted_in(
    project: Path, mode: str, deploy: bool, fails: bool
) -> None:
    result = manage(project, audit(mode), "check", *(["--deploy"] if deploy else []))
    output = result.stdout + result.stderr
    if mode == "off":
        assert result.returncode == 0 and "AG201" not in output
        return
    assert result.returncode == (1 if fails else 0), output
    if fails:
        assert "ag_levelapp/views.py:12:12: (async_guard.E201) AG201" in output
    else:
        assert "ag_levelapp/views.py:12:12: (async_guard.W201) AG201" in output
    # a warning-severity finding stays a Warning in every mode
    assert "(async_guard.W102) AG102" in output


@pytest.mark.slow
def test_the_old_keys_are_an_error_naming_the_new_ones(project: Path) -> None:
    result = manage(project, {"AUDIT": {"CHECKS": True}, "CHECKS": {"AGR101": "raise"}}, "check")
    assert result.returncode == 1
    assert "ASYNC_GUARD['AUDIT']['CHECKS'] is no longer read" in result.stderr
    assert "HINT: Remove AUDIT['CHECKS'] and set ASYNC_GUARD['AUDIT_CHECK'] = 'warn'" in (
        result.stderr
    )
    assert "per-event modes are now ASYNC_GUARD['EVENT_MODES']" in result.stderr
