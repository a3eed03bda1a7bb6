# path: services/execution/order_service.py
"""AG304: an ``X_sync`` twin of an async ``X`` that opens its own loop."""
import asyncio
from asyncio import run as asyncio_run

from asgiref.sync import async_to_sync

from async_guard.bridge import run_async
from services.utils.async_utils import run_async as project_run_async


class OrderExecutionService:
    async def create_profit_targets(self, position, parent_order_id):
        return position, parent_order_id

    def create_profit_targets_sync(self, position, parent_order_id):  # expect: AG304
        return asyncio.run(self.create_profit_targets(position, parent_order_id))

    async def cancel(self, order_id):
        return order_id

    def cancel_sync(self, order_id):  # expect: AG304
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(self.cancel(order_id))
        finally:
            loop.close()

    async def refresh(self):
        return None

    def refresh_sync(self):  # expect: AG304
        return asyncio_run(self.refresh())

    async def quote(self, symbol):
        return symbol

    def quote_sync(self, symbol):  # expect: AG304
        return asyncio.get_event_loop().run_until_complete(self.quote(symbol))


async def fetch_account(user):
    return user


def fetch_account_sync(user):  # expect: AG304
    return asyncio.run(fetch_account(user))


# --- clean counterparts: async methods with sync twins-----------------------------------


class MarketDataService:
    async def get_quote(self, symbol):
        return symbol

    def get_quote_sync(self, symbol):
        return run_async(self.get_quote(symbol))

    async def stream(self):
        return None

    def stream_sync(self):
        return async_to_sync(self.stream)()

    async def positions(self):
        return None

    def positions_sync(self):
        from services.utils.async_utils import run_async

        return run_async(self.positions())

    async def orders(self):
        return None

    def orders_sync(self):
        return project_run_async(self.orders())

    def standalone_sync(self):
        return asyncio.run(self.stream())

    async def balances(self):
        return None

    def balances_sync(self):
        return {"cash": 0}


class Unrelated:
    def get_quote_sync(self, symbol):
        return asyncio.run(MarketDataService().get_quote(symbol))


def helper_sync():
    return asyncio.run(fetch_account(None))
