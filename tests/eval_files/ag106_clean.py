import asyncio


async def get_quote(symbol):
    loop = asyncio.get_event_loop()
    running = asyncio.get_running_loop()
    return loop is running


def fetch_quote(symbol):
    return asyncio.run(get_quote(symbol))


def installed_loop_or_none():
    # prompt_toolkit's pattern: the RuntimeError is expected and handled
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    return loop
