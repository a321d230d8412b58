"""Bybit v5 URLs per environment.

Public streams: one URL per category, ``{ws}/v5/public/{spot|linear|inverse|option}``;
a topic sent to the wrong category fails with "handler not found". REST
``https://api.bybit.com``. Source: ../shared/protocols/bybit.md §1.
"""

from __future__ import annotations

from connex.exchanges.base import MarketEndpoints

__all__ = ["PROD_ENDPOINTS", "TESTNET_ENDPOINTS", "public_url"]

PROD_ENDPOINTS: dict[str, MarketEndpoints] = {
    "spot": MarketEndpoints(ws="wss://stream.bybit.com", rest="https://api.bybit.com"),
    "linear": MarketEndpoints(ws="wss://stream.bybit.com", rest="https://api.bybit.com"),
}
TESTNET_ENDPOINTS: dict[str, MarketEndpoints] = {
    "spot": MarketEndpoints(
        ws="wss://stream-testnet.bybit.com", rest="https://api-testnet.bybit.com"
    ),
    "linear": MarketEndpoints(
        ws="wss://stream-testnet.bybit.com", rest="https://api-testnet.bybit.com"
    ),
}


def public_url(ws_base: str, market: str) -> str:
    """``wss://stream.bybit.com/v5/public/linear`` for ``market='linear'``."""
    return f"{ws_base.rstrip('/')}/v5/public/{market}"
