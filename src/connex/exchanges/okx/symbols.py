"""OKX instrument ids <-> unified symbols.

========================  ===============  ===========================
instId                    kind             unified
========================  ===============  ===========================
``BTC-USDT``              spot             ``BTC/USDT``
``BTC-USDT-SWAP``         linear perp      ``BTC/USDT:USDT``
``BTC-USD-SWAP``          inverse perp     ``BTC/USD:BTC``
``BTC-USDT-250627``       linear future    ``BTC/USDT:USDT-250627``
``BTC-USD-220527``        inverse future   ``BTC/USD:BTC-220527``
========================  ===============  ===========================

A ``USD`` quote means a coin-margined (inverse) contract settled in the base currency;
any other quote (USDT, USDC) is linear and settled in the quote. Options are not
supported. Source: ../shared/protocols/okx.md §8.

Derivative sizes on OKX are *contracts*. ``SymbolMap.load_instruments`` reads
``GET /api/v5/public/instruments`` so trade and liquidation sizes can be converted to
base quantity (``sz * ctVal * ctMult``); without it they stay in contracts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connex.model import MarketType, parse_symbol
from connex.model.errors import UnknownSymbolError

__all__ = ["INST_TYPE", "SymbolMap", "inst_type", "market_of", "to_unified", "to_venue"]

#: unified market type -> OKX ``instType``
INST_TYPE: dict[MarketType, str] = {
    MarketType.SPOT: "SPOT",
    MarketType.LINEAR_PERP: "SWAP",
    MarketType.INVERSE_PERP: "SWAP",
    MarketType.LINEAR_FUTURE: "FUTURES",
    MarketType.INVERSE_FUTURE: "FUTURES",
}


def inst_type(symbol: str) -> str:
    """OKX ``instType`` of a unified symbol (``SPOT``, ``SWAP`` or ``FUTURES``)."""
    return INST_TYPE[parse_symbol(symbol).market_type]


def market_of(symbol: str) -> str:
    """Endpoint key of a unified symbol: ``spot``, ``linear`` or ``inverse``."""
    mt = parse_symbol(symbol).market_type
    if mt is MarketType.SPOT:
        return "spot"
    if mt in (MarketType.LINEAR_PERP, MarketType.LINEAR_FUTURE):
        return "linear"
    return "inverse"


def to_venue(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTC-USDT``; ``BTC/USDT:USDT`` -> ``BTC-USDT-SWAP``;
    ``BTC/USD:BTC-220527`` -> ``BTC-USD-220527``."""
    u = parse_symbol(symbol)
    mt = u.market_type
    if mt is MarketType.SPOT:
        return f"{u.base}-{u.quote}"
    if mt in (MarketType.INVERSE_PERP, MarketType.INVERSE_FUTURE) and u.settle != u.base:
        raise UnknownSymbolError(
            f"okx: inverse contracts settle in the base currency, not {symbol}"
        )
    if u.expiry:
        if not (len(u.expiry) == 6 and u.expiry.isdigit()):
            raise UnknownSymbolError(f"okx: {symbol}: expiry must be YYMMDD (options unsupported)")
        return f"{u.base}-{u.quote}-{u.expiry}"
    return f"{u.base}-{u.quote}-SWAP"


def to_unified(inst_id: str) -> str:
    """Inverse of ``to_venue``; raises ``UnknownSymbolError`` for options/unknown shapes."""
    parts = inst_id.split("-")
    if len(parts) == 2 and all(parts):
        return f"{parts[0]}/{parts[1]}"
    if len(parts) == 3 and parts[0] and parts[1]:
        base, quote, tail = parts
        settle = base if quote == "USD" else quote
        if tail == "SWAP":
            return f"{base}/{quote}:{settle}"
        if len(tail) == 6 and tail.isdigit():
            return f"{base}/{quote}:{settle}-{tail}"
    raise UnknownSymbolError(f"okx: cannot map instId {inst_id!r} to a unified symbol")


class SymbolMap:
    """instId <-> unified symbol cache plus contract values from the instruments list."""

    def __init__(self) -> None:
        self._unified: dict[str, str] = {}
        self._ct: dict[str, Decimal] = {}

    def add(self, inst_id: str, unified: str) -> None:
        self._unified[inst_id] = unified

    def to_unified(self, inst_id: str) -> str:
        hit = self._unified.get(inst_id)
        if hit is None:
            hit = self._unified[inst_id] = to_unified(inst_id)
        return hit

    def contract_value(self, inst_id: str) -> Decimal | None:
        """Base (or quote, for inverse) quantity of one contract, when known."""
        return self._ct.get(inst_id)

    def load_instruments(self, body: dict[str, Any]) -> None:
        """Load a ``/api/v5/public/instruments`` reply (any ``instType``)."""
        for row in body.get("data", []):
            inst = row.get("instId", "")
            if row.get("instType") in ("SWAP", "FUTURES") and row.get("ctVal"):
                mult = Decimal(row.get("ctMult") or "1")
                self._ct[inst] = Decimal(row["ctVal"]) * mult
