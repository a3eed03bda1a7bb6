# path: trading/consumers.py
# codes: AG201, AG203
"""AG203: the query runs before ``sync_to_async`` gets it."""
import asgiref.sync
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import models


class Position(models.Model):
    symbol = models.CharField(max_length=10)


async def evaluated_first(pk):
    position = await sync_to_async(Position.objects.get(pk=pk))()  # expect: AG201, AG203
    return position


async def list_first():
    qs = Position.objects.filter(symbol="QQQ")
    return await sync_to_async(list(qs))()  # expect: AG201, AG203


async def count_first():
    return await asgiref.sync.sync_to_async(Position.objects.count())()  # expect: AG201, AG203


async def save_first(position: Position):
    await sync_to_async(position.save())()  # expect: AG201, AG203


async def channels_wrapper():
    return await database_sync_to_async(Position.objects.first())()  # expect: AG201, AG203


def in_sync_code(pk):
    wrapped = sync_to_async(Position.objects.get(pk=pk))  # expect: AG203
    return wrapped


# --- clean counterparts -----------------------------------------------------------


async def wrapped_callable(pk):
    position = await sync_to_async(Position.objects.get)(pk=pk)
    rows = await sync_to_async(list)(Position.objects.filter(symbol="QQQ"))
    saved = await sync_to_async(position.save)()
    qs = await sync_to_async(Position.objects.filter)(symbol="QQQ")
    bound = await sync_to_async(Position.objects.filter(symbol="QQQ").first)()
    return rows, saved, qs, bound


def factory():
    return list


async def wrapped_factory():
    return await sync_to_async(factory())(Position.objects.all())
