"""Bybit symbols <-> unified symbols.

``BTCUSDT`` is both the spot pair (``BTC/USDT``) and the linear perpetual
(``BTC/USDT:USDT``): the category (connection URL) decides. USDC perpetuals are named
``BTCPERP`` (``BTC/USDC:USDC``). Dated futures and inverse contracts are not supported
by this connector. Source: ../shared/protocols/bybit.md §8.
"""

from __future__ import annotations

from connex.model import MarketType, parse_symbol
from connex.model.errors import UnknownSymbolError

__all__ = ["KNOWN_QUOTES", "SymbolMap", "market_of", "to_venue"]

KNOWN_QUOTES: tuple[str, ...] = ("USDT", "USDC", "USDE", "EUR", "BRL", "BTC", "ETH", "DAI", "MNT")


def market_of(symbol: str) -> str:
    """``spot`` or ``linear`` for a unified symbol; other kinds raise ``UnknownSymbolError``."""
    mt = parse_symbol(symbol).market_type
    if mt is MarketType.SPOT:
        return "spot"
    if mt is MarketType.LINEAR_PERP:
        return "linear"
    raise UnknownSymbolError(f"bybit: {symbol} is a {mt.value}; only spot and linear perpetuals")


def to_venue(symbol: str) -> str:
    """``BTC/USDT`` / ``BTC/USDT:USDT`` -> ``BTCUSDT``; ``BTC/USDC:USDC`` -> ``BTCPERP``."""
    u = parse_symbol(symbol)
    if u.settle == "USDC" and u.quote == "USDC" and not u.expiry:
        return f"{u.base}PERP"
    return u.base + u.quote


class SymbolMap:
    """Venue symbol -> unified symbol, per market (``spot``/``linear``)."""

    def __init__(self) -> None:
        self._by_venue: dict[tuple[str, str], str] = {}

    def add(self, market: str, venue: str, unified: str) -> None:
        self._by_venue[(market, venue)] = unified

    def to_unified(self, market: str, venue: str) -> str:
        hit = self._by_venue.get((market, venue))
        if hit is not None:
            return hit
        unified = ""
        if market == "linear" and venue.endswith("PERP") and len(venue) > 4:
            unified = f"{venue[:-4]}/USDC:USDC"
        else:
            for quote in KNOWN_QUOTES:
                if venue.endswith(quote) and len(venue) > len(quote):
                    base = venue[: -len(quote)]
                    unified = f"{base}/{quote}" if market == "spot" else f"{base}/{quote}:{quote}"
                    break
        if not unified:
            raise UnknownSymbolError(
                f"bybit: cannot map {market} symbol {venue!r} to a unified symbol"
            )
        self._by_venue[(market, venue)] = unified
        return unified
