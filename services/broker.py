"""Sessions with the broker: the only module that configures the tastytrade SDK.

A tastytrade ``Session`` owns an ``httpx`` client bound to the event loop it
was created on; used from a second loop it fails with "Event loop is closed"
(``tests/trading/test_sandbox.py`` shows it). So a session is opened and closed
inside one bridged call (:func:`open_session`, an ``async with``), and only its
access token outlives that call, in Django's cache, never the session object.

Credentials (the provider secret from settings, each account's refresh token
from its ``TradingAccount``) are never logged, never put in ``repr()`` and
never cached: the cache holds the short-lived access token only.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx2
import tastytrade.session
from django.conf import settings
from django.core.cache import cache
from tastytrade import Account, Session
from tastytrade.utils import TastytradeError

if TYPE_CHECKING:
    from trading.models import TradingAccount

#: What a call to the broker can raise: an error answer, or a transport failure
#: (timeout, dropped connection) after which the broker may or may not have acted.
BROKER_ERRORS: tuple[type[Exception], ...] = (TastytradeError, httpx2.HTTPError)


class BrokerConfigError(RuntimeError):
    """The project is not set up to talk to the broker (missing secret or token)."""


@dataclass(frozen=True)
class BrokerCredentials:
    """What a pure-async helper needs to log in for one account (built in sync code)."""

    account_number: str
    refresh_token: str = field(repr=False)

    def cache_key(self, api_url: str) -> str:
        digest = hashlib.sha256(f"{api_url}\0{self.refresh_token}".encode()).hexdigest()[:32]
        return f"tastytrade:token:{digest}"


def credentials_for(account: TradingAccount) -> BrokerCredentials:
    if not account.refresh_token:
        raise BrokerConfigError(
            f"trading account {account.account_number} has no refresh token: "
            "set TradingAccount.refresh_token (admin or seed_demo)"
        )
    return BrokerCredentials(account.account_number, account.refresh_token)


def configure_sdk() -> str:
    """Point the SDK at ``settings.TASTYTRADE_API_URL``; return that URL.

    ``Session.__init__`` reads the module attribute ``tastytrade.session.API_URL``
    (imported there from ``tastytrade``) when it builds its client, so that is
    the one attribute to set; settings are read at use time so tests can
    override them.
    """
    url = str(settings.TASTYTRADE_API_URL).rstrip("/")
    tastytrade.session.API_URL = url  # type: ignore[attr-defined]
    return url


def _provider_secret() -> str:
    secret = str(getattr(settings, "TASTYTRADE_PROVIDER_SECRET", "") or "")
    if not secret:
        raise BrokerConfigError(
            "settings.TASTYTRADE_PROVIDER_SECRET is empty: set the environment variable "
            "TASTYTRADE_PROVIDER_SECRET (for the sandbox: sandbox-provider-secret)"
        )
    return secret


def _client_kwargs() -> dict[str, Any]:
    return {"timeout": float(getattr(settings, "TASTYTRADE_TIMEOUT", 10.0))}


def _token_state(session: Session) -> str:
    # Session.serialize() minus the two credentials: only the access token is cached.
    state = json.loads(session.serialize())
    state.pop("provider_secret", None)
    state.pop("refresh_token", None)
    return json.dumps(state)


def _restore(state: str, secret: str, credentials: BrokerCredentials) -> Session:
    data = json.loads(state)
    data.update(provider_secret=secret, refresh_token=credentials.refresh_token)
    data["client_kwargs"] = _client_kwargs()
    return Session.deserialize(json.dumps(data))


@asynccontextmanager
async def open_session(credentials: BrokerCredentials) -> AsyncIterator[Session]:
    """A logged-in ``Session`` for the length of an ``async with``, on the current loop.

    The access token comes from the cache when a previous call left a valid
    one, else from a refresh (``POST /oauth/token``). Any broker error inside
    drops the cached token, so a token the broker stopped accepting (HTTP 401)
    is not tried again by the next call.
    """
    secret = _provider_secret()
    url = configure_sdk()
    key = credentials.cache_key(url)
    cached = await cache.aget(key)
    if cached:
        session = _restore(cached, secret, credentials)
    else:
        session = Session(secret, credentials.refresh_token, **_client_kwargs())
    token = session.session_token
    try:
        async with session:
            await session.refresh()
            yield session
    except BROKER_ERRORS:
        await cache.adelete(key)
        raise
    # After the block, not inside it: while a Session is entered, anyio's context
    # manager mixin keeps an object in its __dict__ that Session.serialize() cannot
    # encode (measured with tastytrade 13.2.3: TypeError).
    if session.session_token != token:
        lifetime = int(session.session_expiration - time.time()) - 60
        await cache.aset(key, _token_state(session), timeout=max(lifetime, 1))


async def get_account(session: Session, account_number: str) -> Account:
    return await Account.get(session, account_number)


async def cancel_order_at_broker(credentials: BrokerCredentials, order_id: int) -> None:
    """Cancel one order (pure async: no ORM)."""
    async with open_session(credentials) as session:
        account = await get_account(session, credentials.account_number)
        await account.delete_order(session, order_id)
