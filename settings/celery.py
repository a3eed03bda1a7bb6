"""The reference project's Celery app: ``celery -A settings.celery worker``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

app = Celery("reference")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
