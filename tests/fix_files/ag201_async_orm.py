# path: trading/services/positions.py
"""ORM calls in async def with an awaitable drop-in become awaits of the a-methods."""
from django.db import models


class Position(models.Model):
    symbol = models.CharField(max_length=10)
    quantity = models.IntegerField(default=0)


async def refresh_position(position_id, quantity):
    position = Position.objects.get(id=position_id)  # raises SynchronousOnlyOperation
    position.quantity = quantity
    position.save(update_fields=["quantity"])
    total = Position.objects.filter(symbol=position.symbol).count() + 1
    first = Position.objects.order_by("id").first().symbol
    if Position.objects.filter(quantity=0).exists():
        Position.objects.filter(quantity=0).delete()
    created, _ = Position.objects.get_or_create(symbol="SPY", defaults={"quantity": 1})
    return position, total, first, created


async def open_positions():
    # Iteration has no awaitable drop-in: left for a hand fix (async for).
    return [p for p in Position.objects.all()]


def sync_report():
    # Sync code: no finding, nothing to fix.
    return Position.objects.count()
