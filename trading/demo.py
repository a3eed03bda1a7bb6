"""The demo world shared by ``manage.py tastytrade_sandbox`` and ``manage.py seed_demo``.

Two users, one account each, six call spreads, and at the fake broker the
orders that make each spread one of the cases ``fix_call_spread_profit_targets``
repairs (a target that points at another spread's legs, two live targets for one
spread). The broker's order ids are
fixed here so that the database rows ``seed_demo`` writes point at them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from services.profit_targets import CLOSING_ACTION
from trading.models import Position, Trade, TradingAccount
from trading.sandbox.server import SandboxBroker

PROVIDER_SECRET = "sandbox-provider-secret"
EXPIRY = "270115"  # 2027-01-15, in OCC symbol form


def option_symbol(underlying: str, strike: int, right: str = "C") -> str:
    """The OCC symbol tastytrade uses: root padded to 6, YYMMDD, C/P, strike x 1000 in 8."""
    return f"{underlying:<6}{EXPIRY}{right}{strike * 1000:08d}"


@dataclass(frozen=True)
class DemoUser:
    username: str
    account_number: str
    refresh_token: str


@dataclass(frozen=True)
class DemoSpread:
    """A short call spread and what the broker holds for its profit target."""

    username: str
    underlying: str
    short_strike: int
    long_strike: int
    quantity: int
    opening_credit: str
    opening_order_id: int
    # "ok" | "missing" | "cancelled" | "wrong_price" | "wrong_legs" | "duplicate"
    case: str
    target_order_ids: tuple[int, ...] = ()

    @property
    def legs(self) -> list[dict[str, object]]:
        return [
            {
                "symbol": option_symbol(self.underlying, self.short_strike),
                "action": "Sell to Open",
                "quantity": self.quantity,
            },
            {
                "symbol": option_symbol(self.underlying, self.long_strike),
                "action": "Buy to Open",
                "quantity": self.quantity,
            },
        ]


USERS = (
    DemoUser("alice", "5WT00001", "sandbox-refresh-alice"),
    DemoUser("bob", "5WT00002", "sandbox-refresh-bob"),
)

SPREADS = (
    DemoSpread("alice", "SPY", 600, 605, 1, "2.40", 1001, "ok", (2001,)),
    DemoSpread("alice", "QQQ", 520, 525, 2, "1.80", 1002, "missing"),
    DemoSpread("alice", "IWM", 240, 245, 1, "1.50", 1003, "cancelled", (2003,)),
    DemoSpread("bob", "SPY", 610, 615, 1, "2.00", 1004, "wrong_price", (2004,)),
    # A child order id that points at another spread's legs.
    DemoSpread("bob", "QQQ", 530, 535, 1, "1.60", 1005, "wrong_legs", (2005,)),
    # Two live profit targets for one spread.
    DemoSpread("bob", "DIA", 450, 455, 1, "2.20", 1006, "duplicate", (2006, 2007)),
)

QUOTES = {"SPY": ("598.10", "598.14"), "QQQ": ("515.20", "515.26"), "IWM": ("236.00", "236.04")}


def _closing_legs(legs: list[dict[str, object]]) -> list[dict[str, object]]:
    return [
        {
            "instrument-type": "Equity Option",
            "symbol": leg["symbol"],
            "action": CLOSING_ACTION[str(leg["action"])],
            "quantity": leg["quantity"],
        }
        for leg in legs
    ]


def target_debit(spread: DemoSpread, profit_pct: int = 50) -> Decimal:
    return (Decimal(spread.opening_credit) * (100 - profit_pct) / 100).quantize(Decimal("0.01"))


def load_broker(broker: SandboxBroker) -> SandboxBroker:
    """Put the demo accounts, positions, orders and quotes into a fake broker."""
    for user in USERS:
        broker.add_login(user.refresh_token, [user.account_number])
    accounts = {u.username: u.account_number for u in USERS}
    for spread in SPREADS:
        number = accounts[spread.username]
        for leg in spread.legs:
            short = leg["action"] == "Sell to Open"
            broker.add_position(
                number, str(leg["symbol"]), spread.quantity, short=short, price="1.00"
            )
        opening = [
            {"instrument-type": "Equity Option", **leg, "quantity": spread.quantity}
            for leg in spread.legs
        ]
        broker.add_order(
            number,
            opening,
            spread.opening_credit,
            status="Filled",
            order_id=spread.opening_order_id,
        )
        closing = _closing_legs(spread.legs)
        debit = f"-{target_debit(spread)}"
        if spread.case in {"ok", "duplicate"}:
            for order_id in spread.target_order_ids:
                broker.add_order(number, closing, debit, order_id=order_id)
        elif spread.case == "cancelled":
            broker.add_order(
                number, closing, debit, status="Cancelled", order_id=spread.target_order_ids[0]
            )
        elif spread.case == "wrong_price":
            broker.add_order(number, closing, "-0.50", order_id=spread.target_order_ids[0])
        elif spread.case == "wrong_legs":
            other = next(s for s in SPREADS if s.case == "missing")
            broker.add_order(
                number, _closing_legs(other.legs), debit, order_id=spread.target_order_ids[0]
            )
    for symbol, (bid, ask) in QUOTES.items():
        broker.set_quote(symbol, bid, ask)
    for spread in SPREADS:
        for leg in spread.legs:
            broker.set_quote(str(leg["symbol"]), "0.95", "1.05")
    return broker


def demo_broker() -> SandboxBroker:
    return load_broker(SandboxBroker(PROVIDER_SECRET))


@transaction.atomic
def seed_database(password: str | None = None) -> list[Position]:
    """Create (or reset) the demo users, accounts, positions and trades; return the positions."""
    user_model = get_user_model()
    positions = []
    accounts = {}
    for demo in USERS:
        user, _ = user_model.objects.get_or_create(username=demo.username)
        if password:
            user.set_password(password)
            user.save()
        account, _ = TradingAccount.objects.update_or_create(
            user=user,
            account_number=demo.account_number,
            defaults={"is_primary": True, "is_active": True, "refresh_token": demo.refresh_token},
        )
        Trade.objects.filter(position__account=account).delete()
        Position.objects.filter(account=account).delete()
        accounts[demo.username] = account
    for spread in SPREADS:
        account = accounts[spread.username]
        position = Position.objects.create(
            user=account.user,
            account=account,
            symbol=spread.underlying,
            strategy="call_spread",
            legs=spread.legs,
            quantity=spread.quantity,
            opening_credit=Decimal(spread.opening_credit),
            child_order_ids=[str(i) for i in spread.target_order_ids],
        )
        Trade.objects.create(
            position=position,
            broker_order_id=str(spread.opening_order_id),
            kind=Trade.Kind.OPEN,
            status=Trade.Status.FILLED,
            price=Decimal(spread.opening_credit),
            quantity=spread.quantity,
        )
        for order_id in spread.target_order_ids:
            Trade.objects.create(
                position=position,
                broker_order_id=str(order_id),
                kind=Trade.Kind.PROFIT_TARGET,
                status=Trade.Status.LIVE,
                price=target_debit(spread),
                quantity=spread.quantity,
            )
        positions.append(position)
    return positions
