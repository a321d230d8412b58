"""Unified symbols (CCXT convention) and market types.

``BTC/USDT`` is spot; ``BTC/USDT:USDT`` a linear perpetual settled in USDT;
``BTC/USD:BTC`` an inverse perpetual; ``BTC/USDT:USDT-250627`` a dated future.
Whether a subscription is spot or perpetual follows from the symbol alone.
"""

from __future__ import annotations

import enum
from functools import lru_cache

import msgspec

from .errors import UnknownSymbolError

__all__ = ["MarketType", "UnifiedSymbol", "parse_symbol"]


class MarketType(enum.StrEnum):
    SPOT = "spot"
    LINEAR_PERP = "linear_perp"
    INVERSE_PERP = "inverse_perp"
    LINEAR_FUTURE = "linear_future"
    INVERSE_FUTURE = "inverse_future"

    @property
    def is_derivative(self) -> bool:
        return self is not MarketType.SPOT


class UnifiedSymbol(msgspec.Struct, frozen=True):
    """A parsed unified symbol."""

    base: str
    quote: str
    settle: str = ""
    expiry: str = ""

    @property
    def market_type(self) -> MarketType:
        if not self.settle:
            return MarketType.SPOT
        linear = self.settle == self.quote
        if self.expiry:
            return MarketType.LINEAR_FUTURE if linear else MarketType.INVERSE_FUTURE
        return MarketType.LINEAR_PERP if linear else MarketType.INVERSE_PERP

    def __str__(self) -> str:
        s = f"{self.base}/{self.quote}"
        if self.settle:
            s += f":{self.settle}"
        if self.expiry:
            s += f"-{self.expiry}"
        return s


@lru_cache(maxsize=8192)
def parse_symbol(symbol: str) -> UnifiedSymbol:
    """Parse ``BASE/QUOTE[:SETTLE[-EXPIRY]]``; raise ``UnknownSymbolError`` if malformed."""
    pair, _, settle_part = symbol.partition(":")
    base, slash, quote = pair.partition("/")
    if not slash or not base or not quote or not base.isalnum() or not quote.isalnum():
        raise UnknownSymbolError(
            f"symbol {symbol!r} is not a unified symbol: expected BASE/QUOTE for spot "
            f"or BASE/QUOTE:SETTLE for a perpetual (e.g. BTC/USDT, BTC/USDT:USDT)"
        )
    settle, _, expiry = settle_part.partition("-")
    if ":" in symbol and not settle:
        raise UnknownSymbolError(f"symbol {symbol!r} has an empty settle currency")
    return UnifiedSymbol(base.upper(), quote.upper(), settle.upper(), expiry)
