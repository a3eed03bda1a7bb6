"""The reference project plus the guard lab (``DJANGO_SETTINGS_MODULE=settings.guardlab``).

The real worker and server processes of ``tests/runtime_integration`` run with
these settings: the lab's tasks and views (``tests/guardlab``) beside the
project's own, and every ``async_guard`` event written to stderr as one JSON
line (``async_guard.runtime.logging.JsonFormatter``), which the tests parse.
``ASYNC_GUARD_MODE`` picks the mode, as in the reference settings;
``GUARDLAB_WITHOUT_GUARD=1`` leaves async_guard out altogether (the overhead
benchmark's baseline); ``GUARDLAB_FAULTS`` breaks guard internals on purpose
(``tests/guardlab/apps.py``).
"""

from __future__ import annotations

import os

from settings import *  # noqa: F403
from settings import DATABASES, INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "tests.guardlab"]

# The end-of-unit markers the tests wait for (off in the overhead benchmark:
# a log line per request would be most of what it measures).
GUARDLAB_MARKERS = os.environ.get("GUARDLAB_MARKERS", "1") == "1"
if GUARDLAB_MARKERS:
    # Outside the guard's middleware: the guard runs its end-of-request checks
    # in the response's close(), and the lab's marker must come after them. It
    # does nothing else, so the guard still sees every exception and query.
    MIDDLEWARE = ["tests.guardlab.middleware.FinishedMarkerMiddleware", *MIDDLEWARE]

if os.environ.get("GUARDLAB_WITHOUT_GUARD") == "1":
    # The same project without async_guard at all: the overhead benchmark's baseline.
    INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "async_guard"]
    MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("async_guard.")]
ROOT_URLCONF = "tests.guardlab.urls"

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Bound every wait of the lab's deliberate mistakes: a write stuck behind
    # its own caller's row lock fails after 2 s instead of hanging the worker,
    # and a transaction left open by a killed process cannot block the test
    # database's flush for long.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        "-c lock_timeout=2000 -c idle_in_transaction_session_timeout=20000"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "guard_json": {"()": "async_guard.runtime.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {
        "guard_stderr": {
            "class": "logging.StreamHandler",
            "formatter": "guard_json",
            "stream": "ext://sys.stderr",
        },
        "plain_stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {
        "async_guard": {"handlers": ["guard_stderr"], "level": "WARNING", "propagate": False},
        "guardlab": {"handlers": ["plain_stderr"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["plain_stderr"], "level": "ERROR", "propagate": False},
    },
}
