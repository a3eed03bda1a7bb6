"""Settings of the reference trading project (``DJANGO_SETTINGS_MODULE=settings``).

SQLite by default, so ``python manage.py migrate`` works on a fresh clone with
nothing else running. ``DATABASE_URL`` switches to PostgreSQL (or anything
dj-database-url parses); ``CELERY_BROKER_URL`` picks the broker.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "reference-project-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "async_guard",
    "trading",
]

MIDDLEWARE = [
    # First, so that it sees every exception the others let through and
    # every query made while any of them runs.
    "async_guard.middleware.AsyncGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "settings.urls"
WSGI_APPLICATION = "settings.wsgi.application"
ASGI_APPLICATION = "settings.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_SQLITE_PATH = Path(os.environ.get("SQLITE_PATH", BASE_DIR / "db.sqlite3"))
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{_SQLITE_PATH}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: worker and server processes started by the tests
    # must see the same test database as the test process.
    DATABASES["default"]["TEST"] = {
        "NAME": str(os.environ.get("SQLITE_TEST_PATH", BASE_DIR / ".test-db" / "test.sqlite3"))
    }
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "reference-project",
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/1")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = os.environ.get("CELERY_RESULT_SERIALIZER", "json")
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "0") == "1"

# Django's tasks framework (Django 6.0+; the django-tasks backport before that):
# the immediate backend by default, and a database backend whose worker is
# ``python manage.py db_worker --backend database`` (django-tasks-db, a dev
# dependency). Without django-tasks-db the project has Django's default only.
if importlib.util.find_spec("django_tasks_db") is not None:
    _TASKS_PACKAGE = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
    if _TASKS_PACKAGE == "django_tasks":
        INSTALLED_APPS.append("django_tasks")
    INSTALLED_APPS.append("django_tasks_db")
    TASKS = {
        "default": {"BACKEND": f"{_TASKS_PACKAGE}.backends.immediate.ImmediateBackend"},
        "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    }

ASYNC_GUARD = {
    "MODE": os.environ.get("ASYNC_GUARD_MODE", "warn"),
}

# The reference project talks to the broker at this address. Tests and
# ``manage.py tastytrade_sandbox`` point it at the local fake.
TASTYTRADE_API_URL = os.environ.get("TASTYTRADE_API_URL", "https://api.tastyworks.com")
TASTYTRADE_PROVIDER_SECRET = os.environ.get("TASTYTRADE_PROVIDER_SECRET", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "async_guard": {"handlers": ["console"], "level": "WARNING", "propagate": True},
        "trading": {"handlers": ["console"], "level": "INFO", "propagate": True},
        "services": {"handlers": ["console"], "level": "INFO", "propagate": True},
    },
}
