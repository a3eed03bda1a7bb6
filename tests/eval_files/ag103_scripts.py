# path: scripts/fix_positions.py
import asyncio

from asgiref.sync import sync_to_async

from django.db import models


class Position(models.Model):
    pass


async def cancel_order(order_id):
    return order_id


async def main():
    position = await sync_to_async(Position.objects.get)(id=33)
    await cancel_order(position.order_id)


async def load():
    return await Position.objects.aget(id=34)


async def main_indirect():
    await load()


async def sdk_only():
    await cancel_order(1)


if __name__ == "__main__":
    asyncio.run(main())  # expect: AG103
    asyncio.run(main_indirect())  # expect: AG103
    asyncio.run(sdk_only())
