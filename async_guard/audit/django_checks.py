"""``manage.py check`` runs the static audit when ``ASYNC_GUARD["AUDIT"]["CHECKS"]`` is true.

Off by default: the audit reads every file of the project's apps, which is more
than ``check`` (run by ``runserver`` on every reload) should do unasked. When on,
it audits what ``manage.py audit_async`` audits with no paths (the apps under
``BASE_DIR``, with the app registry's models) under the same configuration, and
each finding becomes a check message whose id carries the rule's number:
``async_guard.E101`` for an AG101 error, ``async_guard.W202`` for an AG202
warning, so ``SILENCED_SYSTEM_CHECKS`` can silence a rule for the project.

``AsyncGuardConfig.ready()`` registers the function; settings are read at call
time, so a test or a settings override switches it on and off.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from async_guard.audit.finding import Finding

#: Check id when the ``AUDIT`` settings themselves are wrong (the runtime's id for
#: an invalid ``ASYNC_GUARD`` setting).
CONFIG_ERROR_ID = "async_guard.E001"


def audit_settings() -> Mapping[str, Any]:
    value = getattr(settings, "ASYNC_GUARD", None) or {}
    audit = value.get("AUDIT", {}) if isinstance(value, Mapping) else {}
    return audit if isinstance(audit, Mapping) else {}


def enabled(audit: Mapping[str, Any]) -> bool:
    return any(key.lower() == "checks" and value is True for key, value in audit.items())


def audit_check(
    app_configs: Iterable[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Audit the project's own apps (or those of ``app_configs`` among them)."""
    audit = audit_settings()
    if not enabled(audit):
        return []
    from async_guard.audit.check import UsageError, add_check_arguments, build_config
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
    options = {key: value for key, value in audit.items() if key.lower() != "checks"}
    try:
        config = build_config(parser.parse_args([]), paths, options)
    except UsageError as error:
        return [checks.Error(str(error), id=CONFIG_ERROR_ID)]
    config = replace(config, **registry_facts())
    return [message(finding) for finding in audit_paths(paths, config).findings]


def message(finding: Finding) -> checks.CheckMessage:
    """The check message for one finding: E1xx for an AG1xx error, W1xx for a warning."""
    kind = checks.Error if finding.severity == "error" else checks.Warning
    letter = "E" if finding.severity == "error" else "W"
    return kind(
        f"{finding.code} {finding.message}",
        hint=finding.hint or None,
        obj=f"{finding.path}:{finding.line}:{finding.col}",
        id=f"async_guard.{letter}{finding.code.removeprefix('AG')}",
    )
