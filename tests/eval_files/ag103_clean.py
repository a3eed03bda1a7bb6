# path: scripts/one_off.py
# A script: sync main with the ORM, a loop closed in finally for the SDK.
import asyncio

from django.db import models


class Position(models.Model):
    pass


def main():
    for position in Position.objects.filter(symbol="QQQ"):
        print(call_async_api(position.user, position.id))


def call_async_api(user, position_id):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(_async_work(user, position_id))
    finally:
        loop.close()


async def _async_work(user, position_id):
    return {"status": "success"}


async def sdk_main():
    await _async_work(None, 1)


if __name__ == "__main__":
    main()
    asyncio.run(sdk_main())
