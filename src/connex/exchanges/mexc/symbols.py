"""MEXC symbols <-> unified symbols, and futures contract sizes.

- Spot: ``BTCUSDT`` <-> ``BTC/USDT``. ``/api/v3/exchangeInfo`` (``baseAsset``/
  ``quoteAsset``), loaded with ``SymbolMap.load_exchange_info``, is authoritative; an
  unknown id falls back to a suffix match against well-known quote assets. Ids are upper
  case (MEXC rejects lower case).
- Futures: ``BTC_USDT`` <-> ``BTC/USDT:USDT`` (USDT-settled perpetuals). Sizes on the wire
  are *contracts*; one contract is ``contractSize`` base units (``0.0001`` BTC for
  ``BTC_USDT``), from ``/api/v1/contract/detail`` via ``load_contract_detail`` or
  ``set_contract_size``.

Every subscribed symbol is registered from its unified name. Source:
../shared/protocols/mexc.md §9.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connex.model import MarketType, parse_symbol
from connex.model.errors import UnknownSymbolError

__all__ = ["KNOWN_QUOTES", "SymbolMap", "market_of", "to_venue"]

KNOWN_QUOTES: tuple[str, ...] = ("USDT", "USDC", "USDE", "USD1", "BTC", "ETH", "EUR", "BRL", "TRY")


def market_of(symbol: str) -> str:
    """``spot`` or ``linear`` for a unified symbol; other markets are not offered."""
    u = parse_symbol(symbol)
    mt = u.market_type
    if mt is MarketType.SPOT:
        return "spot"
    if mt is MarketType.LINEAR_PERP:
        return "linear"
    raise UnknownSymbolError(
        f"mexc: {symbol} is a {mt.value}; this connector offers spot and linear perpetuals"
    )


def to_venue(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTCUSDT``; ``BTC/USDT:USDT`` -> ``BTC_USDT``."""
    u = parse_symbol(symbol)
    return f"{u.base}_{u.quote}" if u.settle else u.base + u.quote


class SymbolMap:
    """Venue id -> unified symbol per market, plus futures contract sizes."""

    def __init__(self) -> None:
        self._by_venue: dict[tuple[str, str], str] = {}
        self._contract_size: dict[str, Decimal] = {}

    def add(self, venue: str, unified: str, market: str = "spot") -> None:
        self._by_venue[(market, venue.upper())] = unified

    def load_exchange_info(self, info: dict[str, Any]) -> None:
        """Load the ``symbols`` array of spot ``GET /api/v3/exchangeInfo``."""
        for s in info.get("symbols", []):
            self.add(s["symbol"], f"{s['baseAsset']}/{s['quoteAsset']}")

    def load_contract_detail(self, detail: dict[str, Any]) -> None:
        """Load ``GET /api/v1/contract/detail`` (``{"data": [...]}``): ids and contract sizes."""
        for c in detail.get("data", []):
            unified = f"{c['baseCoin']}/{c['quoteCoin']}:{c.get('settleCoin', c['quoteCoin'])}"
            self.add(c["symbol"], unified, "linear")
            if c.get("contractSize") is not None:
                self.set_contract_size(unified, c["contractSize"])

    def set_contract_size(self, unified: str, size: Decimal | str | float) -> None:
        """Base units per contract of a perpetual (exact: floats go through ``str``)."""
        self._contract_size[unified] = (
            Decimal(str(size)) if isinstance(size, float) else Decimal(size)
        )

    def contract_size(self, unified: str) -> Decimal | None:
        return self._contract_size.get(unified)

    def to_unified(self, venue: str, market: str = "spot") -> str:
        venue = venue.upper()
        hit = self._by_venue.get((market, venue))
        if hit is not None:
            return hit
        if market == "linear":
            base, sep, quote = venue.partition("_")
            if sep and base and quote and "_" not in quote:
                unified = f"{base}/{quote}:{quote}"
                self._by_venue[(market, venue)] = unified
                return unified
        else:
            for quote in KNOWN_QUOTES:
                if venue.endswith(quote) and len(venue) > len(quote):
                    unified = f"{venue[: -len(quote)]}/{quote}"
                    self._by_venue[(market, venue)] = unified
                    return unified
        raise UnknownSymbolError(f"mexc: cannot map {market} symbol {venue!r} to a unified symbol")
