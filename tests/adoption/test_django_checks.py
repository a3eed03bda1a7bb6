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

from async_guard.audit.frontends.system_check import audit_check
from async_guard.checks import check_settings
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


ORM_VIEW = (
    "from django.db import models\n\n\nclass Position(models.Model):\n    pass\n\n\n"
    "async def view(request):\n    return Position.objects.get(pk=1)\n"
)


def audit_on(mode: str = "warn", **extra: object) -> object:
    return override_settings(ASYNC_GUARD={"AUDIT_CHECK": mode, "AUDIT": {"CACHE": False, **extra}})


@pytest.mark.usefixtures("bad_app")
def test_off_by_default() -> None:
    with override_settings(ASYNC_GUARD={}):
        assert audit_check(None) == []
    with override_settings(ASYNC_GUARD={"AUDIT_CHECK": "off"}):
        assert audit_check(None) == []


@pytest.mark.usefixtures("bad_app")
def test_findings_become_check_messages() -> None:
    with audit_on():
        messages = audit_check(None)
    (message,) = messages
    assert (message.id, message.level) == ("async_guard.W101", checks.WARNING)
    assert message.obj == "ag_checkapp/tasks.py:12:12"
    assert message.msg.startswith("AG101 ")
    assert message.hint


@pytest.mark.usefixtures("bad_app")
@pytest.mark.parametrize("mode", ["warn", "error", "deploy"])
def test_an_error_finding_is_a_warning_unless_check_is_run_by_name(
    tmp_path: Path, mode: str
) -> None:
    """In process, as the test runner's ``call_command("check")``: never an Error."""
    (tmp_path / "ag_checkapp" / "views.py").write_text(ORM_VIEW)
    with audit_on(mode, SELECT=["AG201"]):
        (message,) = audit_check(None)
        call_command("check")  # no SystemCheckError: Warnings only
    assert (message.id, message.level) == ("async_guard.W201", checks.WARNING)
    assert message.obj == "ag_checkapp/views.py:9:12"


# Django 6.0+ runs the model checks against every database (JSONField asks the database).
@pytest.mark.django_db
@pytest.mark.usefixtures("bad_app")
def test_a_rule_is_silenced_by_either_id(tmp_path: Path) -> None:
    (tmp_path / "ag_checkapp" / "views.py").write_text(ORM_VIEW)
    with audit_on():
        assert {m.id for m in audit_check(None)} == {"async_guard.W101", "async_guard.W201"}
        for silenced in ("async_guard.W201", "async_guard.E201"):
            with override_settings(SILENCED_SYSTEM_CHECKS=[silenced]):
                assert [m.id for m in audit_check(None)] == ["async_guard.W101"]


@pytest.mark.usefixtures("bad_app")
def test_manage_py_check_runs_it_registered_by_the_app_config() -> None:
    assert audit_check in checks.registry.registry.registered_checks
    with audit_on(FAIL_ON="never"), pytest.raises(SystemCheckError) as failed:
        call_command("check", "--fail-level", "WARNING")
    assert "async_guard." in str(failed.value) and "AG101" in str(failed.value)
    with override_settings(ASYNC_GUARD={}):
        call_command("check", "--fail-level", "WARNING")


@pytest.mark.usefixtures("bad_app")
@pytest.mark.parametrize(
    ("audit", "fragment", "hint"),
    [
        ({"BOGUS": 1}, "unknown key 'BOGUS'", "SELECT"),
        ({"ignore": ["AG2"]}, "key 'ignore' is not upper case", "'IGNORE'"),
        ({"FAIL_ON": "sometimes"}, "FAIL_ON: expected one of", "FAIL_ON takes"),
        ({"CHECKS": True}, "['AUDIT']['CHECKS'] is no longer read", "AUDIT_CHECK"),
    ],
)
def test_bad_audit_settings_are_a_check_error_with_a_hint_naming_the_key(
    audit: dict[str, object], fragment: str, hint: str
) -> None:
    with override_settings(ASYNC_GUARD={"AUDIT_CHECK": "warn", "AUDIT": audit}):
        assert audit_check(None) == []  # not audited under a configuration that is wrong
        (message,) = check_settings()
    assert message.id == "async_guard.E001"
    assert fragment in message.msg and hint in message.hint, (message.msg, message.hint)


def test_old_and_bad_top_level_keys_name_their_replacement() -> None:
    with override_settings(ASYNC_GUARD={"CHECKS": {"AGR101": "raise"}, "AUDIT_CHECK": "on"}):
        messages = check_settings()
    assert [m.id for m in messages] == ["async_guard.E001", "async_guard.E001"]
    assert "EVENT_MODES" in messages[0].msg and "EVENT_MODES" in messages[0].hint
    assert "AUDIT_CHECK" in messages[1].msg and "'deploy'" in messages[1].hint


def test_only_the_projects_own_apps_are_audited(bad_app: Path) -> None:
    with audit_on():
        assert len(audit_check(None)) == 1
        # ``manage.py check auth``: the listed apps only, and Django's own are never audited.
        assert audit_check([apps.get_app_config("auth")]) == []
        assert len(audit_check([apps.get_app_config("ag_checkapp")])) == 1
    with audit_on(), override_settings(BASE_DIR=Path(sys.prefix)):
        assert audit_check(None) == []


@pytest.mark.usefixtures("bad_app")
@pytest.mark.parametrize(
    ("mode", "argv", "code"),
    [
        ("error", ["check"], 1),
        ("deploy", ["check"], 0),
        ("deploy", ["check", "--deploy"], 1),
        ("warn", ["check", "--deploy"], 0),
    ],
)
def test_check_run_by_name_reports_errors_where_opted_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str, argv: list[str], code: int
) -> None:
    """In process, as ``manage.py check`` runs it: ``run_from_argv`` then ``handle``."""
    from django.core.management import ManagementUtility

    (tmp_path / "ag_checkapp" / "views.py").write_text(ORM_VIEW)
    with audit_on(mode, SELECT=["AG201"]), pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", *argv]).execute()
        raise SystemExit(0)  # no error: the command returned
    assert exited.value.code == code
    err = capsys.readouterr().err
    assert ("(async_guard.E201)" if code else "(async_guard.W201)") in err


@pytest.mark.usefixtures("bad_app")
def test_a_select_that_matches_no_rule_is_a_check_error() -> None:
    with audit_on(SELECT=["AG9"]):
        (message,) = audit_check(None)
    assert message.id == "async_guard.E001" and "'AG9' matches no rule" in message.msg
