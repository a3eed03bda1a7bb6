"""fix_call_spread_profit_targets against the fake broker: correct, idempotent, fault-safe."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core import serializers
from django.core.management import CommandError, call_command

from services.profit_targets import CLOSING_ACTION
from tests.trading.conftest import dump_database
from trading import demo
from trading.management.commands import fix_call_spread_profit_targets as fix_module
from trading.models import Position, Trade
from trading.sandbox.server import ACTIVE_STATUSES, Fault, SandboxBroker, SandboxServer

pytestmark = [
    pytest.mark.async_guard_strict,
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
]


def run_fix(*args: str) -> tuple[str, str, str | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command("fix_call_spread_profit_targets", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), str(exc)
    return out.getvalue(), err.getvalue(), None


def closing_legs(position: Position) -> list[tuple[str, str, str]]:
    legs = position.legs
    return sorted((x["symbol"], CLOSING_ACTION[x["action"]], str(x["quantity"])) for x in legs)


def live_targets(broker: SandboxBroker, position: Position) -> list[dict[str, Any]]:
    """Every live order at the broker that would close this spread (ours or not)."""
    number = position.account.account_number
    return [
        o
        for o in broker.orders(number)
        if o["status"] in ACTIVE_STATUSES
        and sorted((x["symbol"], x["action"], x["quantity"]) for x in o["legs"])
        == closing_legs(position)
    ]


def rows_of(position: Position) -> str:
    objects = [
        Position.objects.get(pk=position.pk),
        *Trade.objects.filter(position=position).order_by("pk"),
    ]
    return serializers.serialize("json", objects)


def is_fixed(broker: SandboxBroker, position: Position, pct: int = 50) -> bool:
    position.refresh_from_db()
    debit = (position.opening_credit * (100 - pct) / 100).quantize(Decimal("0.01"))
    targets = live_targets(broker, position)
    if (
        len(targets) != 1
        or targets[0]["price"] != str(debit)
        or targets[0]["price-effect"] != "Debit"
    ):
        return False
    order_id = str(targets[0]["id"])
    trade = Trade.objects.filter(position=position, broker_order_id=order_id).first()
    return (
        position.child_order_ids == [order_id]
        and position.profit_target_details["order_id"] == order_id
        and position.profit_target_details["price"] == str(debit)
        and trade is not None
        and trade.status == Trade.Status.LIVE
        and trade.kind == Trade.Kind.PROFIT_TARGET
    )


def assert_untouched_or_fixed(
    broker: SandboxBroker, positions: dict[str, Position], before: dict[str, str]
) -> None:
    for case, position in positions.items():
        assert len(live_targets(broker, position)) <= 1, f"{case}: two live profit targets"
        assert rows_of(position) == before[case] or is_fixed(broker, position), (
            f"{case}: half-written: {rows_of(position)}"
        )


def test_dry_run_changes_nothing_anywhere(
    sandbox: SandboxServer, broker: SandboxBroker, demo_positions: dict[str, Position]
) -> None:
    database, book = dump_database(), broker.snapshot()
    out, err, error = run_fix("--dry-run")
    assert error is None, err
    assert dump_database() == database
    assert broker.snapshot() == book
    assert out.count("PLAN") == 5
    assert "would cancel 2007; kept 2006" in out
    assert "6 checked, 5 would change, 0 failed." in out
    # The broker's own check ran for each order it would place, and nothing was booked.
    assert broker.count("POST", r"/orders/dry-run$") == 4
    assert broker.count("POST", r"/orders$") == broker.count("DELETE", "") == 0


def test_fixes_every_case_and_a_second_run_changes_nothing(
    sandbox: SandboxServer, broker: SandboxBroker, demo_positions: dict[str, Position]
) -> None:
    out, err, error = run_fix()
    assert error is None, err
    for case, position in demo_positions.items():
        assert is_fixed(broker, position), case
    bob = demo.USERS[1].account_number
    statuses = {o["id"]: o["status"] for o in broker.orders(bob)}
    assert statuses[2004] == statuses[2005] == statuses[2007] == "Cancelled"
    assert statuses[2006] == "Live"
    assert demo_positions["ok"].child_order_ids == ["2001"]
    assert demo_positions["duplicate"].child_order_ids == ["2006"]
    cancelled = Trade.objects.get(broker_order_id="2007")
    assert cancelled.status == Trade.Status.CANCELLED
    assert Trade.objects.get(broker_order_id="2003").status == Trade.Status.CANCELLED

    database, book = dump_database(), broker.snapshot()
    out, err, error = run_fix()
    assert error is None, err
    assert "6 checked, 0 changed, 0 failed." in out
    assert dump_database() == database
    assert broker.snapshot() == book


FAULTS = [
    pytest.param(Fault("DELETE", r"/orders/\d+$", "http500"), id="500-on-cancel"),
    pytest.param(Fault("POST", r"/orders$", "http500"), id="500-on-place"),
    pytest.param(Fault("POST", r"/orders$", "http500", times=3), id="500-on-every-place"),
    pytest.param(Fault("POST", r"/orders$", "timeout", delay=2.5), id="timeout-after-accept"),
    pytest.param(Fault("POST", r"/orders$", "drop"), id="dropped-after-accept"),
    pytest.param(Fault("DELETE", r"/orders/\d+$", "drop"), id="dropped-after-cancel"),
    pytest.param(Fault("GET", r"/orders/live$", "http500", times=2), id="500-on-read"),
    pytest.param(Fault("GET", r"/orders/live$", "http401"), id="401-on-read"),
    pytest.param(Fault("POST", r"^/oauth/token$", "http500"), id="500-on-login"),
]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_at_any_step_leaves_positions_untouched_or_fixed_and_the_next_run_converges(
    sandbox: SandboxServer,
    broker: SandboxBroker,
    demo_positions: dict[str, Position],
    fault: Fault,
) -> None:
    before = {case: rows_of(p) for case, p in demo_positions.items()}
    broker.inject(fault)
    out, err, error = run_fix()
    assert fault.times == 0, "the fault never fired"
    assert_untouched_or_fixed(broker, demo_positions, before)
    if fault.kind in {"timeout", "drop"} and fault.method == "POST":
        # The order went through; the re-read found it instead of placing a second one.
        assert error is None, err
        assert "found after lost answer" in out
    elif fault.kind != "drop":
        assert error and "run the command again" in error
        assert "FAILED, left unchanged" in err

    broker.clear_faults()
    out, err, error = run_fix()
    assert error is None, err
    for case, position in demo_positions.items():
        assert is_fixed(broker, position), case
    database, book = dump_database(), broker.snapshot()
    assert "0 changed" in run_fix()[0]
    assert (dump_database(), broker.snapshot()) == (database, book)


def test_killed_between_the_broker_call_and_the_database_write(
    sandbox: SandboxServer,
    broker: SandboxBroker,
    demo_positions: dict[str, Position],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = {case: rows_of(p) for case, p in demo_positions.items()}
    real_record = fix_module.Command._record

    def dies_on_the_third(self: Any, position: Position, result: Any) -> bool:
        if position.pk == demo_positions["cancelled"].pk:
            raise SystemExit("killed")
        return real_record(self, position, result)

    monkeypatch.setattr(fix_module.Command, "_record", dies_on_the_third)
    with pytest.raises(SystemExit):
        run_fix()
    # The order is at the broker, the database never heard of it: rolled back, not half-written.
    assert rows_of(demo_positions["cancelled"]) == before["cancelled"]
    assert len(live_targets(broker, demo_positions["cancelled"])) == 1
    assert is_fixed(broker, demo_positions["ok"]) and is_fixed(broker, demo_positions["missing"])
    assert rows_of(demo_positions["wrong_price"]) == before["wrong_price"]

    monkeypatch.setattr(fix_module.Command, "_record", real_record)
    placed_before = broker.count("POST", r"/orders$")
    out, err, error = run_fix()
    assert error is None, err
    for case, position in demo_positions.items():
        assert is_fixed(broker, position), case
    # The orphan was adopted by its client reference, not placed again.
    assert f"position {demo_positions['cancelled'].pk} IWM: kept" in out
    assert broker.count("POST", r"/orders$") == placed_before + 2  # wrong_price, wrong_legs


def test_options_select_positions_and_price(
    sandbox: SandboxServer, broker: SandboxBroker, demo_positions: dict[str, Position]
) -> None:
    missing, wrong = demo_positions["missing"], demo_positions["wrong_price"]
    out, _err, error = run_fix("--position-id", str(missing.pk), "--position-id", str(wrong.pk))
    assert error is None and "2 checked, 2 changed" in out
    assert is_fixed(broker, missing) and is_fixed(broker, wrong)
    assert not is_fixed(broker, demo_positions["duplicate"])

    out, _err, error = run_fix("--user", "bob", "--profit-pct", "25")
    assert error is None and "3 checked, 3 changed" in out
    for case in ("wrong_price", "wrong_legs", "duplicate"):
        assert is_fixed(broker, demo_positions[case], pct=25), case
    untouched = demo_positions["ok"]  # alice's: neither selected by id nor by --user
    untouched.refresh_from_db()
    assert untouched.profit_target_details == {} and untouched.child_order_ids == ["2001"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--profit-pct", "abc"), "--profit-pct must be a number between 0 and 100, got 'abc'"),
        (("--profit-pct", "100"), "--profit-pct must be a number between 0 and 100"),
        (("--user", "nobody"), "--user 'nobody': no such user"),
    ],
)
def test_bad_options_are_named(
    sandbox: SandboxServer, demo_positions: dict[str, Position], args: tuple[str, ...], message: str
) -> None:
    before = dump_database()
    _, _, error = run_fix(*args)
    assert error is not None and message in error
    assert dump_database() == before


def test_unknown_position_and_bad_legs_are_reported_and_the_run_goes_on(
    sandbox: SandboxServer, broker: SandboxBroker, demo_positions: dict[str, Position]
) -> None:
    broken = demo_positions["missing"]
    Position.objects.filter(pk=broken.pk).update(legs=[{"symbol": "X"}])
    _out, err, error = run_fix()
    assert "--position-id" not in err
    assert f"position {broken.pk}: FAILED, left unchanged: ProfitTargetError" in err
    assert "legs must be a list of {symbol, action, quantity}" in err
    assert error is not None
    assert is_fixed(broker, demo_positions["duplicate"])
    _, err, _ = run_fix("--position-id", "999999")
    assert "--position-id 999999: not an open call spread, skipped" in err


def test_missing_provider_secret_is_a_clear_failure(
    sandbox: SandboxServer, demo_positions: dict[str, Position], settings: Any
) -> None:
    settings.TASTYTRADE_PROVIDER_SECRET = ""
    _, err, error = run_fix("--position-id", str(demo_positions["missing"].pk))
    assert "TASTYTRADE_PROVIDER_SECRET is empty" in err and error


def test_cancel_order_command(
    sandbox: SandboxServer, broker: SandboxBroker, demo_positions: dict[str, Position]
) -> None:
    out = StringIO()
    call_command("cancel_order", "2001", stdout=out)
    assert "Cancelled order 2001 in 5WT00001; 1 trade(s) marked." in out.getvalue()
    assert Trade.objects.get(broker_order_id="2001").status == Trade.Status.CANCELLED
    alice = demo.USERS[0].account_number
    assert {o["id"]: o["status"] for o in broker.orders(alice)}[2001] == "Cancelled"

    with pytest.raises(
        CommandError, match="not recorded on any trade: say whose it is with --user"
    ):
        call_command("cancel_order", "5")
    with pytest.raises(CommandError, match="order_not_cancellable"):
        call_command("cancel_order", "2001")
    with pytest.raises(CommandError, match="order_not_found"):
        call_command("cancel_order", "424242", "--user", "alice")
    with pytest.raises(CommandError, match="--user 'carol': no active primary account"):
        call_command("cancel_order", "424242", "--user", "carol")


def test_seed_demo_matches_the_sandbox(
    sandbox: SandboxServer, broker: SandboxBroker, db: None
) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)  # twice: a reset, not duplicates
    assert Position.objects.count() == len(demo.SPREADS)
    for position in Position.objects.select_related("account"):
        book = {o["id"] for o in broker.orders(position.account.account_number)}
        assert {int(i) for i in position.child_order_ids} <= book
    assert json.loads(json.dumps(broker.order_book()))["next-order-id"] == 3001


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_never_place_two_targets(
    sandbox: SandboxServer, broker: SandboxBroker, tmp_path: Any
) -> None:
    """The position lock serializes runs; the second re-reads the broker and keeps.

    PostgreSQL: select_for_update(); SQLite: its database write lock, taken up front.
    """
    import subprocess
    import sys

    from tests.support.processes import ROOT, subprocess_env

    positions = {s.case: p for s, p in zip(demo.SPREADS, demo.seed_database(), strict=True)}
    # Slow reads make the two runs overlap on every position.
    broker.inject(Fault("GET", r"/orders/live$", "slow", delay=0.3, times=1000))
    env = subprocess_env(
        TASTYTRADE_API_URL=sandbox.url,
        TASTYTRADE_PROVIDER_SECRET=demo.PROVIDER_SECRET,
        ASYNC_GUARD_MODE="raise",
    )
    cmd = [sys.executable, "manage.py", "fix_call_spread_profit_targets"]
    runs = [
        subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        for _ in range(2)
    ]  # fmt: skip
    outputs = []
    for run in runs:
        try:
            outputs.append(run.communicate(timeout=120)[0].decode())
        finally:
            run.kill()
    assert [r.returncode for r in runs] == [0, 0], outputs
    for case, position in positions.items():
        assert is_fixed(broker, position), (case, outputs)
    assert broker.count("POST", r"/orders$") == 4, outputs  # one per position that needed one
