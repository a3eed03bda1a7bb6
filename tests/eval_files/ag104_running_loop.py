import asyncio

from asgiref.sync import async_to_sync, sync_to_async

from services.utils.async_utils import run_async


async def fetch_quotes(symbols):
    return symbols


async def get_session():
    return object()


async def refresh(symbols):
    session = async_to_sync(get_session)()  # expect: AG104
    asyncio.run(fetch_quotes(symbols))  # expect: AG104
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(fetch_quotes(symbols))  # expect: AG104
    finally:
        loop.close()
    run_async(fetch_quotes(symbols))  # expect: AG104
    asyncio.get_event_loop().run_until_complete(fetch_quotes(symbols))  # expect: AG104
    return session


class Consumer:
    async def receive(self, text):
        return asyncio.run(fetch_quotes([text]))  # expect: AG104
