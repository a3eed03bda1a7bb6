# path: trading/management/commands/cancel_order.py
"""A command's own loop without its finally: the loop leaks when a call raises."""
import asyncio

from django.core.management.base import BaseCommand

from services.auth import get_oauth_session


class Command(BaseCommand):
    def handle(self, *args, **options):
        return self._call_async_api(options["user"], options["order_id"])

    def _call_async_api(self, user, order_id):
        """Wrapper for async API calls."""
        loop = asyncio.new_event_loop()
        try:
            asyncio.set_event_loop(loop)
            # Run async code here
            session = loop.run_until_complete(get_oauth_session(user))
            result = loop.run_until_complete(self._cancel_order_async(session, order_id))
            return result
        finally:
            loop.close()

    def _leaks_the_loop(self):
        loop = asyncio.new_event_loop()
        return loop  # escapes: left alone

    async def _cancel_order_async(self, session, order_id):
        return order_id


def refresh_quotes(symbols):
    loop = asyncio.new_event_loop()
    try:
        if symbols:
            quotes = loop.run_until_complete(fetch_quotes(symbols))
        else:
            quotes = []
        return quotes
    finally:
        loop.close()


async def fetch_quotes(symbols):
    return symbols
