"""``connex demo``: the whole system against the built-in simulator, offline."""

from __future__ import annotations

import importlib
from typing import Any

from connex.exchanges import EXCHANGES
from connex.exchanges.base import Channel

__all__ = ["DEMO_SYMBOLS", "demo_exchanges"]

#: Symbols the demo streams per exchange (spot and perpetual where the venue has both).
DEMO_SYMBOLS: dict[str, list[str]] = {
    "binance": ["BTC/USDT", "ETH/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"],
    "okx": ["BTC/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"],
    "bybit": ["BTC/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"],
    "gateio": ["BTC/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"],
    "mexc": ["BTC/USDT", "ETH/USDT"],
    "hyperliquid": ["BTC/USDC:USDC", "ETH/USDC:USDC"],
}
DEMO_CHANNELS = [Channel.BOOK, Channel.TRADES, Channel.LIQUIDATIONS, Channel.FUNDING]


def _venue_ready(exchange: str, symbols: list[str]) -> bool:
    from connex.sim.server import _market_of
    from connex.sim.venues import venue_class

    try:
        importlib.import_module(f"connex.exchanges.{exchange}")
        for sym in symbols:
            venue_class(exchange, _market_of(sym))
    except Exception:
        return False
    return True


def demo_exchanges(only: list[str] | None = None) -> dict[str, list[str]]:
    """Exchanges whose connector and simulator venue are both present."""
    out: dict[str, list[str]] = {}
    for ex in EXCHANGES:
        if only and ex not in only:
            continue
        syms = DEMO_SYMBOLS.get(ex, [])
        if syms and _venue_ready(ex, syms):
            out[ex] = syms
    return out


def channels_for(exchange: str, symbols: list[str]) -> list[Channel]:
    """The demo channels this exchange offers for at least one of ``symbols``."""
    from connex.exchanges import protocol_class
    from connex.exchanges.base import Subscription

    cls = protocol_class(exchange)
    out = []
    for ch in DEMO_CHANNELS:
        if any(
            ch in cls.channels.get(Subscription(ch, s).market_type, frozenset()) for s in symbols
        ):
            out.append(ch)
    return out


def add_demo_feeds(runner: Any, sim: Any, exchanges: dict[str, list[str]]) -> None:
    endpoints = sim.endpoints()
    for ex, syms in exchanges.items():
        runner.add(ex, syms, channels_for(ex, syms), endpoints=endpoints[ex])
