"""Profit targets for call spreads: what the order should be, and making the broker agree.

Three layers, kept apart so that each runs where it belongs:

* :func:`target_for` (pure): the buy-to-close limit order a position should
  have, and its client reference, from a :class:`PositionSnapshot`;
* :func:`reconcile_profit_target` (pure async, no ORM): re-reads the broker's
  live orders, cancels stale targets, places the right one unless it is
  already there, and finds an order the broker accepted even when the answer
  was lost (timeout, dropped connection);
* :func:`record_reconciliation` (sync ORM): writes the outcome to the position
  and its trades, writing nothing when nothing changed (so twice == once).

The client reference (the order's ``external-identifier``) encodes the
position and the order's exact legs and price: an order with the reference
we are about to use *is* the order we want, wherever it came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone
from tastytrade import Account, Session
from tastytrade.order import (
    InstrumentType,
    Leg,
    LimitOrder,
    OrderAction,
    OrderStatus,
    OrderTimeInForce,
    OrderType,
    PlacedOrder,
)

from services.broker import BROKER_ERRORS

if TYPE_CHECKING:
    from trading.models import Position

DEFAULT_PROFIT_PCT = Decimal("50")
CENT = Decimal("0.01")
ACTIVE = frozenset(
    {
        OrderStatus.RECEIVED,
        OrderStatus.ROUTED,
        OrderStatus.IN_FLIGHT,
        OrderStatus.LIVE,
        OrderStatus.CONTINGENT,
    }
)
#: the action that closes a leg opened with the key
CLOSING_ACTION = {"Sell to Open": "Buy to Close", "Buy to Open": "Sell to Close"}
TRADE_STATUS = {
    OrderStatus.LIVE: "live",
    OrderStatus.RECEIVED: "live",
    OrderStatus.ROUTED: "live",
    OrderStatus.IN_FLIGHT: "live",
    OrderStatus.CONTINGENT: "live",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.EXPIRED: "cancelled",
    OrderStatus.REMOVED: "cancelled",
    OrderStatus.REJECTED: "rejected",
}


class ProfitTargetError(ValueError):
    """A position whose profit target cannot be computed (bad legs, bad numbers)."""


@dataclass(frozen=True, order=True)
class LegSpec:
    symbol: str
    action: str
    quantity: int


@dataclass(frozen=True)
class PositionSnapshot:
    """The plain data an async helper needs about a position: no model, no lazy relation."""

    id: int
    account_number: str
    symbol: str
    legs: tuple[LegSpec, ...]
    quantity: int
    opening_credit: Decimal
    child_order_ids: tuple[str, ...]
    parent_order_id: str = ""

    @classmethod
    def of(cls, position: Position, parent_order_id: str = "") -> PositionSnapshot:
        """Built in sync code from a position fetched with ``select_related("account")``."""
        try:
            legs = tuple(
                LegSpec(str(leg["symbol"]), str(leg["action"]), int(leg["quantity"]))
                for leg in position.legs
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfitTargetError(
                f"position {position.pk}: legs must be a list of "
                f"{{symbol, action, quantity}}, got {position.legs!r}"
            ) from exc
        return cls(
            id=int(position.pk),
            account_number=position.account.account_number,
            symbol=position.symbol,
            legs=legs,
            quantity=position.quantity,
            opening_credit=Decimal(position.opening_credit),
            child_order_ids=tuple(str(i) for i in position.child_order_ids or ()),
            parent_order_id=str(parent_order_id or ""),
        )


@dataclass(frozen=True)
class TargetSpec:
    """The profit-target order a position should have at the broker."""

    position_id: int
    legs: tuple[LegSpec, ...]
    debit: Decimal  # what we pay to close, > 0
    profit_pct: Decimal
    client_ref: str

    def order(self) -> LimitOrder:
        return LimitOrder(
            time_in_force=OrderTimeInForce.GTC,
            legs=[
                Leg(
                    instrument_type=InstrumentType.EQUITY_OPTION,
                    symbol=leg.symbol,
                    action=OrderAction(leg.action),
                    quantity=leg.quantity,
                )
                for leg in self.legs
            ],
            price=-self.debit,  # negative: a debit
            external_identifier=self.client_ref,
        )

    def matches(self, order: PlacedOrder) -> bool:
        legs = sorted(
            LegSpec(leg.symbol, leg.action.value, int(leg.quantity or 0)) for leg in order.legs
        )
        return (
            order.order_type == OrderType.LIMIT
            and order.price is not None
            and order.price == -self.debit
            and legs == sorted(self.legs)
        )

    def details(self, order_id: str) -> dict[str, Any]:
        return {
            "order_id": order_id,
            "client_ref": self.client_ref,
            "price": str(self.debit),
            "profit_pct": str(self.profit_pct),
            "legs": [
                {"symbol": x.symbol, "action": x.action, "quantity": x.quantity} for x in self.legs
            ],
        }


def client_ref_prefix(position_id: int) -> str:
    return f"ag-pt-{position_id}-"


def target_for(snapshot: PositionSnapshot, profit_pct: Decimal) -> TargetSpec:
    """Buy back the spread at ``opening_credit * (1 - profit_pct/100)``, every leg closed."""
    if not Decimal(0) < profit_pct < Decimal(100):
        raise ProfitTargetError(f"profit percentage must be between 0 and 100, got {profit_pct}")
    if len(snapshot.legs) != 2 or {leg.action for leg in snapshot.legs} != set(CLOSING_ACTION):
        raise ProfitTargetError(
            f"position {snapshot.id}: a call spread needs one 'Sell to Open' and one "
            f"'Buy to Open' leg, got {[leg.action for leg in snapshot.legs]}"
        )
    if snapshot.opening_credit <= 0:
        raise ProfitTargetError(
            f"position {snapshot.id}: opening credit must be > 0, got {snapshot.opening_credit}"
        )
    debit = (snapshot.opening_credit * (100 - profit_pct) / 100).quantize(CENT, ROUND_HALF_UP)
    debit = max(debit, CENT)
    closing = (LegSpec(x.symbol, CLOSING_ACTION[x.action], x.quantity) for x in snapshot.legs)
    legs = tuple(sorted(closing))
    fingerprint = "|".join(f"{x.symbol},{x.action},{x.quantity}" for x in legs) + f"|{debit}"
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:12]
    return TargetSpec(snapshot.id, legs, debit, profit_pct, client_ref_prefix(snapshot.id) + digest)


@dataclass
class Reconciliation:
    """What the broker had for one position, and what was (or would be) done about it."""

    position_id: int
    spec: TargetSpec
    dry_run: bool
    kept: str | None = None
    placed: str | None = None
    adopted: bool = False  # placed, but found by re-reading after the answer was lost
    cancelled: list[str] = field(default_factory=list)
    #: broker status of every order this position knew about (child ids, our references)
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def order_id(self) -> str | None:
        return self.kept or self.placed

    def describe(self) -> str:
        parts = []
        if self.cancelled:
            verb = "would cancel" if self.dry_run else "cancelled"
            parts.append(f"{verb} {', '.join(self.cancelled)}")
        if self.kept:
            parts.append(f"kept {self.kept}")
        elif self.placed:
            parts.append(
                f"placed {self.placed}" + (" (found after lost answer)" if self.adopted else "")
            )
        else:
            parts.append(
                f"would place buy-to-close {self.spec.debit} debit ref {self.spec.client_ref}"
            )
        return "; ".join(parts)


def _is_ours(order: PlacedOrder, snapshot: PositionSnapshot) -> bool:
    ref = order.external_identifier or ""
    return (
        ref.startswith(client_ref_prefix(snapshot.id)) or str(order.id) in snapshot.child_order_ids
    )


async def _cancel(session: Session, account: Account, order_id: int) -> None:
    try:
        await account.delete_order(session, order_id)
    except BROKER_ERRORS:
        # Cancelled or filled meanwhile (or the answer was lost after it worked)?
        order = await account.get_order(session, order_id)
        if order.status in ACTIVE:
            raise


async def _find_by_ref(session: Session, account: Account, ref: str) -> PlacedOrder | None:
    for order in await account.get_live_orders(session):
        if order.external_identifier == ref and order.status in ACTIVE:
            return order
    return None


async def reconcile_profit_target(
    session: Session,
    account: Account,
    snapshot: PositionSnapshot,
    spec: TargetSpec,
    *,
    dry_run: bool,
) -> Reconciliation:
    """Make the broker hold exactly one correct profit target for the position (pure async)."""
    result = Reconciliation(snapshot.id, spec, dry_run)
    orders = await account.get_live_orders(session)
    ours = [o for o in orders if _is_ours(o, snapshot) and str(o.id) != snapshot.parent_order_id]
    result.statuses = {str(o.id): o.status.value for o in ours}
    live = [o for o in ours if o.status in ACTIVE]
    keep = next((o for o in live if o.external_identifier == spec.client_ref), None)
    keep = keep or next((o for o in live if spec.matches(o)), None)
    stale = [o for o in live if o is not keep]
    result.cancelled = [str(o.id) for o in stale]
    result.kept = str(keep.id) if keep else None
    if dry_run:
        if keep is None:
            # The broker's own check of the order (no write: the dry-run endpoint).
            await account.place_order(session, spec.order(), dry_run=True)
        return result
    for order in stale:
        await _cancel(session, account, order.id)
        result.statuses[str(order.id)] = OrderStatus.CANCELLED.value
    if keep is None:
        placed: PlacedOrder
        try:
            response = await account.place_order(session, spec.order(), dry_run=False)
            placed = response.order
        except BROKER_ERRORS:
            # The broker may have booked it before the answer was lost: look before retrying.
            found = await _find_by_ref(session, account, spec.client_ref)
            if found is None:
                raise
            placed, result.adopted = found, True
        result.placed = str(placed.id)
        result.statuses[str(placed.id)] = placed.status.value
    return result


def record_reconciliation(position: Position, result: Reconciliation) -> bool:
    """Write a (non-dry-run) reconciliation to the database; return whether anything changed.

    Call it inside the ``transaction.atomic()`` that holds the position's
    ``select_for_update()`` lock. Writes nothing when the database already
    agrees, so a second run leaves every row (``updated_at`` included) as it was.
    """
    from trading.models import Trade

    order_id = result.order_id
    if result.dry_run or order_id is None:
        raise ValueError("only a completed, non-dry-run reconciliation can be recorded")
    changed = False
    details = result.spec.details(order_id)
    if position.child_order_ids != [order_id] or position.profit_target_details != details:
        position.child_order_ids = [order_id]
        position.profit_target_details = details
        position.save(update_fields=["child_order_ids", "profit_target_details", "updated_at"])
        changed = True
    now = timezone.now()
    for broker_id, status in result.statuses.items():
        trade_status = TRADE_STATUS.get(OrderStatus(status), "live")
        if broker_id == order_id:
            continue
        changed |= bool(
            Trade.objects.filter(position=position, kind=Trade.Kind.PROFIT_TARGET)
            .filter(broker_order_id=broker_id)
            .filter(~Q(status=trade_status))
            .update(status=trade_status, updated_at=now)
        )
    _, created = Trade.objects.get_or_create(
        position=position,
        kind=Trade.Kind.PROFIT_TARGET,
        broker_order_id=order_id,
        defaults={
            "status": Trade.Status.LIVE,
            "price": result.spec.debit,
            "quantity": position.quantity,
        },
    )
    changed |= created
    changed |= bool(
        Trade.objects.filter(
            position=position, kind=Trade.Kind.PROFIT_TARGET, broker_order_id=order_id
        )
        .exclude(status=Trade.Status.LIVE, price=result.spec.debit)
        .update(status=Trade.Status.LIVE, price=result.spec.debit, updated_at=now)
    )
    return changed
