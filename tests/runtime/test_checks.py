"""System checks and settings validation."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from async_guard import checks, conf


def ids(messages) -> list[str]:
    return [message.id for message in messages]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("warn", "must be a dict"),
        ({"MODE": "loud"}, "'loud'"),
        ({"MODES": "warn"}, "unknown key 'MODES'"),
        ({"EVENT_MODES": []}, "EVENT_MODES'] must be a dict"),
        ({"EVENT_MODES": {"AG101": "off"}}, "unknown event code 'AG101'"),
        ({"EVENT_MODES": {"AGR101": "loud"}}, "['EVENT_MODES']['AGR101'] is 'loud'"),
        ({"ALLOW": "x.py:1"}, "ALLOW'] must be a list"),
        ({"ALLOW": [""]}, "entry ''"),
        ({"AUDIT": []}, "AUDIT'] must be a dict"),
    ],
)
def test_invalid_settings_are_errors_naming_the_value(settings, value, fragment):
    settings.ASYNC_GUARD = value
    messages = checks.check_settings()
    assert ids(messages) == ["async_guard.E001"]
    assert fragment in messages[0].msg
    assert messages[0].hint


def test_valid_settings_pass(settings):
    settings.ASYNC_GUARD = {
        "MODE": "raise",
        "EVENT_MODES": {"AGR102": "off"},
        "ALLOW": ["a.py:3", "pkg.mod.func"],
        "AUDIT_CHECK": "warn",
        "AUDIT": {"IGNORE": ["AG2"]},
    }
    assert checks.check_settings() == []
    del settings.ASYNC_GUARD
    assert checks.check_settings() == []


# Django 6.0+ runs the model checks against every database (JSONField asks the database).
@pytest.mark.django_db
def test_manage_py_check_fails_on_a_bad_mode(settings):
    settings.ASYNC_GUARD = {"MODE": "loud"}
    with pytest.raises(SystemCheckError, match=r"async_guard\.E001"):
        call_command("check")


def test_bad_values_read_as_defaults_at_run_time(settings):
    settings.ASYNC_GUARD = {"MODE": "loud", "EVENT_MODES": "x", "ALLOW": "y"}
    assert conf.mode() == "warn"
    assert conf.action("AGR101") == "warn"
    assert conf.allow_list() == ()
    settings.ASYNC_GUARD = ["not", "a", "dict"]
    assert conf.mode() == "warn"


def test_allow_async_unsafe(monkeypatch):
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    assert checks.check_allow_async_unsafe() == []
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert ids(checks.check_allow_async_unsafe()) == ["async_guard.W001"]


def test_middleware_missing_or_late(settings):
    assert checks.check_middleware() == []
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
    assert ids(checks.check_middleware()) == ["async_guard.W002"]
    settings.MIDDLEWARE = [
        "tests.runtime.middleware.ExceptionToResponse",
        "no.such.Middleware",
        checks.MIDDLEWARE,
    ]
    messages = checks.check_middleware()
    assert ids(messages) == ["async_guard.W003"]
    assert "ExceptionToResponse" in messages[0].msg
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware", checks.MIDDLEWARE]
    assert checks.check_middleware() == []


def test_async_def_celery_task(monkeypatch):
    from celery import Celery

    app = Celery("checks-app", set_as_current=False)

    @app.task(name="checks.async_task", shared=False)
    async def async_task() -> None:
        pass

    @app.task(name="checks.sync_task", shared=False)
    def sync_task() -> None:
        pass

    import celery

    monkeypatch.setattr(celery, "current_app", app)
    messages = checks.check_celery_tasks()
    assert ids(messages) == ["async_guard.W005"]
    assert "'checks.async_task'" in messages[0].msg


def test_celery_not_imported_means_no_celery_check(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "celery")
    assert checks.check_celery_tasks() == []


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_persistent_connections_under_asgi(settings):
    databases = {alias: dict(db) for alias, db in settings.DATABASES.items()}
    databases["default"]["CONN_MAX_AGE"] = 60
    with override_settings(DATABASES=databases, ASGI_APPLICATION="settings.asgi.application"):
        assert ids(checks.check_persistent_connections_under_asgi()) == ["async_guard.W004"]
    databases["default"]["CONN_MAX_AGE"] = None
    with override_settings(DATABASES=databases, ASGI_APPLICATION=None):
        assert checks.check_persistent_connections_under_asgi() == []
    with override_settings(DATABASES=databases, ASGI_APPLICATION="settings.asgi.application"):
        assert ids(checks.check_persistent_connections_under_asgi()) == ["async_guard.W004"]
    databases["default"]["CONN_MAX_AGE"] = 0
    with override_settings(DATABASES=databases, ASGI_APPLICATION="settings.asgi.application"):
        assert checks.check_persistent_connections_under_asgi() == []


def test_checks_are_registered():
    from django.core.checks import registry

    registered = set(registry.registry.get_checks())
    assert set(checks.ALL) <= registered


def test_celery_app_that_cannot_finalize_is_skipped(monkeypatch):
    import celery
    from celery import Celery

    app = Celery("not-finalized", set_as_current=False, autofinalize=False)
    monkeypatch.setattr(celery, "current_app", app)
    assert checks.check_celery_tasks() == []
