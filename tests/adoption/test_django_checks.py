"""The static audit as a Django system check, on a throwaway app installed for the test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from async_guard.audit.django_checks import audit_check
from tests.adoption.corpus import BAD_TASK


@pytest.fixture
def bad_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed app ``ag_checkapp`` under a BASE_DIR of its own, with an AG101 in it."""
    package = tmp_path / "ag_checkapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text(BAD_TASK)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    # Each test has its own copy of the app: forget the one imported by the last.
    monkeypatch.delitem(sys.modules, "ag_checkapp", raising=False)
    installed = [*settings.INSTALLED_APPS, "ag_checkapp"]
    with override_settings(BASE_DIR=tmp_path, INSTALLED_APPS=installed):
        yield package
    sys.modules.pop("ag_checkapp", None)


def audit_on(**extra: object) -> object:
    return override_settings(ASYNC_GUARD={"AUDIT": {"CHECKS": True, "CACHE": False, **extra}})


@pytest.mark.usefixtures("bad_app")
def test_off_by_default() -> None:
    with override_settings(ASYNC_GUARD={}):
        assert audit_check(None) == []
    with override_settings(ASYNC_GUARD={"AUDIT": {"CHECKS": False}}):
        assert audit_check(None) == []


@pytest.mark.usefixtures("bad_app")
def test_findings_become_check_messages() -> None:
    with audit_on():
        messages = audit_check(None)
    (message,) = messages
    expected = {"error": ("E101", checks.ERROR), "warning": ("W101", checks.WARNING)}
    assert (message.id.removeprefix("async_guard."), message.level) in expected.values()
    assert message.obj == "ag_checkapp/tasks.py:12:12"
    assert message.msg.startswith("AG101 ")
    assert message.hint


@pytest.mark.usefixtures("bad_app")
def test_an_error_finding_is_an_error_check(tmp_path: Path) -> None:
    (tmp_path / "ag_checkapp" / "views.py").write_text(
        "from django.db import models\n\n\nclass Position(models.Model):\n    pass\n\n\n"
        "async def view(request):\n    return Position.objects.get(pk=1)\n"
    )
    with audit_on(select=["AG201"]):
        (message,) = audit_check(None)
    assert (message.id, message.level) == ("async_guard.E201", checks.ERROR)
    assert message.obj == "ag_checkapp/views.py:9:12"


@pytest.mark.usefixtures("bad_app")
def test_manage_py_check_runs_it_registered_by_the_app_config() -> None:
    assert audit_check in checks.registry.registry.registered_checks
    with audit_on(fail_on="never"), pytest.raises(SystemCheckError) as failed:
        call_command("check", "--fail-level", "WARNING")
    assert "async_guard." in str(failed.value) and "AG101" in str(failed.value)
    with override_settings(ASYNC_GUARD={}):
        call_command("check", "--fail-level", "WARNING")


@pytest.mark.usefixtures("bad_app")
def test_bad_audit_settings_are_a_check_error() -> None:
    with audit_on(bogus=1):
        (message,) = audit_check(None)
    assert message.id == "async_guard.E001"
    assert "bogus" in message.msg and "AUDIT" in message.msg


def test_only_the_projects_own_apps_are_audited(bad_app: Path) -> None:
    with audit_on():
        assert len(audit_check(None)) == 1
        # ``manage.py check auth``: the listed apps only, and Django's own are never audited.
        assert audit_check([apps.get_app_config("auth")]) == []
        assert len(audit_check([apps.get_app_config("ag_checkapp")])) == 1
    with audit_on(), override_settings(BASE_DIR=Path(sys.prefix)):
        assert audit_check(None) == []
