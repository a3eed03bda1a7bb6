"""``manage.py check`` runs the static audit when ``ASYNC_GUARD["AUDIT_CHECK"]`` says so.

Off by default: the audit reads every file of the project's apps, which is more
than ``check`` (run by ``runserver`` on every reload) should do unasked. When on,
it audits what ``manage.py audit_async`` audits with no paths (the apps under
``BASE_DIR``, with the app registry's models) under the same configuration, and
each finding becomes a check message whose id carries the rule's number:
``async_guard.W101`` for AG101, so ``SILENCED_SYSTEM_CHECKS`` can silence a rule
for the project (``async_guard.E101`` silences it too).

Django runs the system checks before ``migrate``, ``runserver``, the test
runner and every other command, and stops the command on any ``Error``. An
audit finding must not do that, so every finding is a ``Warning`` unless the
team opted in and a person (or a CI script) ran the check command itself:

* ``"warn"``: always Warnings.
* ``"error"``: a finding of severity error is an ``Error`` in ``manage.py check``
  (and ``check --deploy``) run from the command line.
* ``"deploy"``: the same, in ``manage.py check --deploy`` only.

``AsyncGuardConfig.ready()`` registers the function; settings are read at call
time, so a test or a settings override switches it on and off.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from async_guard import conf
from async_guard.audit.finding import Finding

#: Check id when the ``AUDIT`` settings themselves are wrong (the runtime's id for
#: an invalid ``ASYNC_GUARD`` setting).
CONFIG_ERROR_ID = "async_guard.E001"


def check_command_run() -> tuple[bool, bool]:
    """(``manage.py check`` was run from the command line, it was ``check --deploy``).

    Django hands a check function only ``app_configs`` and ``databases``, not the
    command that asked for the checks, so this finds the check command's
    ``handle`` on the stack. ``call_command("check")`` (the test runner's) does
    not count: only ``run_from_argv`` sets ``_called_from_command_line``.
    """
    from django.core.management.commands.check import Command

    handle = Command.handle.__code__
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is handle:
            command = frame.f_locals.get("self")
            if not getattr(command, "_called_from_command_line", False):
                return False, False
            options = frame.f_locals.get("options") or {}
            return True, bool(options.get("deploy"))
        frame = frame.f_back
    return False, False


def errors_wanted(setting: str) -> bool:
    """Whether this check run reports error findings as ``Error``s."""
    if setting not in ("error", "deploy"):
        return False
    by_hand, deploy = check_command_run()
    return deploy if setting == "deploy" else by_hand


def audit_check(
    app_configs: Iterable[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Audit the project's own apps (or those of ``app_configs`` among them)."""
    setting = conf.audit_check()
    if setting == "off":
        return []
    if conf.validate_audit(conf.get("AUDIT")):
        return []  # async_guard.E001 (checks.check_settings) names what is wrong
    from async_guard.audit.frontends.command import UsageError, add_check_arguments, build_config
    from async_guard.audit.runner import audit_paths
    from async_guard.management.commands.audit_async import project_app_paths, registry_facts

    paths = project_app_paths()
    if app_configs is not None:
        wanted = {Path(app.path).resolve() for app in app_configs}
        paths = [path for path in paths if Path(path).resolve() in wanted]
    if not paths:
        return []
    parser = argparse.ArgumentParser()
    add_check_arguments(parser)
    try:
        config = build_config(parser.parse_args([]), paths, conf.audit_settings())
    except UsageError as error:
        return [checks.Error(str(error), id=CONFIG_ERROR_ID)]
    config = replace(config, **registry_facts())
    errors = errors_wanted(setting)
    silenced = set(getattr(settings, "SILENCED_SYSTEM_CHECKS", ()))
    return [
        message(finding, errors=errors)
        for finding in audit_paths(paths, config).findings
        if not silenced & set(ids(finding))
    ]


def ids(finding: Finding) -> tuple[str, str]:
    """The rule's two check ids: ``async_guard.W101`` and ``async_guard.E101``."""
    number = finding.code.removeprefix("AG")
    return f"async_guard.W{number}", f"async_guard.E{number}"


def message(finding: Finding, *, errors: bool = False) -> checks.CheckMessage:
    """The check message for one finding: a Warning, an Error only if asked for."""
    warning_id, error_id = ids(finding)
    text = f"{finding.code} {finding.message}"
    where = f"{finding.path}:{finding.line}:{finding.col}"
    if errors and finding.severity == "error":
        return checks.Error(text, hint=finding.hint or None, obj=where, id=error_id)
    return checks.Warning(text, hint=finding.hint or None, obj=where, id=warning_id)
