"""Pull positions and live orders from the broker and reconcile the local positions.

:func:`fetch_account_state` is pure async (no ORM) and returns plain data;
:func:`reconcile_account` is sync ORM code, one ``transaction.atomic()`` per
position with a ``select_for_update()`` lock, writing only what changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from tastytrade.order import OrderStatus

from services.broker import BrokerCredentials, get_account, open_session
from services.profit_targets import TRADE_STATUS
from trading.models import Position, Trade, TradingAccount


@dataclass(frozen=True)
class AccountState:
    account_number: str
    #: option/equity symbols held, with their signed quantity
    holdings: dict[str, int]
    #: broker order id -> order status, for today's orders
    orders: dict[str, str]


@dataclass
class SyncSummary:
    accounts: int = 0
    positions_closed: list[int] = field(default_factory=list)
    trades_updated: int = 0

    def merge(self, other: SyncSummary) -> None:
        self.accounts += other.accounts
        self.positions_closed += other.positions_closed
        self.trades_updated += other.trades_updated

    def as_dict(self) -> dict[str, object]:
        return {
            "accounts": self.accounts,
            "positions_closed": sorted(self.positions_closed),
            "trades_updated": self.trades_updated,
        }


async def fetch_account_state(credentials: BrokerCredentials) -> AccountState:
    async with open_session(credentials) as session:
        account = await get_account(session, credentials.account_number)
        positions = await account.get_positions(session)
        orders = await account.get_live_orders(session)
    holdings = {
        p.symbol: int(p.quantity) * (-1 if p.quantity_direction == "Short" else 1)
        for p in positions
    }
    return AccountState(
        credentials.account_number, holdings, {str(o.id): o.status.value for o in orders}
    )


async def fetch_many(
    credentials: Sequence[BrokerCredentials],
) -> list[AccountState | BaseException]:
    """Every account at once on one loop, one session each; failures returned, not raised."""
    return await asyncio.gather(
        *(fetch_account_state(c) for c in credentials), return_exceptions=True
    )


def reconcile_account(account: TradingAccount, state: AccountState) -> SyncSummary:
    summary = SyncSummary(accounts=1)
    now = timezone.now()
    open_ids = list(
        Position.objects.filter(account=account)
        .exclude(status=Position.Status.CLOSED)
        .values_list("pk", flat=True)
    )
    for position_id in open_ids:
        with transaction.atomic():
            position = Position.objects.select_for_update().get(pk=position_id)
            if position.status == Position.Status.CLOSED:
                continue
            trades = list(
                Trade.objects.filter(position=position, broker_order_id__in=list(state.orders))
            )
            for trade in trades:
                status = TRADE_STATUS.get(OrderStatus(state.orders[trade.broker_order_id]))
                if status and status != trade.status:
                    trade.status = status
                    trade.updated_at = now
                    trade.save(update_fields=["status", "updated_at"])
                    summary.trades_updated += 1
            target_filled = any(
                t.kind == Trade.Kind.PROFIT_TARGET and t.status == Trade.Status.FILLED
                for t in trades
            )
            held = any(str(leg.get("symbol")) in state.holdings for leg in position.legs)
            if target_filled or not held:
                position.status = Position.Status.CLOSED
                position.save(update_fields=["status", "updated_at"])
                summary.positions_closed.append(position.pk)
    return summary
