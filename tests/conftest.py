from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import services


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    test_name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and test_name:
        # The SQLite test database is a file so that worker and server processes share it.
        Path(test_name).parent.mkdir(parents=True, exist_ok=True)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name in ("redis", "rabbitmq"):
        if item.get_closest_marker(name) is not None and not services.reachable(name):
            message = f"{services.describe(name)} is not reachable"
            if services.in_ci():
                pytest.fail(f"{message}; CI=true requires it (.ci/run starts it)")
            pytest.skip(message)
    if item.get_closest_marker("postgres") is not None:
        from django.conf import settings

        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            pytest.skip("needs PostgreSQL: runs in the DATABASE_URL=postgres://... leg")


@pytest.fixture
def process_logs(tmp_path: Path) -> Path:
    """Where the real worker and server processes of one test write their logs."""
    path = tmp_path / "process-logs"
    path.mkdir()
    return path
