"""The service layer on the real SDK and the fake broker: sessions, tokens, twins, transactions."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from tastytrade.utils import TastytradeError

from async_guard.bridge import BridgeError, run_async
from services import broker as broker_module
from services.broker import BrokerConfigError, BrokerCredentials, credentials_for, open_session
from services.data_access import (
    NoTradingAccount,
    get_oauth_session,
    get_primary_tastytrade_account,
)
from services.execution.order_service import OrderExecutionService
from services.market_data import MarketDataService, is_option_symbol
from services.utils.async_utils import run_async as services_run_async
from trading import demo
from trading.models import Position, Trade
from trading.sandbox.server import SandboxBroker, SandboxServer

pytestmark = [
    pytest.mark.async_guard_strict,
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
]

ALICE = BrokerCredentials(demo.USERS[0].account_number, demo.USERS[0].refresh_token)


async def _account_number(credentials: BrokerCredentials) -> str:
    async with open_session(credentials) as session:
        account = await broker_module.get_account(session, credentials.account_number)
        return str(account.account_number)


def test_the_services_import_path_is_the_bridge() -> None:
    assert services_run_async is run_async


def test_the_access_token_is_cached_between_bridged_calls_without_credentials(
    sandbox: SandboxServer, broker: SandboxBroker
) -> None:
    assert run_async(_account_number, ALICE) == ALICE.account_number
    assert run_async(_account_number, ALICE) == ALICE.account_number
    assert broker.count("POST", "^/oauth/token$") == 1
    cached = cache.get(ALICE.cache_key(sandbox.url))
    assert json.loads(cached)["session_token"]
    assert ALICE.refresh_token not in cached and demo.PROVIDER_SECRET not in cached
    assert ALICE.refresh_token not in repr(ALICE)


def test_a_token_the_broker_stopped_accepting_is_dropped_and_the_next_call_logs_in(
    sandbox: SandboxServer, broker: SandboxBroker
) -> None:
    run_async(_account_number, ALICE)
    broker.expire_tokens()
    with pytest.raises(TastytradeError, match="invalid_token"):
        run_async(_account_number, ALICE)
    assert cache.get(ALICE.cache_key(sandbox.url)) is None
    assert run_async(_account_number, ALICE) == ALICE.account_number
    assert broker.count("POST", "^/oauth/token$") == 2


def test_configuration_errors_name_what_to_set(
    sandbox: SandboxServer, settings: Any, demo_positions: dict[str, Position]
) -> None:
    account = demo_positions["ok"].account
    account.refresh_token = ""
    with pytest.raises(BrokerConfigError, match="5WT00001 has no refresh token"):
        credentials_for(account)
    settings.TASTYTRADE_PROVIDER_SECRET = ""
    with pytest.raises(BrokerConfigError, match="TASTYTRADE_PROVIDER_SECRET is empty"):
        run_async(_account_number, ALICE)


def test_primary_account_and_oauth_session_for_a_user(
    sandbox: SandboxServer, demo_positions: dict[str, Position]
) -> None:
    user = demo_positions["ok"].user

    async def who() -> tuple[str, str]:
        account = await get_primary_tastytrade_account(user)
        async with get_oauth_session(user) as session:
            remote = await broker_module.get_account(session, account.account_number)
        # select_related("user"): reading the relation makes no query in async code.
        return account.user.username, str(remote.nickname)

    assert run_async(who) == ("alice", "Demo 5WT00001")
    nobody = get_user_model().objects.create(username="nobody")
    with pytest.raises(NoTradingAccount, match=f"user {nobody.pk} has no active primary"):
        run_async(get_primary_tastytrade_account, nobody)


def test_create_profit_targets_sync_writes_in_the_callers_transaction(
    sandbox: SandboxServer, broker: SandboxBroker, demo_positions: dict[str, Position]
) -> None:
    position = demo_positions["missing"]
    service = OrderExecutionService(position.user)
    with pytest.raises(RuntimeError, match="caller rolls back"):
        with transaction.atomic():
            result = service.create_profit_targets_sync(position, "1002")
            assert Trade.objects.filter(broker_order_id=result.placed).exists()
            raise RuntimeError("caller rolls back")
    # The ORM work inside the async method ran on this thread's connection: rolled back too.
    assert not Trade.objects.filter(broker_order_id=result.placed).exists()
    position.refresh_from_db()
    assert position.child_order_ids == []

    again = service.create_profit_targets_sync(position, "1002")
    assert again.kept == result.placed  # found at the broker by its client reference
    position.refresh_from_db()
    assert position.child_order_ids == [result.placed]
    assert position.profit_target_details["price"] == "0.90"
    dry = service.create_profit_targets_sync(position, "1002", dry_run=True)
    assert dry.kept == result.placed and not dry.cancelled


def test_cancel_order_sync_and_async_from_a_running_loop(
    sandbox: SandboxServer, broker: SandboxBroker, demo_positions: dict[str, Position]
) -> None:
    service = OrderExecutionService(demo_positions["ok"].user)
    assert service.cancel_order_sync("2001") is True
    assert Trade.objects.get(broker_order_id="2001").status == Trade.Status.CANCELLED
    assert 2001 in {o["id"] for o in broker.orders(ALICE.account_number, status="Cancelled")}

    async def twin_inside_a_loop() -> None:
        service.cancel_order_sync("2001")

    with pytest.raises(BridgeError, match="already running an event loop"):
        run_async(twin_inside_a_loop)


def test_get_quote_sync_for_equities_and_options(
    sandbox: SandboxServer, demo_positions: dict[str, Position]
) -> None:
    service = MarketDataService(demo_positions["ok"].user)
    quote = service.get_quote_sync("SPY")
    assert (quote.bid, quote.ask, quote.mark) == (
        Decimal("598.10"),
        Decimal("598.14"),
        Decimal("598.120"),
    )
    option = demo.option_symbol("QQQ", 520)
    assert is_option_symbol(option) and not is_option_symbol("SPY")
    assert service.get_quote_sync(option).symbol == option
    with pytest.raises(TastytradeError, match="no quote for NOPE"):
        service.get_quote_sync("NOPE")
