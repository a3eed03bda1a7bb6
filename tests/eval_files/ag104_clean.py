import asyncio

from asgiref.sync import async_to_sync, sync_to_async


async def fetch_quotes(symbols):
    return symbols


async def refresh(symbols):
    # nested sync helpers inside async def are sync code (run in a thread here)
    def blocking():
        return async_to_sync(fetch_quotes)(symbols)

    await sync_to_async(blocking, thread_sensitive=False)()
    await asyncio.get_running_loop().run_in_executor(None, lambda: asyncio.run(fetch_quotes(symbols)))
    return await fetch_quotes(symbols)


def sync_entry(symbols):
    return async_to_sync(fetch_quotes)(symbols)


async def run_async(coro):
    return await coro


async def uses_async_helper(symbols):
    return await run_async(fetch_quotes(symbols))
