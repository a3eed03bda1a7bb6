# path: trading/services/lookup.py
"""The query ran before sync_to_async wrapped it: wrap the method, pass the arguments."""
from asgiref.sync import sync_to_async
from django.db import models


class Position(models.Model):
    symbol = models.CharField(max_length=10)


async def load(position_id):
    position = await sync_to_async(Position.objects.get)(pk=position_id)
    again = await sync_to_async(Position.objects.get)(pk=position_id)
    latest = await sync_to_async(
        Position.objects.filter(symbol="SPY").latest,  # lazy filter, then the query
        thread_sensitive=True,
    )("id")
    return position, again, latest
