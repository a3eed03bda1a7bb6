# path: trading/management/commands/sync_positions.py
"""A management command whose handle is async def: Django never awaits it."""
from asgiref.sync import sync_to_async
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Sync positions from the broker."

    def add_arguments(self, parser):
        parser.add_argument("--account")

    # Django calls handle() and prints what it returns.
    async def handle(self, *args, account=None, **options):
        """Fetch the account's positions and store them."""
        positions = await fetch_positions(account)
        await sync_to_async(store)(positions)
        return f"{len(positions)} positions"


async def fetch_positions(account):
    return []


def store(positions):
    return None
