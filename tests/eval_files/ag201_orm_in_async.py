# path: trading/services.py
"""AG201: a query evaluated inside ``async def`` without ``sync_to_async``."""
import asyncio

from asgiref.sync import sync_to_async
from django.db import models
from django.db.models import Sum


class TimeStamped(models.Model):
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Account(TimeStamped):
    number = models.CharField(max_length=20)


class Position(TimeStamped):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    symbol = models.CharField(max_length=10)
    quantity = models.IntegerField(default=0)


# --- terminal queryset methods -------------------------------------------------


async def terminal_methods(pk):
    Position.objects.get(id=pk)  # expect: AG201
    Position.objects.first()  # expect: AG201
    Position.objects.filter(symbol="QQQ").last()  # expect: AG201
    Position.objects.count()  # expect: AG201
    Position.objects.filter(symbol="SPY").exists()  # expect: AG201
    Position.objects.create(symbol="QQQ")  # expect: AG201
    Position.objects.get_or_create(symbol="QQQ")  # expect: AG201
    Position.objects.update_or_create(symbol="QQQ")  # expect: AG201
    Position.objects.filter(symbol="QQQ").update(quantity=0)  # expect: AG201
    Position.objects.filter(symbol="QQQ").delete()  # expect: AG201
    Position.objects.earliest("created")  # expect: AG201
    Position.objects.latest("created")  # expect: AG201
    Position.objects.in_bulk([1, 2])  # expect: AG201
    Position.objects.aggregate(total=Sum("quantity"))  # expect: AG201
    Account.objects.bulk_create([Account(number="1")])  # expect: AG201
    Position.objects.select_related("account").order_by("-created").get(pk=pk)  # expect: AG201
    Position._default_manager.get(pk=pk)  # expect: AG201


async def result_used(pk):
    position = Position.objects.get(id=pk)  # expect: AG201
    return position


async def awaited_elsewhere(pk):
    await asyncio.sleep(0)
    return Position.objects.filter(account_id=pk).count()  # expect: AG201


# --- instance methods -------------------------------------------------------------


async def instance_methods(pk):
    position = await Position.objects.aget(pk=pk)
    position.quantity = 3
    position.save()  # expect: AG201
    position.refresh_from_db()  # expect: AG201
    position.delete()  # expect: AG201


async def wrapped_instance(pk):
    position = await sync_to_async(Position.objects.get)(id=pk)
    position.save(update_fields=["quantity"])  # expect: AG201


async def annotated_parameter(position: Position, account: "Account"):
    position.save()  # expect: AG201
    account.delete()  # expect: AG201


async def optional_parameter(position: Position | None = None):
    if position is not None:
        position.save()  # expect: AG201


async def constructed_instance():
    account = Account(number="42")
    account.save()  # expect: AG201


async def iterated_instance():
    async for position in Position.objects.all():
        position.save()  # expect: AG201


# --- evaluating a queryset ----------------------------------------------------


async def evaluations():
    for position in Position.objects.all():  # expect: AG201
        print(position)
    qs = Position.objects.filter(symbol="QQQ")
    for position in qs:  # expect: AG201
        print(position)
    symbols = [p.symbol for p in Position.objects.filter(symbol="SPY")]  # expect: AG201
    rows = list(Position.objects.filter(quantity__gt=0))  # expect: AG201
    n = len(Position.objects.filter(symbol="IWM"))  # expect: AG201
    has_any = bool(Position.objects.filter(symbol="DIA"))  # expect: AG201
    if Position.objects.filter(symbol="GLD"):  # expect: AG201
        pass
    first = Position.objects.filter(symbol="TLT")[0]  # expect: AG201
    found = first in Position.objects.filter(symbol="TLT")  # expect: AG201
    ordered = sorted(Position.objects.all(), key=str)  # expect: AG201
    return symbols, rows, n, has_any, ordered, found


async def evaluated_once_then_read_again():
    # the first evaluation runs the query and keeps the rows: the reads after it run none
    qs = Position.objects.filter(symbol="QQQ")
    symbols = [p.symbol for p in qs]  # expect: AG201
    return len(qs), bool(qs), qs[0], symbols[0] in qs, qs.count(), list(qs)


async def evaluation_after_reassignment():
    qs = Position.objects.all()
    qs = qs.filter(symbol="QQQ")
    return tuple(qs)  # expect: AG201


class PositionConsumer:
    async def receive(self, pk):
        return Position.objects.get(pk=pk)  # expect: AG201


class Trade(models.Model):
    position = models.ForeignKey(Position, on_delete=models.CASCADE)

    async def close(self):
        self.save()  # expect: AG201
        await self.asave()

    @classmethod
    async def open_for(cls, position):
        cls.objects.create(position=position)
        return await cls.objects.acreate(position=position)

    @staticmethod
    async def helper(value):
        value.save()

    def sync_close(self):
        self.save()


# --- related managers and shortcuts ----------------------------------------------

from django.shortcuts import get_list_or_404, get_object_or_404


class Tag(models.Model):
    name = models.CharField(max_length=10)


class Basket(models.Model):
    tags = models.ManyToManyField(Tag)
    owner = models.ForeignKey(Account, on_delete=models.CASCADE)


async def related_manager(basket: Basket, tag: Tag):
    basket.tags.add(tag)  # expect: AG201
    basket.tags.remove(tag)  # expect: AG201
    basket.tags.clear()  # expect: AG201
    basket.tags.set([tag])  # expect: AG201
    n = basket.tags.count()  # expect: AG201
    for t in basket.tags.all():  # expect: AG201
        print(t)
    await basket.tags.aadd(tag)
    async for t in basket.tags.filter(name="x"):
        print(t)
    return n


async def shortcuts(pk):
    basket = get_object_or_404(Basket, pk=pk)  # expect: AG201
    baskets = get_list_or_404(Basket.objects.filter(owner_id=pk))  # expect: AG201
    return basket, baskets
