# path: trading/consumers.py
"""AG204: ``sync_to_async(..., thread_sensitive=False)`` around ORM work."""
from asgiref.sync import sync_to_async
from django.db import models


class Position(models.Model):
    symbol = models.CharField(max_length=10)


def load_positions():
    return list(Position.objects.filter(symbol="QQQ"))


def compute(values):
    return sum(values)


async def manager_method(pk):
    return await sync_to_async(Position.objects.get, thread_sensitive=False)(pk=pk)  # expect: AG204


async def instance_method(position: Position):
    await sync_to_async(position.save, thread_sensitive=False)()  # expect: AG204


async def helper_with_orm():
    return await sync_to_async(load_positions, thread_sensitive=False)()  # expect: AG204


async def builtin_over_queryset():
    qs = Position.objects.all()
    return await sync_to_async(list, thread_sensitive=False)(qs)  # expect: AG204


async def lambda_with_orm():
    return await sync_to_async(lambda: Position.objects.count(), thread_sensitive=False)()  # expect: AG204


async def nested_helper(pk):
    def load():
        return Position.objects.get(pk=pk)

    return await sync_to_async(load, thread_sensitive=False)()  # expect: AG204


@sync_to_async(thread_sensitive=False)  # expect: AG204
def decorated_loader():
    return Position.objects.first()


# --- clean counterparts -----------------------------------------------------------


async def thread_sensitive_default(pk):
    return await sync_to_async(Position.objects.get)(pk=pk)


async def thread_sensitive_true():
    return await sync_to_async(load_positions, thread_sensitive=True)()


async def cpu_work(values):
    return await sync_to_async(compute, thread_sensitive=False)(values)


async def builtin_over_plain_list(values):
    return await sync_to_async(sorted, thread_sensitive=False)(values)


async def unknown_helper(fn):
    return await sync_to_async(fn, thread_sensitive=False)()


@sync_to_async(thread_sensitive=False)
def decorated_cpu(values):
    return sum(values)


@sync_to_async
def decorated_default():
    return Position.objects.first()


class Tag(models.Model):
    positions = models.ManyToManyField(Position)


async def related_add(tag: Tag, position: Position):
    await sync_to_async(tag.positions.add, thread_sensitive=False)(position)  # expect: AG204
    await sync_to_async(tag.positions.all, thread_sensitive=False)()


# --- the same with asyncio's own threads --------------------------------------------

import asyncio


async def to_thread(pk):
    await asyncio.to_thread(load_positions)  # expect: AG204
    await asyncio.to_thread(Position.objects.get, pk=pk)  # expect: AG204
    await asyncio.to_thread(list, Position.objects.all())  # expect: AG204
    await asyncio.to_thread(compute, [1, 2])
    await asyncio.to_thread(sorted, [3, 1])


async def run_in_executor(pk):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, load_positions)  # expect: AG204
    await loop.run_in_executor(None, lambda: Position.objects.get(pk=pk))  # expect: AG204
    await loop.run_in_executor(None, compute, [1])
    await loop.run_in_executor(None)
