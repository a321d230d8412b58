"""Hyperliquid coins <-> unified symbols.

Perpetuals are named by ``coin`` on the wire (``meta.universe[i].name``: ``BTC``,
``kPEPE``...), all USDC-margined: ``BTC`` <-> ``BTC/USDC:USDC`` (market key ``linear``).
Unified symbols are upper case, so coins with lower-case letters (the ``k`` = 1000x
coins) need the real name back: it comes from ``SymbolMap.load_meta`` (the ``meta``
``universe``), from every subscribed symbol the caller registered, or from the small
``K_COINS`` table (unverified; one edit to change). HIP-3 builder perps (``dex:COIN``)
and spot pairs (``@N``) are not mapped yet. Source: ../shared/protocols/hyperliquid.md §8.
"""

from __future__ import annotations

from typing import Any

from connex.model import MarketType, parse_symbol
from connex.model.errors import UnknownSymbolError

__all__ = ["K_COINS", "QUOTE", "SymbolMap", "market_of", "to_unified", "to_venue"]

QUOTE = "USDC"

#: Known 1000x coins whose wire name starts with a lower-case ``k`` (unverified list).
K_COINS: tuple[str, ...] = ("kPEPE", "kSHIB", "kBONK", "kFLOKI", "kLUNC", "kDOGS", "kNEIRO")
_K_BY_UPPER = {c.upper(): c for c in K_COINS}


def market_of(symbol: str) -> str:
    """``linear`` for a USDC-settled perpetual; anything else is not offered."""
    u = parse_symbol(symbol)
    if u.market_type is MarketType.LINEAR_PERP and u.quote == QUOTE:
        return "linear"
    raise UnknownSymbolError(
        f"hyperliquid: {symbol} is not a USDC perpetual; use BASE/USDC:USDC (e.g. BTC/USDC:USDC)"
    )


def to_venue(symbol: str) -> str:
    """``BTC/USDC:USDC`` -> ``BTC`` (``KPEPE/USDC:USDC`` -> ``kPEPE``)."""
    base = parse_symbol(symbol).base
    return _K_BY_UPPER.get(base, base)


def to_unified(coin: str) -> str:
    """``BTC`` -> ``BTC/USDC:USDC``."""
    return f"{coin.upper()}/{QUOTE}:{QUOTE}"


class SymbolMap:
    """Coin -> unified symbol and back, for perpetuals."""

    def __init__(self) -> None:
        self._by_coin: dict[str, str] = {}
        self._by_symbol: dict[str, str] = {}

    def add(self, coin: str, unified: str) -> None:
        self._by_coin[coin] = unified
        self._by_symbol[unified] = coin

    def load_meta(self, meta: dict[str, Any]) -> None:
        """Load ``meta`` (``POST /info {"type":"meta"}``) or ``metaAndAssetCtxs[0]``."""
        for asset in meta.get("universe", []):
            name = asset["name"]
            if ":" not in name:  # HIP-3 builder perps are not mapped
                self.add(name, to_unified(name))

    def to_unified(self, coin: str) -> str:
        hit = self._by_coin.get(coin)
        if hit is None:
            if not coin or ":" in coin or coin.startswith("@"):
                raise UnknownSymbolError(f"hyperliquid: coin {coin!r} is not a mapped perpetual")
            hit = to_unified(coin)
            self.add(coin, hit)
        return hit

    def to_venue(self, symbol: str) -> str:
        return self._by_symbol.get(symbol) or to_venue(symbol)
