"""Async data access for the service layer, built on the async ORM.

These run inside a bridged call (``run_async``) or an async view: the async
ORM's work then runs on the calling thread, in its transaction. Relations an
async caller reads are fetched with ``select_related``: a lazy
relation load in async code raises ``SynchronousOnlyOperation``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tastytrade import Session

from services.broker import credentials_for, open_session
from trading.models import TradingAccount


class NoTradingAccount(LookupError):
    """The user has no active primary trading account."""


async def get_primary_tastytrade_account(user: Any) -> TradingAccount:
    account = (
        await TradingAccount.objects.select_related("user")
        .filter(user=user, is_primary=True, is_active=True)
        .afirst()
    )
    if account is None:
        raise NoTradingAccount(f"user {user.pk} has no active primary trading account")
    return account


@asynccontextmanager
async def get_oauth_session(user: Any) -> AsyncIterator[Session]:
    """``async with get_oauth_session(user) as session:``, for the user's primary account.

    A context manager, not a value to keep: the session belongs to the event
    loop of the current bridged call and is closed at the end of the block.
    """
    account = await get_primary_tastytrade_account(user)
    async with open_session(credentials_for(account)) as session:
        yield session
