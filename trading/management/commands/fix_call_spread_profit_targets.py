"""Repair the profit-target orders of open call spreads (a sync ``handle``, async helpers).

``handle()`` is sync and owns the ORM; the broker work is one pure-async helper
(no ORM inside) called through one bridge, ``run_async``, per position. Each
position is fixed inside its own ``transaction.atomic()`` holding a
``select_for_update()`` lock on it, and the broker's live orders are re-read
inside that lock before anything is written, so:

* ``--dry-run`` writes nothing, to the database or to the broker;
* a second run finds everything in place and changes nothing;
* a failure at any step leaves the position's rows as they were (the
  transaction rolls back), and the next run converges: an order the broker
  accepted before the failure carries the client reference the next run
  looks for, so it is adopted, not duplicated.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import F

import async_guard
from async_guard.bridge import run_async
from services.broker import (
    BROKER_ERRORS,
    BrokerConfigError,
    BrokerCredentials,
    credentials_for,
    get_account,
    open_session,
)
from services.profit_targets import (
    DEFAULT_PROFIT_PCT,
    PositionSnapshot,
    ProfitTargetError,
    Reconciliation,
    TargetSpec,
    reconcile_profit_target,
    record_reconciliation,
    target_for,
)
from trading.models import Position, Trade

FAILURES: tuple[type[Exception], ...] = (*BROKER_ERRORS, BrokerConfigError, ProfitTargetError)


async def _reconcile_at_broker(
    credentials: BrokerCredentials, snapshot: PositionSnapshot, spec: TargetSpec, dry_run: bool
) -> Reconciliation:
    """Pure async: one session, opened and closed on this bridged call's loop."""
    async with open_session(credentials) as session:
        account = await get_account(session, credentials.account_number)
        return await reconcile_profit_target(session, account, snapshot, spec, dry_run=dry_run)


def _lock_position(position_id: int) -> Position:
    """The position, locked until the surrounding transaction ends (concurrent runs take turns)."""
    if not connection.features.has_select_for_update:
        # SQLite ignores FOR UPDATE; a write that changes nothing takes its
        # database write lock now instead of at the first real write.
        Position.objects.filter(pk=position_id).update(status=F("status"))
    return (
        Position.objects.select_for_update(of=("self",))
        .select_related("account")
        .get(pk=position_id)
    )


def _profit_pct(value: str) -> Decimal:
    try:
        pct = Decimal(value)
    except InvalidOperation:
        pct = Decimal(-1)
    if not Decimal(0) < pct < Decimal(100):
        raise CommandError(f"--profit-pct must be a number between 0 and 100, got {value!r}")
    return pct


class Command(BaseCommand):
    help = (
        "Find open call spreads whose profit-target order is missing, cancelled at the broker "
        "or priced/legged wrong; cancel stale orders and place the right buy-to-close order."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print the plan; write nothing to the database or the broker.",
        )
        parser.add_argument(
            "--position-id",
            action="append",
            type=int,
            default=[],
            dest="position_ids",
            help="Only this position (repeatable).",
        )
        parser.add_argument("--user", help="Only this user's positions (username).")
        parser.add_argument(
            "--profit-pct",
            default=str(DEFAULT_PROFIT_PCT),
            help=f"Profit to take, percent of the opening credit (default {DEFAULT_PROFIT_PCT}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The runtime guard watches the whole command as one unit of work.
        with async_guard.watch("manage.py fix_call_spread_profit_targets"):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        profit_pct = _profit_pct(str(options["profit_pct"]))
        dry_run = bool(options["dry_run"])
        ids = self._select(options["position_ids"], options["user"])
        if not ids:
            self.stdout.write("No open call spreads to check.")
            return
        failed = changed = 0
        for position_id in ids:
            try:
                changed += self._fix_one(position_id, profit_pct, dry_run)
            except FAILURES as exc:
                failed += 1
                self.stderr.write(
                    f"position {position_id}: FAILED, left unchanged: {type(exc).__name__}: {exc}"
                )
        verb = "would change" if dry_run else "changed"
        self.stdout.write(f"{len(ids)} checked, {changed} {verb}, {failed} failed.")
        if failed:
            raise CommandError(
                f"{failed} position(s) failed and were left unchanged; run the command again"
            )

    def _select(self, position_ids: list[int], username: str | None) -> list[int]:
        positions = Position.objects.filter(
            status=Position.Status.OPEN, strategy="call_spread"
        ).order_by("pk")
        if username:
            if not get_user_model().objects.filter(username=username).exists():
                raise CommandError(f"--user {username!r}: no such user")
            positions = positions.filter(user__username=username)
        if position_ids:
            positions = positions.filter(pk__in=position_ids)
        ids = list(positions.values_list("pk", flat=True))
        for missing in sorted(set(position_ids) - set(ids)):
            self.stderr.write(f"--position-id {missing}: not an open call spread, skipped")
        return ids

    def _fix_one(self, position_id: int, profit_pct: Decimal, dry_run: bool) -> bool:
        with transaction.atomic():
            position = _lock_position(position_id)
            if position.status != Position.Status.OPEN:
                self.stdout.write(f"position {position_id}: no longer open, skipped")
                return False
            parent = (
                Trade.objects.filter(position=position, kind=Trade.Kind.OPEN)
                .values_list("broker_order_id", flat=True)
                .first()
            )
            snapshot = PositionSnapshot.of(position, parent or "")
            spec = target_for(snapshot, profit_pct)
            result = run_async(
                _reconcile_at_broker, credentials_for(position.account), snapshot, spec, dry_run
            )
            label = f"position {position_id} {position.symbol}"
            if dry_run:
                needs = bool(result.cancelled) or result.kept is None
                needs |= list(snapshot.child_order_ids) != [result.kept]
                self.stdout.write(f"{label}: {'PLAN ' if needs else 'ok, '}{result.describe()}")
                return needs
            changed = self._record(position, result)
            self.stdout.write(f"{label}: {result.describe()}{'' if changed else ' (no change)'}")
            return changed or bool(result.cancelled) or result.placed is not None

    def _record(self, position: Position, result: Reconciliation) -> bool:
        # A method of its own so that tests can fail it: the "killed between the
        # broker call and the database write" case.
        return record_reconciliation(position, result)
