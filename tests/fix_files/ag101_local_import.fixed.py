# path: management_platform/app/workers/tasks/billing_tasks.py
"""The task imports asyncio locally and runs a nested coroutine."""
from celery import Celery
from asgiref.sync import async_to_sync

celery_app = Celery("billing")


@celery_app.task(bind=True, max_retries=3)
def process_subscription_renewals(self):
    """Celery task using asyncio.run() for async code."""

    async def _process_renewals():
        # Async implementation
        return 1

    return async_to_sync(_process_renewals)()


@celery_app.task
def renew_account(account):
    return async_to_sync(Renewals().renew)(account, force=True)


class Renewals:
    async def renew(self, account, force=False):
        return account
