"""Order execution for the service layer: async methods and their ``_sync`` twins.

Use the async methods from async code (an async view, a consumer) and the
``_sync`` twins from sync code (a Celery task, a management command). A twin
is :func:`async_guard.bridge.sync_twin`: it bridges with ``async_to_sync``, so
the ORM work of the async method (async ORM, ``sync_to_async``) runs on the
calling thread, inside the caller's ``transaction.atomic()``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.utils import timezone

from async_guard.bridge import sync_twin
from services.broker import cancel_order_at_broker, credentials_for, get_account, open_session
from services.data_access import get_primary_tastytrade_account
from services.profit_targets import (
    DEFAULT_PROFIT_PCT,
    PositionSnapshot,
    Reconciliation,
    reconcile_profit_target,
    record_reconciliation,
    target_for,
)
from trading.models import Position, Trade


class OrderExecutionService:
    def __init__(self, user: Any) -> None:
        self.user = user

    async def create_profit_targets(
        self,
        position: Position,
        parent_order_id: str | int,
        *,
        profit_pct: Decimal = DEFAULT_PROFIT_PCT,
        dry_run: bool = False,
    ) -> Reconciliation:
        """Make the broker hold exactly one correct profit target for ``position``; record it.

        The position is read again (with its account) rather than trusted as
        passed in: its relations are then loaded, not lazily queried in async
        code, and the broker is compared with the database's latest state.
        """
        fresh = await Position.objects.select_related("account").aget(
            pk=position.pk, user=self.user
        )
        snapshot = PositionSnapshot.of(fresh, str(parent_order_id))
        spec = target_for(snapshot, profit_pct)
        credentials = credentials_for(fresh.account)
        async with open_session(credentials) as session:
            account = await get_account(session, credentials.account_number)
            result = await reconcile_profit_target(
                session, account, snapshot, spec, dry_run=dry_run
            )
        if not dry_run:
            await sync_to_async(record_reconciliation)(fresh, result)
        return result

    create_profit_targets_sync = sync_twin(create_profit_targets)

    async def cancel_order(self, order_id: str | int) -> bool:
        """Cancel an order in the user's primary account and mark its trade cancelled."""
        account = await get_primary_tastytrade_account(self.user)
        await cancel_order_at_broker(credentials_for(account), int(order_id))
        await Trade.objects.filter(
            broker_order_id=str(order_id), position__account=account
        ).aupdate(status=Trade.Status.CANCELLED, updated_at=timezone.now())
        return True

    cancel_order_sync = sync_twin(cancel_order)
