"""MEXC URLs per environment and REST request builders.

Spot: websocket ``wss://wbs-api.mexc.com/ws`` (the old ``wbs.mexc.com`` JSON channels are
retired); REST ``https://api.mexc.com``; book snapshot
``GET /api/v3/depth?symbol=BTCUSDT&limit=5000`` (weight 1, max 5000 levels).

Futures ("contract" API, USDT perpetuals): websocket ``wss://contract.mexc.com/edge``;
REST ``https://contract.mexc.com`` (also served by ``api.mexc.com``); book snapshot
``GET /api/v1/contract/depth/BTC_USDT?limit=1000``; contract list with ``contractSize``
``GET /api/v1/contract/detail``.
Source: ../shared/protocols/mexc.md §1, §3, §5.
"""

from __future__ import annotations

from connex.exchanges.base import HttpRequest, MarketEndpoints

__all__ = [
    "FUTURES_SNAPSHOT_LIMIT",
    "FUTURES_WS_PATH",
    "PROD_ENDPOINTS",
    "SNAPSHOT_LIMIT",
    "WS_PATH",
    "contract_detail_request",
    "depth_request",
    "futures_depth_request",
    "ws_url",
]

PROD_ENDPOINTS: dict[str, MarketEndpoints] = {
    "spot": MarketEndpoints(ws="wss://wbs-api.mexc.com", rest="https://api.mexc.com"),
    "linear": MarketEndpoints(ws="wss://contract.mexc.com", rest="https://contract.mexc.com"),
}

#: Websocket path under the ``ws`` base URL, per market.
WS_PATH = "/ws"
FUTURES_WS_PATH = "/edge"

#: Levels asked for in a spot REST snapshot (MEXC maximum; levels deeper than the snapshot
#: that never change never arrive, so a deep snapshot keeps the deep book honest).
SNAPSHOT_LIMIT = 5000
#: Levels asked for in a futures REST snapshot.
FUTURES_SNAPSHOT_LIMIT = 1000


def ws_url(base: str, market: str = "spot") -> str:
    """Websocket URL for a ``ws`` base (``wss://wbs-api.mexc.com`` -> ``.../ws``)."""
    return base.rstrip("/") + (WS_PATH if market == "spot" else FUTURES_WS_PATH)


def depth_request(rest_base: str, venue_symbol: str, limit: int = SNAPSHOT_LIMIT) -> HttpRequest:
    """Spot ``GET /api/v3/depth`` for ``venue_symbol`` (weight 1)."""
    return HttpRequest(
        method="GET",
        url=rest_base.rstrip("/") + "/api/v3/depth",
        params={"symbol": venue_symbol, "limit": str(limit)},
        weight=1,
        key=rest_base,
    )


def futures_depth_request(
    rest_base: str, venue_symbol: str, limit: int = FUTURES_SNAPSHOT_LIMIT
) -> HttpRequest:
    """Futures ``GET /api/v1/contract/depth/{symbol}``."""
    return HttpRequest(
        method="GET",
        url=f"{rest_base.rstrip('/')}/api/v1/contract/depth/{venue_symbol}",
        params={"limit": str(limit)},
        weight=1,
        key=rest_base,
    )


def contract_detail_request(rest_base: str) -> HttpRequest:
    """Futures ``GET /api/v1/contract/detail`` (``symbol``, ``baseCoin``, ``contractSize``...)."""
    return HttpRequest(
        method="GET", url=rest_base.rstrip("/") + "/api/v1/contract/detail", key=rest_base
    )
