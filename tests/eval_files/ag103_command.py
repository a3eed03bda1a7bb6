# path: trading/management/commands/resync.py
import asyncio

from django.core.management.base import BaseCommand

from django.db import models


class Trade(models.Model):
    pass


async def resync_all():
    async for trade in Trade.objects.all():
        await trade.asave()


async def ping():
    return True


class Command(BaseCommand):
    def handle(self, *args, **options):
        asyncio.run(resync_all())  # expect: AG103
        asyncio.run(ping())
