# path: trading/management/commands/fix_call_spread_profit_targets.py
# codes: AG201, AG202, AG203, AG204, AG301, AG302, AG303, AG304
"""Correct bridges between sync and async code: none of them is a finding."""
import asyncio

from asgiref.sync import async_to_sync, sync_to_async
from celery import shared_task
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import models

from services.utils.async_utils import run_async


class Position(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    profit_target_details = models.JSONField(default=dict)


async def get_oauth_session(user):
    return user


async def create_order(session):
    return session


# Pattern 1: pure sync command + event loop, async helper with sync_to_async


class Command(BaseCommand):
    def handle(self, *args, **options):
        position = Position.objects.select_related("user").get(id=33)
        result = self._create_order_and_save(position)
        self.stdout.write(str(result))

    def _create_order_and_save(self, position):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return loop.run_until_complete(self._async_create_order(position))
        finally:
            loop.close()

    async def _async_create_order(self, position):
        session = await get_oauth_session(position.user_id)
        order = await create_order(session)
        position.profit_target_details["new_order"] = order
        await sync_to_async(position.save)()
        return order


# Pattern 2 and 4: run_async / async_to_sync from sync entry points


@shared_task
def sync_positions_task():
    for position in Position.objects.select_related("user").all():
        run_async(_async_sync_user_positions(position.user))
        async_to_sync(_async_sync_user_positions)(position.user)


async def _async_sync_user_positions(user):
    session = await get_oauth_session(user)
    return session


# Pattern 3: service methods with bridged _sync twins


class OrderExecutionService:
    async def create_profit_targets(self, position, parent_order_id):
        return await create_order(position)

    def create_profit_targets_sync(self, position, parent_order_id):
        return run_async(self.create_profit_targets(position, parent_order_id))

    async def get_quote(self, symbol):
        return symbol

    def get_quote_sync(self, symbol):
        return async_to_sync(self.get_quote)(symbol)


# Pattern 6: the ORM from async code


async def async_function():
    position = await sync_to_async(Position.objects.get)(id=33)
    positions = await sync_to_async(list)(Position.objects.filter(user_id=1))
    with_user = await Position.objects.select_related("user").aget(id=33)
    await asyncio.gather(get_oauth_session(with_user.user), create_order(None))
    return position, positions


# Pattern 5: a script's sync main


def main():
    for position in Position.objects.filter(user_id=1):
        print(call_async_api(position.user_id))


def call_async_api(user_id):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(get_oauth_session(user_id))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
