# path: trading/management/commands/fix_position.py
# A management command with a fresh loop closed in finally, and
# a script's sync main: no AG101 (commands and scripts are AG103's business).
import asyncio

from asgiref.sync import sync_to_async
from django.core.management.base import BaseCommand

from trading.models import Position


class Command(BaseCommand):
    def handle(self, *args, **options):
        position = Position.objects.get(id=33)
        return self._call_async_api(position.user, 1)

    def _call_async_api(self, user, order_id):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            session = loop.run_until_complete(get_oauth_session(user))
            return loop.run_until_complete(self._cancel_order_async(session, order_id))
        finally:
            loop.close()

    async def _cancel_order_async(self, session, order_id):
        await sync_to_async(print)(order_id)
        return True


async def get_oauth_session(user):
    return user


def library_code(coro):
    runner = asyncio.Runner()
    with runner:
        return runner.run(coro)
