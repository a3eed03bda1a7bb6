"""The guard on Django's tasks framework: ``django.tasks`` (Django 6.0+), or the backport.

``FRAMEWORK`` is the package that provides it here, ``None`` when neither is
installed (Django before 6.0 without the ``django-tasks`` package): the tests
of this folder then skip, saying so.
"""

from __future__ import annotations

import importlib.util

FRAMEWORK = (
    "django.tasks"
    if importlib.util.find_spec("django.tasks") is not None
    else "django_tasks"
    if importlib.util.find_spec("django_tasks") is not None
    else None
)
SKIP_REASON = "needs Django's tasks framework: Django 6.0+, or the django-tasks backport"
