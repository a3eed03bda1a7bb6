# path: trading/management/commands/fix_positions.py
"""AG303: a management command whose ``handle`` is ``async def``."""
import asyncio

from django.core.management import BaseCommand as ShortPathCommand
from django.core.management.base import AppCommand, BaseCommand, LabelCommand


class Command(BaseCommand):
    help = "Fix positions"

    async def handle(self, *args, **options):  # expect: AG303
        await asyncio.sleep(0)


class ShortPath(ShortPathCommand):
    async def handle(self, *args, **options):  # expect: AG303
        return None


class Labels(LabelCommand):
    async def handle(self, *labels, **options):  # expect: AG303
        return None


class ProjectBase(BaseCommand):
    requires_system_checks = []


class ThroughProjectBase(ProjectBase):
    async def handle(self, *args, **options):  # expect: AG303
        return None


# --- clean counterparts -----------------------------------------------------------


class Good(BaseCommand):
    def handle(self, *args, **options):
        return self._run()

    def _run(self):
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(self._cancel_order_async())
        finally:
            loop.close()

    async def _cancel_order_async(self):
        return True


class Apps(AppCommand):
    def handle_app_config(self, app_config, **options):
        return None

    async def helper(self):
        return None


class NotACommand:
    async def handle(self, *args, **options):
        return None


async def handle(*args, **options):
    return None
