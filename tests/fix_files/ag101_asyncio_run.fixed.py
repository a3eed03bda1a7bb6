# path: apps/integrations/_task_modules/pr_data.py
"""asyncio.run() in a Celery task, the fix is async_to_sync."""
import asyncio
import logging

from asgiref.sync import async_to_sync, sync_to_async
from celery import shared_task

from apps.integrations.graphql import fetch_pr_complete_data_graphql

logger = logging.getLogger(__name__)


@shared_task
def fetch_pr_data(pr, tracked_repo):
    # WRONG - breaks thread-local storage
    result = async_to_sync(fetch_pr_complete_data_graphql)(pr, tracked_repo)  # the task's bug
    logger.info("fetched %s", pr)
    return result


@shared_task
def fetch_many(prs, tracked_repo):
    return [
        async_to_sync(fetch_pr_complete_data_graphql)(
            pr,
            tracked_repo,  # keyword-free, multi-line
        )
        for pr in prs
    ]


@shared_task
def fetch_prebuilt(pr, tracked_repo):
    coroutine = fetch_pr_complete_data_graphql(pr, tracked_repo)
    return asyncio.run(coroutine)  # not a call: left alone with a reason


async def save_async(pr):
    await sync_to_async(pr.save)()
