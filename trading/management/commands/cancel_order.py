"""Cancel one order at the broker and mark its trade cancelled (a sync ``handle``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

import async_guard
from async_guard.bridge import run_async
from services.broker import (
    BROKER_ERRORS,
    BrokerConfigError,
    cancel_order_at_broker,
    credentials_for,
)
from trading.models import Trade, TradingAccount

FAILURES: tuple[type[Exception], ...] = (*BROKER_ERRORS, BrokerConfigError)


class Command(BaseCommand):
    help = (
        "Cancel ORDER_ID at the broker (found through its trade, or in --user's primary account)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("order_id", type=int, help="The broker's order id.")
        parser.add_argument("--user", help="Username whose primary account holds the order.")

    def handle(self, *args: Any, **options: Any) -> None:
        # The runtime guard watches the whole command as one unit of work.
        with async_guard.watch("manage.py cancel_order"):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        order_id: int = options["order_id"]
        trades = Trade.objects.filter(broker_order_id=str(order_id)).select_related(
            "position__account"
        )
        trade = trades.first()
        if trade is not None:
            account = trade.position.account
        elif options["user"]:
            found = TradingAccount.objects.filter(
                user__username=options["user"], is_primary=True, is_active=True
            ).first()
            if found is None:
                raise CommandError(f"--user {options['user']!r}: no active primary account")
            account = found
        else:
            raise CommandError(
                f"order {order_id} is not recorded on any trade: say whose it is with --user"
            )
        try:
            run_async(cancel_order_at_broker, credentials_for(account), order_id)
        except FAILURES as exc:
            raise CommandError(
                f"order {order_id} in {account.account_number}: {type(exc).__name__}: {exc}"
            ) from exc
        with transaction.atomic():
            updated = trades.update(status=Trade.Status.CANCELLED, updated_at=timezone.now())
        self.stdout.write(
            f"Cancelled order {order_id} in {account.account_number}; {updated} trade(s) marked."
        )
