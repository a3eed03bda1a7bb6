import asyncio


async def get_quote(symbol):
    loop = asyncio.get_event_loop()
    running = asyncio.get_running_loop()
    return loop is running


def fetch_quote(symbol):
    return asyncio.run(get_quote(symbol))
