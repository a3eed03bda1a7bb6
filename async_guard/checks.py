"""System checks (``manage.py check``): configurations that hide or cause async/sync breakage.

| id | what |
|---|---|
| async_guard.E001 | invalid ``ASYNC_GUARD`` setting (unknown or renamed key, bad value) |
| async_guard.W001 | ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set: Django's own async-safety check is off |
| async_guard.W002 | ``AsyncGuardMiddleware`` is not in ``MIDDLEWARE`` |
| async_guard.W003 | the middleware comes after middleware that turn exceptions into responses |
| async_guard.W004 | ``CONN_MAX_AGE`` > 0 (or None) under ASGI: each request's connection leaks |
| async_guard.W005 | a registered Celery task is an ``async def``: it never runs |

Only an invalid setting is an error: the rest describe code that runs (badly),
and must not stop ``migrate`` or ``runserver``. The audit's findings, when
``ASYNC_GUARD["AUDIT_CHECK"]`` turns it on, are reported by
``async_guard.audit.frontends.system_check``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.utils.module_loading import import_string

from async_guard import conf

MIDDLEWARE = "async_guard.middleware.AsyncGuardMiddleware"


def check_settings(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    return [
        Error(problem.message, hint=problem.hint, id="async_guard.E001")
        for problem in conf.validate(getattr(settings, "ASYNC_GUARD", None))
    ]


def check_allow_async_unsafe(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"):
        return []
    return [
        Warning(
            "DJANGO_ALLOW_ASYNC_UNSAFE is set: Django no longer raises SynchronousOnlyOperation "
            "when the ORM runs inside an event loop, so sync queries silently block the loop "
            "and share a connection across coroutines.",
            hint="Unset it outside notebooks and shells; wrap ORM calls in sync_to_async or "
            "use the async ORM methods instead.",
            id="async_guard.W001",
        )
    ]


def check_middleware(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE not in middleware:
        return [
            Warning(
                f"{MIDDLEWARE} is not in MIDDLEWARE: requests are not guarded.",
                hint=f"Add {MIDDLEWARE!r} as the first entry of MIDDLEWARE.",
                id="async_guard.W002",
            )
        ]
    before = middleware[: middleware.index(MIDDLEWARE)]
    swallowing = [path for path in before if _handles_exceptions(path)]
    if not swallowing:
        return []
    return [
        Warning(
            f"{MIDDLEWARE} comes after middleware that turn exceptions into responses "
            f"({', '.join(swallowing)}): queries and errors inside them are not guarded.",
            hint=f"Move {MIDDLEWARE!r} to the first entry of MIDDLEWARE.",
            id="async_guard.W003",
        )
    ]


def _handles_exceptions(path: str) -> bool:
    try:
        middleware = import_string(path)
    except ImportError:
        return False  # Django's own checks report a middleware that cannot be imported
    return callable(getattr(middleware, "process_exception", None))


def check_celery_tasks(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if "celery" not in sys.modules:
        return []  # never import Celery for a project that does not use it
    from celery import current_app

    from async_guard.celery import coroutine_task, task_function

    try:
        tasks = sorted(current_app.tasks.items())
    except Exception:  # an app that refuses to finalize here: nothing to check yet
        return []
    messages: list[CheckMessage] = []
    for name, task in tasks:
        if not coroutine_task(task):
            continue
        func = task_function(task)
        messages.append(
            Warning(
                f"Celery task {name!r} ({func.__module__}.{func.__qualname__}) is an async def: "
                "Celery calls it and gets a coroutine that never runs.",
                hint="Make the task a plain def and run the coroutine with "
                "async_guard.bridge.run_async (async_to_sync).",
                obj=func,
                id="async_guard.W005",
            )
        )
    return messages


def check_persistent_connections_under_asgi(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not getattr(settings, "ASGI_APPLICATION", None):
        return []
    messages: list[CheckMessage] = []
    for alias, database in settings.DATABASES.items():
        max_age = database.get("CONN_MAX_AGE", 0)
        if max_age is None or max_age > 0:
            messages.append(
                Warning(
                    f"DATABASES[{alias!r}]['CONN_MAX_AGE'] is {max_age!r} and the project is "
                    "served under ASGI: each request's sync work runs on a thread that ends "
                    "with the request, so persistent connections are never reused and leak.",
                    hint="Set CONN_MAX_AGE to 0 for the ASGI server (use the driver's pool, "
                    "e.g. OPTIONS={'pool': True} on PostgreSQL, or PgBouncer).",
                    id="async_guard.W004",
                )
            )
    return messages


ALL: tuple[Callable[..., list[CheckMessage]], ...] = (
    check_settings,
    check_allow_async_unsafe,
    check_middleware,
    check_celery_tasks,
    check_persistent_connections_under_asgi,
)
