"""Gate symbols <-> unified symbols, and futures contract multipliers.

Gate names a spot pair and a USDT perpetual the same way (``BTC_USDT``); the endpoint
decides which market it is (../shared/protocols/gateio.md §8), so every lookup is keyed
by ``(market, id)``: ``BTC_USDT`` is ``BTC/USDT`` on ``spot`` and ``BTC/USDT:USDT`` on
``linear``. Without a listing, an id with exactly one ``_`` is split there; listings
(``load_currency_pairs``, ``load_contracts``) make the mapping authoritative.

Futures sizes on the wire are *contracts*; one contract is ``quanto_multiplier`` units of
the base asset (``/api/v4/futures/usdt/contracts``). ``multiplier()`` returns it when a
contract listing was loaded (or a value was set with ``set_multiplier``), else ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from connex.model import MarketType, parse_symbol
from connex.model.errors import UnknownSymbolError

__all__ = ["SymbolMap", "market_of", "to_venue"]


def market_of(symbol: str) -> str:
    """``spot`` or ``linear`` (USDT-settled perpetual) for a unified symbol."""
    u = parse_symbol(symbol)
    mt = u.market_type
    if mt is MarketType.SPOT:
        return "spot"
    if mt is MarketType.LINEAR_PERP and u.settle == "USDT":
        return "linear"
    raise UnknownSymbolError(
        f"gateio: {symbol} is a {mt.value} settled in {u.settle or '-'}; "
        "only spot pairs and USDT-settled perpetuals are supported"
    )


def to_venue(symbol: str) -> str:
    """``BTC/USDT`` and ``BTC/USDT:USDT`` -> ``BTC_USDT``."""
    u = parse_symbol(symbol)
    return f"{u.base}_{u.quote}"


class SymbolMap:
    """Venue id -> unified symbol per market, plus futures ``quanto_multiplier``s."""

    def __init__(self) -> None:
        self._by_venue: dict[tuple[str, str], str] = {}
        self._multiplier: dict[str, Decimal] = {}

    def add(self, market: str, venue: str, unified: str) -> None:
        self._by_venue[(market, venue.upper())] = unified

    def set_multiplier(self, unified: str, multiplier: Decimal | str) -> None:
        """Set the base quantity of one contract of perpetual ``unified``."""
        self._multiplier[unified] = Decimal(multiplier)

    def multiplier(self, unified: str) -> Decimal | None:
        """Base units per contract, or ``None`` when no contract listing was loaded."""
        return self._multiplier.get(unified)

    def load_currency_pairs(self, pairs: Iterable[Mapping[str, Any]]) -> None:
        """Load ``GET /api/v4/spot/currency_pairs`` (``id``, ``base``, ``quote``)."""
        for p in pairs:
            self.add("spot", p["id"], f"{p['base']}/{p['quote']}")

    def load_contracts(self, contracts: Iterable[Mapping[str, Any]]) -> None:
        """Load ``GET /api/v4/futures/usdt/contracts`` (``name``, ``quanto_multiplier``)."""
        for c in contracts:
            name = str(c["name"])
            base, sep, quote = name.partition("_")
            if not sep or "_" in quote:
                continue  # not a perpetual id we can name
            unified = f"{base}/{quote}:USDT"
            self.add("linear", name, unified)
            mult = c.get("quanto_multiplier")
            if mult not in (None, "", "0"):
                try:
                    self.set_multiplier(unified, str(mult))
                except InvalidOperation:
                    continue

    def to_unified(self, market: str, venue: str) -> str:
        key = (market, venue.upper())
        hit = self._by_venue.get(key)
        if hit is not None:
            return hit
        parts = key[1].split("_")
        if len(parts) == 2 and all(p.isalnum() for p in parts):
            base, quote = parts
            unified = f"{base}/{quote}" if market == "spot" else f"{base}/{quote}:{quote}"
            self._by_venue[key] = unified
            return unified
        raise UnknownSymbolError(f"gateio: cannot map {market} id {venue!r} to a unified symbol")
