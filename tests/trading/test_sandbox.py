"""The fake broker, driven by the unmodified tastytrade SDK over real HTTP."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from decimal import Decimal

import httpx2
import pytest
import tastytrade.session
from tastytrade import Account, Session
from tastytrade.market_data import get_market_data_by_type
from tastytrade.order import InstrumentType, Leg, LimitOrder, OrderAction, OrderStatus
from tastytrade.utils import TastytradeError

from async_guard.bridge import run_async
from services.broker import configure_sdk
from trading import demo
from trading.sandbox.server import Fault, SandboxBroker, SandboxServer

pytestmark = [
    pytest.mark.async_guard_strict,
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
]

ALICE = demo.USERS[0]


def _session(timeout: float = 2.0) -> Session:
    return Session(demo.PROVIDER_SECRET, ALICE.refresh_token, timeout=timeout)


def _closing_order(ref: str | None = None) -> LimitOrder:
    spread = demo.SPREADS[1]
    return LimitOrder(
        legs=[
            Leg(
                instrument_type=InstrumentType.EQUITY_OPTION,
                symbol=str(leg["symbol"]),
                action=OrderAction.BUY_TO_CLOSE
                if leg["action"] == "Sell to Open"
                else OrderAction.SELL_TO_CLOSE,
                quantity=int(str(leg["quantity"])),
            )
            for leg in spread.legs
        ],
        price=Decimal("-0.90"),
        external_identifier=ref,
    )


@pytest.fixture
def sdk(sandbox: SandboxServer) -> SandboxServer:
    configure_sdk()
    assert tastytrade.session.API_URL == sandbox.url  # type: ignore[attr-defined]
    return sandbox


def test_sdk_reads_accounts_positions_orders_and_quotes(
    sdk: SandboxServer, broker: SandboxBroker
) -> None:
    async def read() -> tuple[object, ...]:
        async with _session() as session:
            accounts = await Account.get(session)
            account = await Account.get(session, ALICE.account_number)
            positions = await account.get_positions(session)
            orders = await account.get_live_orders(session)
            quotes = await get_market_data_by_type(
                session, equities=["SPY"], options=[demo.option_symbol("SPY", 600)]
            )
            return accounts, account, positions, orders, quotes

    accounts, account, positions, orders, quotes = run_async(read)
    assert [a.account_number for a in accounts] == [ALICE.account_number]  # type: ignore[attr-defined]
    assert account.nickname == f"Demo {ALICE.account_number}"  # type: ignore[attr-defined]
    assert (
        {p.symbol for p in positions}
        == {  # type: ignore[attr-defined]
            str(leg["symbol"]) for s in demo.SPREADS[:3] for leg in s.legs
        }
    )
    by_id = {o.id: o for o in orders}  # type: ignore[attr-defined]
    assert by_id[1001].status == OrderStatus.FILLED
    assert by_id[2001].status == OrderStatus.LIVE and by_id[2001].price == Decimal("-1.20")
    assert by_id[2003].status == OrderStatus.CANCELLED
    assert [q.symbol for q in quotes] == ["SPY", demo.option_symbol("SPY", 600)]  # type: ignore[attr-defined]
    assert quotes[0].mark == Decimal("598.120")  # type: ignore[index]
    assert broker.count("POST", "^/oauth/token$") == 1


def test_place_live_and_dry_run_then_delete(sdk: SandboxServer, broker: SandboxBroker) -> None:
    before = broker.snapshot()

    async def dry() -> object:
        async with _session() as session:
            account = await Account.get(session, ALICE.account_number)
            return await account.place_order(session, _closing_order("dry"), dry_run=True)

    response = run_async(dry)
    assert response.order.external_identifier == "dry"  # type: ignore[attr-defined]
    assert broker.snapshot() == before

    async def place_and_cancel() -> tuple[int, OrderStatus]:
        async with _session() as session:
            account = await Account.get(session, ALICE.account_number)
            placed = await account.place_order(session, _closing_order("ref-1"), dry_run=False)
            await account.delete_order(session, placed.order.id)
            again = await account.get_order(session, placed.order.id)
            return placed.order.id, again.status

    order_id, status = run_async(place_and_cancel)
    assert status == OrderStatus.CANCELLED
    (order,) = [o for o in broker.orders(ALICE.account_number) if o["id"] == order_id]
    assert order["external-identifier"] == "ref-1"
    assert order["price"] == "0.90" and order["price-effect"] == "Debit"


@pytest.mark.parametrize(
    ("kind", "error", "booked"),
    [
        ("http500", TastytradeError, False),
        ("http401", TastytradeError, False),
        ("timeout", httpx2.TimeoutException, True),
        ("drop", httpx2.RemoteProtocolError, True),
    ],
)
def test_faults_on_place(
    sdk: SandboxServer, broker: SandboxBroker, kind: str, error: type[Exception], booked: bool
) -> None:
    broker.inject(Fault("POST", r"/orders$", kind, delay=2.5))
    count = len(broker.orders(ALICE.account_number))

    async def place() -> None:
        async with _session(timeout=1.0) as session:
            account = await Account.get(session, ALICE.account_number)
            await account.place_order(session, _closing_order(f"f-{kind}"), dry_run=False)

    with pytest.raises(error):
        run_async(place)
    orders = broker.orders(ALICE.account_number)
    assert len(orders) == count + booked
    # The fault was used up: the same call now works.
    run_async(place)
    assert len(broker.orders(ALICE.account_number)) == count + booked + 1


def test_bad_credentials_and_expired_tokens_are_refused(
    sdk: SandboxServer, broker: SandboxBroker
) -> None:
    async def login(secret: str, refresh: str) -> None:
        async with Session(secret, refresh) as session:
            await Account.get(session)

    with pytest.raises(TastytradeError, match="provider secret rejected"):
        run_async(login, "wrong", ALICE.refresh_token)
    with pytest.raises(TastytradeError, match="refresh token rejected"):
        run_async(login, demo.PROVIDER_SECRET, "stolen")

    async def other_account() -> None:
        async with _session() as session:
            await Account.get(session, demo.USERS[1].account_number)

    with pytest.raises(TastytradeError, match="is not yours"):
        run_async(other_account)

    async def expire_midway() -> None:
        async with _session() as session:
            await Account.get(session)
            broker.expire_tokens()
            await Account.get(session)

    with pytest.raises(TastytradeError, match="invalid_token"):
        run_async(expire_midway)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_session_used_on_a_second_loop_fails_event_loop_is_closed(sdk: SandboxServer) -> None:
    """Measured, not assumed: why a Session must live inside one bridged call."""
    session = _session()
    run_async(Account.get, session)  # first loop: opens the httpx client's connection
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        run_async(Account.get, session)  # second loop: the pooled connection is dead


def test_control_endpoints(sandbox: SandboxServer, broker: SandboxBroker) -> None:
    request = urllib.request.Request(
        sandbox.url + "/_sandbox/faults",
        data=json.dumps({"method": "GET", "path": "/positions", "kind": "http500"}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 201
    with urllib.request.urlopen(sandbox.url + "/_sandbox/state", timeout=5) as response:
        state = json.load(response)
    assert state["faults"][0]["kind"] == "http500"
    assert state["accounts"][ALICE.account_number]["orders"]["2001"]["status"] == "Live"
    bad = urllib.request.Request(
        sandbox.url + "/_sandbox/faults", data=b'{"kind": "meteor"}', method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(bad, timeout=5)
    assert info.value.code == 400
    clear = urllib.request.Request(sandbox.url + "/_sandbox/faults", method="DELETE")
    with urllib.request.urlopen(clear, timeout=5) as response:
        assert json.load(response) == {"faults": []}


def test_server_only_listens_on_loopback_and_stops(broker: SandboxBroker) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(broker, host="0.0.0.0")
    server = SandboxServer(broker).start()
    url = server.url
    server.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/_sandbox/state", timeout=2)


def test_fault_kind_is_checked() -> None:
    with pytest.raises(ValueError, match="use one of"):
        Fault("GET", "/", "meteor")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_async_run_loop_bound_client_is_not_reused_across_asyncio_runs(sdk: SandboxServer) -> None:
    # Same lesson with plain asyncio.run: two loops, one client.
    session = _session()
    asyncio.run(Account.get(session))
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        asyncio.run(Account.get(session))
