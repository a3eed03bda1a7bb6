# path: services/sync_service.py
"""AG301: a coroutine function called and then dropped."""
import asyncio

from asgiref.sync import async_to_sync
from celery import shared_task
from django.db import models

from async_guard.bridge import run_async


class Position(models.Model):
    symbol = models.CharField(max_length=10)


async def refresh_quotes(symbol):
    await asyncio.sleep(0)
    return symbol


async def notify(user):
    await asyncio.sleep(0)


class SyncService:
    async def sync_positions(self):
        self.refresh()  # expect: AG301
        await self.refresh()

    async def refresh(self):
        refresh_quotes("QQQ")  # expect: AG301
        notify(None)  # expect: AG301
        Position.objects.acreate(symbol="QQQ")  # expect: AG301
        Position.objects.filter(symbol="QQQ").adelete()  # expect: AG301

    @classmethod
    async def build(cls):
        return cls()

    @staticmethod
    async def ping():
        return True

    def sync_positions_sync(self):
        self.sync_positions()  # expect: AG301
        return run_async(self.sync_positions())


@shared_task
def refresh_task():
    refresh_quotes("SPY")  # expect: AG301


def signal_handler(sender, instance, **kwargs):
    if notify(instance.user):  # expect: AG301
        pass
    pending = refresh_quotes("QQQ")  # expect: AG301
    while notify(instance):  # expect: AG301
        break
    return None


async def save_instance(position: Position):
    position.asave()  # expect: AG301


# --- clean counterparts: awaited or handed over -----------------------------------


async def awaited():
    await refresh_quotes("QQQ")
    result = await notify(None)
    await Position.objects.acreate(symbol="QQQ")
    return result


async def handed_to_asyncio(loop):
    await asyncio.gather(refresh_quotes("A"), notify(None))
    task = asyncio.create_task(refresh_quotes("B"))
    future = asyncio.ensure_future(notify(None))
    await asyncio.wait_for(refresh_quotes("C"), timeout=1)
    await asyncio.shield(notify(None))
    async with asyncio.TaskGroup() as tg:
        tg.create_task(refresh_quotes("D"))
    asyncio.run_coroutine_threadsafe(notify(None), loop)
    await task
    await future


def handed_to_bridges(loop):
    asyncio.run(refresh_quotes("A"))
    loop.run_until_complete(notify(None))
    async_to_sync(refresh_quotes)("B")
    run_async(refresh_quotes("C"))
    run_async(refresh_quotes, "D")


def kept_for_later():
    coro = refresh_quotes("A")
    return coro


def returned():
    return refresh_quotes("A")


async def factory_call():
    service = SyncService.build()
    await service
    await SyncService.ping()


def sync_function(x):
    return x


def sync_calls():
    sync_function(1)
    Position.objects.create(symbol="QQQ")


async def async_iterator_is_not_a_coroutine():
    Position.objects.aiterator()


async def async_generator():
    yield 1


class Other:
    def refresh(self):
        return None

    def caller(self):
        self.refresh()


# --- decorators that change what calling the function returns -----------------------


@async_to_sync
async def bridged_at_definition():
    return None


class Wrapped:
    @async_to_sync
    async def refresh(self):
        return None

    @staticmethod
    async def still_a_coroutine():
        return None

    def caller(self):
        bridged_at_definition()
        self.refresh()
        Wrapped.still_a_coroutine()  # expect: AG301


HOOKS = {}


@HOOKS.setdefault("refresh", [])[0]
async def registered_through_an_expression():
    return None


def call_registered():
    registered_through_an_expression()
