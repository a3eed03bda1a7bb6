# path: trading/services/positions.py
"""ORM calls in async def with an awaitable drop-in become awaits of the a-methods."""
from django.db import models


class Position(models.Model):
    symbol = models.CharField(max_length=10)
    quantity = models.IntegerField(default=0)


async def refresh_position(position_id, quantity):
    position = await Position.objects.aget(id=position_id)  # raises SynchronousOnlyOperation
    position.quantity = quantity
    await position.asave(update_fields=["quantity"])
    total = await Position.objects.filter(symbol=position.symbol).acount() + 1
    first = (await Position.objects.order_by("id").afirst()).symbol
    if await Position.objects.filter(quantity=0).aexists():
        await Position.objects.filter(quantity=0).adelete()
    created, _ = await Position.objects.aget_or_create(symbol="SPY", defaults={"quantity": 1})
    return position, total, first, created


async def open_positions():
    # Iteration has no awaitable drop-in: left for a hand fix (async for).
    return [p for p in Position.objects.all()]


def sync_report():
    # Sync code: no finding, nothing to fix.
    return Position.objects.count()
