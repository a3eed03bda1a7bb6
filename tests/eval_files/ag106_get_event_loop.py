import asyncio


async def get_quote(symbol):
    return symbol


def fetch_quote(symbol):
    loop = asyncio.get_event_loop()  # expect: AG106
    return loop.run_until_complete(get_quote(symbol))


LOOP = asyncio.get_event_loop()  # expect: AG106


class Worker:
    def start(self):
        asyncio.get_event_loop().run_forever()  # expect: AG106


def handler_for_something_else():
    try:
        return asyncio.get_event_loop()  # expect: AG106
    except KeyError:
        return None
