# path: management_platform/app/workers/tasks/billing_tasks.py
"""The task imports asyncio locally and runs a nested coroutine."""
from celery import Celery

celery_app = Celery("billing")


@celery_app.task(bind=True, max_retries=3)
def process_subscription_renewals(self):
    """Celery task using asyncio.run() for async code."""
    import asyncio

    async def _process_renewals():
        # Async implementation
        return 1

    return asyncio.run(_process_renewals())


@celery_app.task
def renew_account(account):
    from asyncio import run as run_coroutine

    return run_coroutine(Renewals().renew(account, force=True))


class Renewals:
    async def renew(self, account, force=False):
        return account
