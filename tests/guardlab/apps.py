"""The lab app: marks the end of every task in the worker log, after the guard's checks."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig

logger = logging.getLogger("guardlab")


def _mark_task_finished(sender: Any = None, task_id: str = "", **kwargs: Any) -> None:
    logger.info("guardlab-finished task %s", task_id)


class GuardlabConfig(AppConfig):
    name = "tests.guardlab"
    label = "guardlab"
    verbose_name = "Async guard lab"

    def ready(self) -> None:
        from celery.signals import task_postrun

        # Connected after async_guard's receivers (this app comes later in
        # INSTALLED_APPS), so the marker follows the guard's end-of-task checks.
        task_postrun.connect(_mark_task_finished, weak=False, dispatch_uid="guardlab-finished")
