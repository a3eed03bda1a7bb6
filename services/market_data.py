"""Quotes from the broker's market-data endpoint (``MarketDataService.get_quote_sync``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tastytrade.market_data import get_market_data_by_type

from async_guard.bridge import sync_twin
from services.data_access import get_oauth_session


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    mark: Decimal | None
    last: Decimal | None


def is_option_symbol(symbol: str) -> bool:
    """OCC option symbols are 21 characters: root (6), YYMMDD, C/P, strike (8)."""
    return len(symbol) == 21 and symbol[12] in "CP" and symbol[13:].isdigit()


class MarketDataService:
    def __init__(self, user: Any) -> None:
        self.user = user

    async def get_quote(self, symbol: str) -> Quote:
        """The current quote of an equity or an equity option, with the user's session."""
        kind = "options" if is_option_symbol(symbol) else "equities"
        async with get_oauth_session(self.user) as session:
            (data,) = await get_market_data_by_type(session, **{kind: [symbol]})
        return Quote(data.symbol, data.bid, data.ask, data.mark, data.last)

    get_quote_sync = sync_twin(get_quote)
