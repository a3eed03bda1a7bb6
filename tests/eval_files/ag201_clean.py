# path: trading/consumers.py
# codes: AG201, AG202, AG203, AG204
"""The correct patterns: none of them is a finding."""
import asyncio

import boto3
from asgiref.sync import async_to_sync, sync_to_async
from django.db import models


class Account(models.Model):
    number = models.CharField(max_length=20)


class Position(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    symbol = models.CharField(max_length=10)


class Registry:
    """Not a model: its ``objects`` is a plain dict."""

    objects = {}


# --- sync_to_async around the ORM -------------------------------------------------


async def wrapped(pk):
    position = await sync_to_async(Position.objects.get)(id=pk)
    positions = await sync_to_async(list)(Position.objects.filter(symbol="QQQ"))
    await sync_to_async(position.save)()
    await sync_to_async(position.save, thread_sensitive=True)()
    count = await sync_to_async(Position.objects.count)()
    return positions, count


async def async_api(pk):
    position = await Position.objects.aget(pk=pk)
    await position.asave()
    await position.arefresh_from_db()
    first = await Position.objects.filter(symbol="QQQ").afirst()
    total = await Position.objects.acount()
    exists = await Position.objects.filter(symbol="SPY").aexists()
    created = await Account.objects.acreate(number="1")
    await Position.objects.filter(symbol="X").adelete()
    await Position.objects.filter(symbol="X").aupdate(symbol="Y")
    async for row in Position.objects.filter(symbol="QQQ").order_by("pk"):
        print(row)
    return first, total, exists, created


async def lazy_querysets():
    qs = Position.objects.filter(symbol="QQQ").exclude(pk=1).order_by("-pk")
    qs = qs.select_related("account").prefetch_related("account")
    page = qs[:10]
    values = Position.objects.values("symbol")
    none = Position.objects.none()
    return qs, page, values, none


async def nested_sync_helper(pk):
    def load():
        position = Position.objects.get(pk=pk)
        position.save()
        return [p.symbol for p in Position.objects.all()]

    symbols = await sync_to_async(load)()
    other = await sync_to_async(lambda: list(Position.objects.all()))()
    return symbols, other


class Helper:
    async def handle(self):
        def count():
            return Position.objects.count()

        return await sync_to_async(count)()


def sync_code(pk):
    position = Position.objects.get(pk=pk)
    position.save()
    for row in Position.objects.all():
        print(row.account)
    return len(Position.objects.all())


async def not_the_orm(items):
    s3 = boto3.resource("s3")
    bucket = s3.Bucket("reports")
    for obj in bucket.objects.all():
        print(obj.key)
    keys = list(bucket.objects.filter(Prefix="x/"))
    Registry.objects.get("x")
    cache = {"a": 1}
    cache.get("a")
    items.first()
    items.save()
    return keys


async def unknown_models(model, user):
    from somewhere.unknown import Thing

    Thing.objects.get(pk=1)
    model.objects.get(pk=1)
    user.save()


class Position2Service:
    async def run(self):
        return await asyncio.gather(self.load(), self.load())

    async def load(self):
        return await Position.objects.acount()


def task_body():
    return async_to_sync(Position2Service().run)()


from django.shortcuts import get_object_or_404


class Tag(models.Model):
    name = models.CharField(max_length=10)


class Basket(models.Model):
    tags = models.ManyToManyField(Tag)


async def related_manager_async_api(basket: Basket, tag: Tag):
    await basket.tags.aadd(tag)
    await basket.tags.aremove(tag)
    qs = basket.tags.filter(name="x")
    async for t in qs:
        print(t)
    basket = await sync_to_async(get_object_or_404)(Basket, pk=1)
    return basket


def sync_view(request, pk):
    basket = get_object_or_404(Basket.objects.prefetch_related("tags"), pk=pk)
    basket.tags.add(Tag.objects.first())
    return basket
