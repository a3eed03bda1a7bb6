# path: shop/jobs.py
"""Django's own task framework (django.tasks, Django 6.0+, and its backport package):
a task body runs in a worker's thread, like a Celery task's."""
import asyncio

import django.tasks
from asgiref.sync import async_to_sync
from django.tasks import task
from django.tasks import task as background
from django_tasks import task as backport_task


async def fetch(pk):
    return pk


@task
def refresh(pk):
    return asyncio.run(fetch(pk))  # expect: AG101


@background(priority=10, queue_name="slow")
def refresh_later(pk):
    return _helper(pk)


def _helper(pk):
    return asyncio.run(fetch(pk))  # expect: AG101


@django.tasks.task()
def refresh_dotted(pk):
    return asyncio.run(fetch(pk))  # expect: AG101


@backport_task()
def refresh_backport(pk):
    return asyncio.run(fetch(pk))  # expect: AG101


@task
def refresh_correctly(pk):
    return async_to_sync(fetch)(pk)


@task
async def refresh_async(pk):
    # An async task runs on a backend that supports them (Django checks that when it
    # defines the task): nothing here is dropped.
    return await fetch(pk)
