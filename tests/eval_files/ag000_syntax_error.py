# A file that does not parse: one AG000 at the failing line, nothing else.
import asyncio


async def fine():
    await asyncio.sleep(0)


def broken(:  # expect: AG000
    pass
