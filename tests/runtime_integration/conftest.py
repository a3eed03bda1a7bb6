"""Fixtures of the runtime integration tests: lab workers and servers shared by a module.

Starting a real process costs about a second, so a module starts each worker or
server once and runs a whole batch of programs through it. Module-scoped
fixtures cannot use pytest-django's function-scoped database fixtures: they
create their data under ``django_db_blocker.unblock()`` in autocommit, so the
child process sees it, on the test database pytest-django set up for the
session (whose name ``lab_env()`` hands to the child). Every test of these
modules is ``django_db(transaction=True)``, which keeps pytest-django from
reordering them away from their module, and whose flush removes the data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def lab_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab-logs")


@pytest.fixture(scope="module")
def module_db(django_db_setup: Any, django_db_blocker: Any) -> Callable[[], Any]:
    """A context manager factory: database access for a module-scoped fixture."""

    @contextlib.contextmanager
    def access() -> Iterator[None]:
        with django_db_blocker.unblock():
            yield

    return access
