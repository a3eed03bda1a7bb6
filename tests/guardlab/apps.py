"""The lab app: end-of-task markers in the worker log, and faults injected into the guard.

``GUARDLAB_FAULTS`` (environment) lists guard internals to break, as
``module:attribute`` separated by commas, e.g.
``async_guard.runtime.db:foreign_query,async_guard.runtime.loops:check_loops``.
Each is replaced, once the guard's own ``ready()`` has run, by a function that
raises ``RuntimeError("guardlab: injected fault in ...")``: a test then checks
from outside that the guard logs its own failure once and the task or request
still does what it would do without the guard. A target that no longer exists
stops the process at start-up, naming it, instead of silently testing nothing.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any, NoReturn

from django.apps import AppConfig

logger = logging.getLogger("guardlab")

FAULTS_ENV = "GUARDLAB_FAULTS"


def _mark_task_finished(sender: Any = None, task_id: str = "", **kwargs: Any) -> None:
    logger.info("guardlab-finished task %s", task_id)


def _fault(target: str) -> Any:
    def broken(*args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(f"guardlab: injected fault in {target}")

    return broken


def inject_faults(spec: str) -> list[str]:
    """Replace every ``module:attribute`` in ``spec`` by a function that raises."""
    targets = [item.strip() for item in spec.split(",") if item.strip()]
    for target in targets:
        module_name, _, attribute = target.partition(":")
        module = importlib.import_module(module_name)
        if not attribute or not hasattr(module, attribute):
            raise LookupError(
                f"{FAULTS_ENV}: {target!r} names nothing in {module_name} (module:attribute)"
            )
        setattr(module, attribute, _fault(target))
    return targets


class GuardlabConfig(AppConfig):
    name = "tests.guardlab"
    label = "guardlab"
    verbose_name = "Async guard lab"

    def ready(self) -> None:
        from celery.signals import task_postrun
        from django.conf import settings

        if getattr(settings, "GUARDLAB_MARKERS", True):
            # Connected after async_guard's receivers (this app comes later in
            # INSTALLED_APPS), so the marker follows the guard's end-of-task checks.
            task_postrun.connect(_mark_task_finished, weak=False, dispatch_uid="guardlab-finished")
        spec = os.environ.get(FAULTS_ENV, "")
        if spec:
            logger.warning("guardlab: injected faults %s", ", ".join(inject_faults(spec)))
