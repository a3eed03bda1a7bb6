"""``manage.py audit_async`` (placeholder until the audit lands)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Audit the project's apps for async/sync mixing bugs."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("audit_async: no audit engine yet")
