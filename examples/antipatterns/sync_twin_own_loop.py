"""An ``X_sync`` twin that runs its async twin on a fresh loop instead of bridging.

Audit: AG304 (sync-twin-not-bridged). Runtime: AGR101 (the async method's
``sync_to_async`` ORM work runs on another thread, outside the caller's
transaction). Fix: ``create_profit_targets_sync = sync_twin(create_profit_targets)``
(``async_guard.bridge``), which delegates through ``async_to_sync``.
"""

import asyncio
import threading

from asgiref.sync import sync_to_async
from django.db import transaction


def _save_target(username):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create(username=username)
    return threading.get_ident()  # the thread the ORM work ran on


class OrderExecutionService:
    async def create_profit_targets(self, username):
        return await sync_to_async(_save_target)(username)

    def create_profit_targets_sync(self, username):
        return asyncio.run(self.create_profit_targets(username))  # WRONG: own loop


def main():
    from examples.antipatterns._setup import django_setup, report, user_model

    django_setup()
    name = f"twin-{threading.get_ident()}"
    try:
        with transaction.atomic():
            thread = OrderExecutionService().create_profit_targets_sync(name)
            raise ValueError("caller rolls back")
    except ValueError:
        pass
    survived = user_model().objects.filter(username=name).exists()
    user_model().objects.filter(username=name).delete()
    report(
        survived and thread != threading.get_ident(),
        "the twin's write ran on another thread and survived the caller's rollback",
    )


if __name__ == "__main__":
    from examples.antipatterns._setup import run_example

    run_example(main)
