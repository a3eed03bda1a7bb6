"""``manage.py audit_async``: the static audit, with what only a configured project knows.

Takes the options of ``async-guard check``. With no paths it audits the
project's own apps (those whose files lie under ``BASE_DIR``, never
site-packages). It adds every installed model, its managers and its relation
fields from the app registry to the index (the scanned code is still never
imported by the audit: the registry is already loaded by Django), and reads
``ASYNC_GUARD["AUDIT"]`` (command-line options win; ``--isolated`` ignores it and
every ``pyproject.toml``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from async_guard import conf
from async_guard.audit.frontends.command import add_check_arguments, run_check


def project_app_paths() -> list[str]:
    """Folders of the installed apps that live under BASE_DIR (not in site-packages)."""
    base = getattr(settings, "BASE_DIR", None)
    root = Path(base).resolve() if base else Path.cwd().resolve()
    found: list[str] = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if "site-packages" in path.parts or "dist-packages" in path.parts:
            continue
        if path == root or root not in path.parents:
            continue
        try:
            found.append(str(path.relative_to(Path.cwd().resolve())))
        except ValueError:
            found.append(str(path))
    return sorted(set(found))


def registry_facts() -> dict[str, Any]:
    """Models (qualname -> field kinds) and manager names from the app registry."""
    models: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    managers: set[str] = set()
    for model in apps.get_models(include_auto_created=False):
        fields: list[tuple[str, str]] = []
        for field in model._meta.get_fields():
            if field.auto_created and not field.concrete:
                continue  # reverse relations: reached through managers, not attributes
            if field.one_to_one:
                kind = "o2o"
            elif field.many_to_one:
                kind = "fk"
            elif field.many_to_many:
                kind = "m2m"
            else:
                kind = "field"
            fields.append((field.name, kind))
        models.append((f"{model.__module__}.{model.__qualname__}", tuple(sorted(fields))))
        managers.update(manager.name for manager in model._meta.managers if manager.name)
    return {"registry_models": tuple(sorted(models)), "registry_managers": tuple(sorted(managers))}


class Command(BaseCommand):
    help = "Audit the project's apps for async/sync mixing bugs (see `async-guard check`)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        add_check_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        import argparse

        namespace = argparse.Namespace(**options)
        stderr = getattr(self.stderr, "_out", sys.stderr)
        audit: Mapping[str, Any] = {}
        if not options["isolated"]:
            problems = conf.validate_audit(conf.get("AUDIT"))
            if problems:
                message, hint = problems[0]
                stderr.write(f"async-guard: error: settings: {message}. {hint}\n")
                sys.exit(2)
            audit = conf.audit_settings()
        code = run_check(
            namespace,
            default_paths=project_app_paths() or ["."],
            settings=audit,
            registry_config=registry_facts(),
            stdout=getattr(self.stdout, "_out", sys.stdout),
            stderr=stderr,
        )
        if code:
            sys.exit(code)
