from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bind @shared_task to the project's Celery app (broker settings from
        # Django settings) in every process that loads Django, not only workers.
        import settings.celery  # noqa: F401
