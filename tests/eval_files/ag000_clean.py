# Valid code of every shape: no AG000.
import asyncio


async def main() -> None:
    async with asyncio.timeout(1):
        await asyncio.sleep(0)
    result = [x async for x in agen()]
    match result:
        case []:
            pass
        case _:
            pass


async def agen():
    yield 1
