"""The application code under test: wrong and right ways to run async work from sync code."""

import asyncio

from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.models import Group


async def create(name):
    await sync_to_async(Group.objects.create)(name=name)


def signup(name):
    # Wrong: a new event loop sends the ORM call to asgiref's shared thread.
    asyncio.run(create(name))


def signup_bridged(name):
    async_to_sync(create)(name)


async def fetch_quote():
    return 1


def refresh_quotes():
    fetch_quote()  # Wrong: never awaited
