# path: apps/integrations/tasks.py
import asyncio

from asgiref.sync import async_to_sync, sync_to_async
from celery import shared_task

from apps.integrations.models import PullRequest
from config.celery import app


async def fetch_pr_complete_data(pr_id):
    pr = await PullRequest.objects.aget(pk=pr_id)
    return pr


async def fetch_remote(url):
    return url


async def save_via_thread(pr):
    await sync_to_async(pr.save)()


async def indirect(pr_id):
    return await fetch_pr_complete_data(pr_id)


@shared_task
def sync_pr(pr_id):
    return asyncio.run(fetch_pr_complete_data(pr_id))  # expect: AG101


@app.task(bind=True)
def sync_remote(self, url):
    return asyncio.run(fetch_remote(url))  # expect: AG101


@shared_task
def through_helper(pr_id):
    return _helper(pr_id)


def _helper(pr_id):
    # reached only from the task: the task's context
    return asyncio.run(indirect(pr_id))  # expect: AG101


@shared_task
def fresh_loop(pr):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(save_via_thread(pr))  # expect: AG101
    finally:
        loop.close()


@shared_task
def correct(pr_id):
    # async_to_sync in tasks is the fix
    return async_to_sync(fetch_pr_complete_data)(pr_id)


@shared_task
def nested_async_helper():
    async def _inner():
        return 1

    return async_to_sync(_inner)()


def not_reached_from_a_task(url):
    # plain library function, no entry point reaches it: unsure, silent
    return asyncio.run(fetch_remote(url))
