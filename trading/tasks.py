"""Celery tasks of the reference project: plain ``def`` tasks that bridge to async code.

Each task is a plain ``def`` (Celery never awaits an ``async def`` task): the
ORM runs directly in it, the broker work in pure-async helpers called through
``run_async`` (``async_to_sync``), and broker failures (error answers,
timeouts, dropped connections) are retried with exponential backoff. The work
is idempotent, so a retry after a partial run is safe.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from async_guard.bridge import run_async
from services.account_sync import (
    AccountState,
    SyncSummary,
    fetch_account_state,
    fetch_many,
    reconcile_account,
)
from services.broker import BROKER_ERRORS, credentials_for
from trading.models import TradingAccount

RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": BROKER_ERRORS,
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": False,
    "max_retries": 4,
}


def _accounts(account_ids: list[int] | None) -> list[TradingAccount]:
    accounts = TradingAccount.objects.filter(is_active=True).exclude(refresh_token="")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    return list(accounts.order_by("pk"))


@shared_task(**RETRY_POLICY)
def sync_positions_task(account_ids: list[int] | None = None) -> dict[str, object]:
    """Pull positions and live orders for every active account, one bridged call each."""
    summary = SyncSummary()
    for account in _accounts(account_ids):
        state = run_async(fetch_account_state, credentials_for(account))
        summary.merge(reconcile_account(account, state))
    return summary.as_dict()


@shared_task(**RETRY_POLICY)
def batch_sync_data_task(account_ids: list[int] | None = None) -> dict[str, object]:
    """All accounts fetched concurrently in one bridged call, then reconciled one by one.

    Accounts that fetched fine are reconciled even when another failed; the
    first failure is raised afterwards, so Celery retries the batch.
    """
    accounts = _accounts(account_ids)
    results = run_async(fetch_many, [credentials_for(a) for a in accounts])
    summary = SyncSummary()
    failure: BaseException | None = None
    for account, result in zip(accounts, results, strict=True):
        if isinstance(result, AccountState):
            summary.merge(reconcile_account(account, result))
        elif failure is None:
            failure = result
    if failure is not None:
        raise failure
    return summary.as_dict()
