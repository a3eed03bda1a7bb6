"""Create the demo users, accounts, call spreads and trades that match the sandbox."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from trading import demo


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo users alice and bob, their accounts and six call spreads, "
        "matching `manage.py tastytrade_sandbox`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", help="Set this password on the demo users (admin login).")

    def handle(self, *args: Any, **options: Any) -> None:
        positions = demo.seed_database(password=options["password"])
        for position, spread in zip(positions, demo.SPREADS, strict=True):
            self.stdout.write(
                f"position {position.pk}: {spread.username} {position.symbol} "
                f"{spread.short_strike}/{spread.long_strike} x{position.quantity} "
                f"credit {position.opening_credit} - profit target {spread.case}"
            )
        self.stdout.write(f"{len(positions)} demo positions ready.")
