"""The project's own plumbing: install commands, database leg, broker, entry points."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

import async_guard

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(python3 -m venv .*?)\n```", text)


def test_ci_runs_exactly_the_readme_commands() -> None:
    install_and_main, install_and_test = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install = re.search(r"^INSTALL='(.*)'$", ci, re.M)
    test = re.search(r"^TEST='(.*)'$", ci, re.M)
    assert install and test
    assert install_and_test == f"{install.group(1)} && {test.group(1)}"
    assert install_and_main.startswith(install.group(1) + " && ")
    assert install_and_main.endswith("python manage.py audit_async")


def test_the_ci_matrix_and_the_readme_cover_the_declared_versions() -> None:
    """pyproject's classifiers, .ci/run's legs and the README's statement name the same range."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pythons = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text)
    djangos = re.findall(r'"Framework :: Django :: (\d+\.\d+)"', text)

    def key(version: str) -> tuple[int, ...]:
        return tuple(map(int, version.split(".")))

    low_py, high_py = min(pythons, key=key), max(pythons, key=key)
    low_dj, high_dj = min(djangos, key=key), max(djangos, key=key)
    assert f"find_python {low_py}" in ci and f"find_python {high_py}" in ci
    major, minor = key(high_dj)
    assert f'"Django>={high_dj},<{major}.{minor + 1}"' in ci
    assert f'"Django>={low_dj},<{key(low_dj)[0] + 1}.0"' in ci
    assert f'"Django>={low_dj},<{major}.{minor + 1}"' in text
    assert f'requires-python = ">={low_py},<3.{key(high_py)[1] + 1}"' in text
    assert f"Python {low_py} to {high_py} and Django {low_dj} LTS to {high_dj}" in readme
    other = re.search(r"```bash\n(python3\.\d+ -m venv .*?)\n```", readme)
    assert other and f'-e ".[dev]" "Django>={high_dj},<{major}.{minor + 1}"' in other.group(1)


@pytest.mark.django_db
def test_database_leg_is_the_one_configured() -> None:
    expected = (
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    if expected == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            assert cursor.fetchone()[0]


@pytest.mark.redis
def test_broker_round_trip_through_real_redis() -> None:
    from kombu import Connection

    assert settings.CELERY_BROKER_URL.startswith("redis://127.0.0.1")
    payload = {"probe": uuid.uuid4().hex}
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as conn:
        queue = conn.SimpleQueue(f"async-guard-probe-{payload['probe']}")
        try:
            queue.put(payload)
            message = queue.get(timeout=5)
            message.ack()
            assert message.payload == payload
        finally:
            queue.queue.delete()
            queue.close()


def test_fresh_project_migrates_and_checks(tmp_path: Path) -> None:
    env = {**os.environ, "SQLITE_PATH": str(tmp_path / "fresh.sqlite3")}
    env.pop("DATABASE_URL", None)
    for args in (["migrate", "--noinput"], ["check"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "fresh.sqlite3").stat().st_size > 0


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "async_guard", "--version"], ["async-guard", "--version"]],
    ids=["python-m", "console-script"],
)
def test_entry_points_report_the_version(command: list[str]) -> None:
    if command[0] == "async-guard":
        command[0] = str(Path(sys.executable).with_name("async-guard"))
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert async_guard.__version__ in result.stdout
