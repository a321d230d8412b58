"""Binance symbols <-> unified symbols.

``BTCUSDT`` names both the spot pair (``BTC/USDT``) and the USD-M perpetual
(``BTC/USDT:USDT``); the market decides. The authoritative mapping comes from
``exchangeInfo`` (``baseAsset``/``quoteAsset``), loaded with ``SymbolMap.load_exchange_info``;
without it, a suffix match against well-known quote assets is used.
"""

from __future__ import annotations

from typing import Any

from connex.model import MarketType, parse_symbol
from connex.model.errors import UnknownSymbolError

__all__ = ["KNOWN_QUOTES", "SymbolMap", "market_of", "to_venue"]

KNOWN_QUOTES: tuple[str, ...] = (
    "USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USDP", "DAI", "TRY", "EUR", "BRL",
    "BTC", "ETH", "BNB", "JPY", "ARS", "MXN", "PLN", "RON", "UAH", "ZAR", "IDR",
)  # fmt: skip


def market_of(symbol: str) -> str:
    """``spot`` or ``linear`` for a unified symbol; other markets are not offered."""
    mt = parse_symbol(symbol).market_type
    if mt is MarketType.SPOT:
        return "spot"
    if mt is MarketType.LINEAR_PERP:
        return "linear"
    raise UnknownSymbolError(f"binance: {symbol} is a {mt.value}; only spot and USD-M perpetuals")


def to_venue(symbol: str) -> str:
    """``BTC/USDT`` and ``BTC/USDT:USDT`` -> ``BTCUSDT``."""
    u = parse_symbol(symbol)
    return u.base + u.quote


class SymbolMap:
    """Venue symbol -> unified symbol, per market."""

    def __init__(self) -> None:
        self._by_venue: dict[tuple[str, str], str] = {}

    def add(self, market: str, venue: str, unified: str) -> None:
        self._by_venue[(market, venue.upper())] = unified

    def load_exchange_info(self, market: str, info: dict[str, Any]) -> None:
        """Load the ``symbols`` array of ``/api/v3/exchangeInfo`` or ``/fapi/v1/exchangeInfo``."""
        for s in info.get("symbols", []):
            base, quote = s["baseAsset"], s["quoteAsset"]
            if market == "spot":
                self.add(market, s["symbol"], f"{base}/{quote}")
            elif s.get("contractType", "PERPETUAL") == "PERPETUAL":
                self.add(market, s["symbol"], f"{base}/{quote}:{s.get('marginAsset', quote)}")

    def to_unified(self, market: str, venue: str) -> str:
        venue = venue.upper()
        hit = self._by_venue.get((market, venue))
        if hit is not None:
            return hit
        for quote in KNOWN_QUOTES:
            if venue.endswith(quote) and len(venue) > len(quote):
                base = venue[: -len(quote)]
                unified = f"{base}/{quote}" if market == "spot" else f"{base}/{quote}:{quote}"
                self._by_venue[(market, venue)] = unified
                return unified
        raise UnknownSymbolError(
            f"binance: cannot map {market} symbol {venue!r} to a unified symbol"
        )
