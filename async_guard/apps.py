"""Django app config: every hook async_guard installs is connected here, never at import."""

from __future__ import annotations

import importlib.util

from django.apps import AppConfig
from django.core import checks as django_checks
from django.core.signals import got_request_exception
from django.db.backends.signals import connection_created


class AsyncGuardConfig(AppConfig):
    name = "async_guard"
    verbose_name = "Async guard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from async_guard import checks, middleware
        from async_guard.audit.frontends.system_check import audit_check
        from async_guard.runtime import bridging, coroutines, db, loops

        connection_created.connect(db.on_connection_created, dispatch_uid="async_guard.db")
        got_request_exception.connect(
            middleware.on_request_exception, dispatch_uid="async_guard.request_exception"
        )
        loops.install()
        coroutines.install()
        bridging.install()
        if importlib.util.find_spec("celery") is not None:
            from async_guard import celery as celery_hook

            celery_hook.connect()
        if importlib.util.find_spec("channels") is not None:
            from async_guard import channels as channels_hook

            channels_hook.install()
        # Django's tasks framework (6.0+, or its backport when installed): a no-op without one.
        from async_guard import django_tasks as tasks_hook

        tasks_hook.connect()
        for check in checks.ALL:
            django_checks.register(check, "async_guard")
        # A no-op unless ASYNC_GUARD["AUDIT_CHECK"] turns it on; it imports the
        # audit engine only then.
        django_checks.register(audit_check, "async_guard")
