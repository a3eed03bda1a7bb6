"""``manage.py audit_async``: the static audit, with what only a configured project knows.

Takes the options of ``async-guard check``. With no paths it audits the
project's own apps (those whose files lie under ``BASE_DIR``, never
site-packages). It adds every installed model, its managers (and the classes
whose methods they offer), its relation fields and reverse accessors, and the
user model from the app registry to the index (the scanned code is still never
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
from django.db.models import ForeignObjectRel

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


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def registry_facts() -> dict[str, Any]:
    """What the app registry knows of every installed model (third-party apps
    included): its fields, its relations both ways (reverse accessors as Django named
    them, hidden ones left out) and its managers with the classes whose methods they
    offer, and the user model. Django loaded all of it already: nothing is imported
    for the audit."""
    models: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    relations: list[tuple[str, tuple[tuple[str, str, str], ...]]] = []
    model_managers: list[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]] = []
    managers: set[str] = set()
    for model in apps.get_models(include_auto_created=False):
        qualname = _qualname(model)
        fields: list[tuple[str, str]] = []
        related: list[tuple[str, str, str]] = []
        for field in model._meta.get_fields():
            if isinstance(field, ForeignObjectRel):
                # a reverse relation: the accessor Django put on this model
                accessor = None if field.hidden else field.get_accessor_name()
                if accessor and isinstance(field.related_model, type):
                    kind = "ro2o" if field.one_to_one else "rm2m" if field.many_to_many else "rfk"
                    related.append((accessor, kind, _qualname(field.related_model)))
                continue
            if field.one_to_one:
                kind = "o2o"
            elif field.many_to_one:
                kind = "fk"
            elif field.many_to_many:
                kind = "m2m"
            else:
                kind = "field"
            fields.append((field.name, kind))
            target = getattr(field, "related_model", None)
            if kind != "field" and isinstance(target, type):
                related.append((field.name, kind, _qualname(target)))
        models.append((qualname, tuple(sorted(fields))))
        relations.append((qualname, tuple(sorted(related))))
        declared: list[tuple[str, tuple[str, ...]]] = []
        for manager in model._meta.managers:
            if not manager.name:
                continue
            managers.add(manager.name)
            sources = [_qualname(type(manager))]
            queryset_class = getattr(manager, "_queryset_class", None)
            if isinstance(queryset_class, type):
                sources.append(_qualname(queryset_class))
            declared.append((manager.name, tuple(sources)))
        model_managers.append((qualname, tuple(sorted(declared))))
    return {
        "registry_models": tuple(sorted(models)),
        "registry_managers": tuple(sorted(managers)),
        "registry_relations": tuple(sorted(relations)),
        "registry_model_managers": tuple(sorted(model_managers)),
        "registry_user_model": _user_model(),
    }


def _user_model() -> str:
    """``settings.AUTH_USER_MODEL``'s class, or "" when auth is not installed."""
    try:
        from django.contrib.auth import get_user_model

        return _qualname(get_user_model())
    except Exception:  # ImproperlyConfigured, or auth's models not installed
        return ""


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
