"""asyncio.run() in a Celery task: the ORM work escapes the task's transaction.

Audit: AG101 (asyncio-run-in-sync-entrypoint). Runtime: AGR101 (query on
another thread, ERROR inside atomic), AGR107 (that thread's connection leaks).

``sync_to_async`` (thread_sensitive) under ``asyncio.run`` has no outer
``async_to_sync`` to return to, so ``obj.save`` runs on asgiref's shared
executor thread, on another database connection: the task's rollback does not
undo it. Fix: ``async_to_sync(record)(...)`` / ``run_async(record, ...)``.
"""

import asyncio
import threading

from asgiref.sync import sync_to_async
from celery import shared_task
from django.db import transaction


async def record(username):
    from django.contrib.auth import get_user_model

    user = get_user_model()(username=username)
    await sync_to_async(user.save)()


@shared_task
def import_user_task(username):
    with transaction.atomic():
        asyncio.run(record(username))  # WRONG: use async_to_sync(record)(username)
        if username.startswith("rollback-"):
            raise ValueError("the task rolls back")


def main():
    from examples.antipatterns._setup import django_setup, report, user_model

    django_setup()
    name = f"rollback-{threading.get_ident()}"
    try:
        import_user_task(name)
    except ValueError:
        pass
    survived = user_model().objects.filter(username=name).exists()
    user_model().objects.filter(username=name).delete()
    report(survived, "the save ran on another connection and survived the task's rollback")


if __name__ == "__main__":
    from examples.antipatterns._setup import run_example

    run_example(main)
