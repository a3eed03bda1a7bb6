"""Django app config: every hook async_guard installs is connected here, never at import."""

from __future__ import annotations

from django.apps import AppConfig


class AsyncGuardConfig(AppConfig):
    name = "async_guard"
    verbose_name = "Async guard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        pass
