"""``manage.py check`` runs the static audit when ``ASYNC_GUARD["AUDIT"]["CHECKS"]`` is true.

Off by default: the audit reads every file of the project's apps, which is more
than ``check`` (run by ``runserver`` on every reload) should do unasked. When on,
each finding becomes a check message whose id carries the rule's number,
``async_guard.E101`` for an AG101 error, ``async_guard.W202`` for an AG202
warning, so ``SILENCED_SYSTEM_CHECKS`` can silence a rule for the project.

The function is registered by ``AsyncGuardConfig.ready()``; settings are read
at call time, so a test or a settings override can switch it on and off.
"""

from __future__ import annotations

import os
import site
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks

from async_guard.audit.finding import Finding

#: Check id used when the ``AUDIT`` settings themselves are wrong (the runtime's
#: id for an invalid ``ASYNC_GUARD`` setting).
CONFIG_ERROR_ID = "async_guard.E001"


def audit_settings() -> Mapping[str, Any]:
    value = getattr(settings, "ASYNC_GUARD", {}) or {}
    audit = value.get("AUDIT", {}) if isinstance(value, Mapping) else {}
    return audit if isinstance(audit, Mapping) else {}


def audit_check(
    app_configs: Iterable[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Audit the project's own apps (those under ``BASE_DIR``, not installed packages)."""
    audit = audit_settings()
    if audit.get("CHECKS", audit.get("checks")) is not True:
        return []
    from async_guard.audit.config import ConfigError, find_pyproject, from_mapping, load_pyproject
    from async_guard.audit.engine import audit_paths

    base_dir = Path(getattr(settings, "BASE_DIR", os.getcwd())).resolve()
    try:
        pyproject = find_pyproject(base_dir)
        config = load_pyproject(pyproject) if pyproject is not None else None
        config = from_mapping(audit, 'settings.ASYNC_GUARD["AUDIT"]', config)
    except ConfigError as error:
        return [checks.Error(str(error), id=CONFIG_ERROR_ID)]
    paths = project_app_paths(app_configs, base_dir)
    if not paths:
        return []
    return [message(finding) for finding in audit_paths(paths, config).findings]


def project_app_paths(app_configs: Iterable[AppConfig] | None, base_dir: Path) -> list[str]:
    """The folders of the apps that belong to the project: under ``base_dir``, not installed.

    Paths are relative to the working directory when they can be, so messages
    read like the command line's (``trading/views.py:12``).
    """
    base_dir = base_dir.resolve()
    installed = {Path(p).resolve() for p in (*site.getsitepackages(), site.getusersitepackages())}
    installed.add(Path(sys.prefix).resolve())
    paths = []
    for app in app_configs if app_configs is not None else apps.get_app_configs():
        folder = Path(app.path).resolve()
        if not folder.is_relative_to(base_dir):
            continue
        if any(folder.is_relative_to(prefix) for prefix in installed):
            continue
        paths.append(_display(folder))
    return sorted(set(paths))


def _display(folder: Path) -> str:
    try:
        return os.path.relpath(folder)
    except ValueError:  # another drive on Windows
        return str(folder)


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
