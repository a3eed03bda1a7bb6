import asyncio
import contextlib


async def async_call():
    return 1


def never_closed():
    loop = asyncio.new_event_loop()  # expect: AG102
    result = loop.run_until_complete(async_call())
    return result


def closed_on_happy_path_only():
    loop = asyncio.new_event_loop()  # expect: AG102
    asyncio.set_event_loop(loop)
    result = loop.run_until_complete(async_call())
    loop.close()
    return result


def dropped():
    return asyncio.new_event_loop().run_until_complete(async_call())  # expect: AG102


loop = asyncio.new_event_loop()  # expect: AG102
loop.run_until_complete(async_call())


class Service:
    def run(self):
        inner = asyncio.new_event_loop()  # expect: AG102
        return inner.run_until_complete(async_call())
