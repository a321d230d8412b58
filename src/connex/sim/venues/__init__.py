"""Simulated venues, one module per exchange; ``venue_class`` finds one by key."""

from __future__ import annotations

import importlib

from ..venue import Venue

__all__ = ["VENUES", "venue_class"]

#: (exchange, market) -> "module:Class"
VENUES: dict[tuple[str, str], str] = {
    ("binance", "spot"): "binance:BinanceSpotVenue",
    ("binance", "linear"): "binance:BinanceFuturesVenue",
    ("okx", "spot"): "okx:OkxSpotVenue",
    ("okx", "linear"): "okx:OkxSwapVenue",
    ("bybit", "spot"): "bybit:BybitSpotVenue",
    ("bybit", "linear"): "bybit:BybitLinearVenue",
    ("gateio", "spot"): "gateio:GateSpotVenue",
    ("gateio", "linear"): "gateio:GateFuturesVenue",
    ("mexc", "spot"): "mexc:MexcSpotVenue",
    ("mexc", "linear"): "mexc:MexcFuturesVenue",
    ("hyperliquid", "linear"): "hyperliquid:HyperliquidVenue",
}


def venue_class(exchange: str, market: str) -> type[Venue]:
    try:
        target = VENUES[(exchange, market)]
    except KeyError:
        raise ValueError(
            f"the simulator has no {market} venue for {exchange!r}; it has: "
            + ", ".join(f"{e}/{m}" for e, m in VENUES)
        ) from None
    module, _, name = target.partition(":")
    cls: type[Venue] = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return cls
