"""Binance URLs per environment and REST request builders.

Spot streams: ``wss://stream.binance.com:9443/stream`` (combined format).
USD-M streams since the 2026 URL split: high-frequency streams (``@depth``,
``@bookTicker``) on ``wss://fstream.binance.com/public/stream``, everything else
(``@aggTrade``, ``@markPrice``, ``@forceOrder``) on ``.../market/stream``; an un-routed
URL silently delivers nothing for ``/market`` streams (../shared/protocols/binance.md §1).
Which path a stream takes is the table ``UM_ROUTE`` below, so a change by Binance is a
one-line edit.
"""

from __future__ import annotations

from connex.exchanges.base import HttpRequest, MarketEndpoints

__all__ = [
    "PROD_ENDPOINTS",
    "SNAPSHOT_LIMIT",
    "UM_ROUTE",
    "depth_request",
    "snapshot_weight",
    "stream_url",
]

PROD_ENDPOINTS: dict[str, MarketEndpoints] = {
    "spot": MarketEndpoints(ws="wss://stream.binance.com:9443", rest="https://api.binance.com"),
    "linear": MarketEndpoints(ws="wss://fstream.binance.com", rest="https://fapi.binance.com"),
}

#: USD-M stream suffix -> URL path prefix ("public" or "market").
UM_ROUTE: dict[str, str] = {
    "depth": "public",
    "bookTicker": "public",
    "trade": "public",
    "aggTrade": "market",
    "markPrice": "market",
    "forceOrder": "market",
}

#: Levels asked for in a REST snapshot (spot max 5000, USD-M max 1000).
SNAPSHOT_LIMIT = 1000


def stream_url(market: str, base: str, route: str = "") -> str:
    """Combined-stream URL for ``market`` (``route`` is the USD-M path prefix)."""
    if market == "spot":
        return f"{base}/stream"
    return f"{base}/{route}/stream" if route else f"{base}/stream"


def snapshot_weight(market: str, limit: int) -> int:
    """Request weight of a depth snapshot (spot 5/25/50/250; USD-M 2/5/10/20)."""
    if market == "spot":
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20


def depth_request(
    market: str, rest_base: str, venue_symbol: str, limit: int = SNAPSHOT_LIMIT
) -> HttpRequest:
    """``GET /api/v3/depth`` (spot) or ``GET /fapi/v1/depth`` (USD-M)."""
    path = "/api/v3/depth" if market == "spot" else "/fapi/v1/depth"
    return HttpRequest(
        method="GET",
        url=rest_base + path,
        params={"symbol": venue_symbol, "limit": str(limit)},
        weight=snapshot_weight(market, limit),
        key=rest_base,
    )
