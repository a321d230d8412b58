"""Gate URLs per environment and REST request builders.

Spot streams: ``wss://api.gateio.ws/ws/v4/``; USDT-settled perpetuals:
``wss://fx-ws.gateio.ws/v4/ws/usdt`` (../shared/protocols/gateio.md §1). The websocket
*path* is appended to the market's base URL (``WS_PATH``), so the simulator and the
testnet only need to provide a base. REST order books are asked with ``with_id=true``
(the ``id`` is what deltas align to) and ``limit`` equal to the subscribed level
(``BOOK_LEVEL``), as the futures docs require (§2).

The testnet uses other websocket paths (``/v4/ws/spot``, ``/v4/ws/futures/usdt``); pass
the full URL as the ``ws`` base to use it (``ws_url`` keeps a base that already ends in a
path).
"""

from __future__ import annotations

from connex.exchanges.base import HttpRequest, MarketEndpoints

__all__ = [
    "BOOK_INTERVAL",
    "BOOK_LEVEL",
    "PROD_ENDPOINTS",
    "WS_PATH",
    "contracts_request",
    "currency_pairs_request",
    "order_book_request",
    "ws_url",
]

PROD_ENDPOINTS: dict[str, MarketEndpoints] = {
    "spot": MarketEndpoints(ws="wss://api.gateio.ws", rest="https://api.gateio.ws"),
    "linear": MarketEndpoints(ws="wss://fx-ws.gateio.ws", rest="https://api.gateio.ws"),
}

#: Websocket path per market, appended to ``MarketEndpoints.ws``.
WS_PATH: dict[str, str] = {"spot": "/ws/v4/", "linear": "/v4/ws/usdt"}

#: Depth of the ``*.order_book_update`` subscription and of the REST snapshot (must match).
BOOK_LEVEL = 100
#: Update interval of the book subscription (spot: "100ms" means 100 levels).
BOOK_INTERVAL = "100ms"


def ws_url(market: str, base: str) -> str:
    """Full websocket URL of ``market`` under ``base`` (``wss://host`` or ``ws://127.0.0.1:N``)."""
    if "/" in base.split("://", 1)[-1].rstrip("/"):
        return base  # a full URL (testnet, custom proxy path)
    return base.rstrip("/") + WS_PATH[market]


def order_book_request(
    market: str, rest_base: str, venue_symbol: str, limit: int = BOOK_LEVEL
) -> HttpRequest:
    """``GET /api/v4/spot/order_book`` or ``GET /api/v4/futures/usdt/order_book`` with ids."""
    if market == "spot":
        path = "/api/v4/spot/order_book"
        params = {"currency_pair": venue_symbol, "limit": str(limit), "with_id": "true"}
    else:
        path = "/api/v4/futures/usdt/order_book"
        params = {"contract": venue_symbol, "limit": str(limit), "with_id": "true"}
    return HttpRequest(method="GET", url=rest_base + path, params=params, weight=1, key=rest_base)


def currency_pairs_request(rest_base: str) -> HttpRequest:
    """``GET /api/v4/spot/currency_pairs`` (spot listing: ``id``, ``base``, ``quote``)."""
    return HttpRequest(method="GET", url=rest_base + "/api/v4/spot/currency_pairs", key=rest_base)


def contracts_request(rest_base: str) -> HttpRequest:
    """``GET /api/v4/futures/usdt/contracts`` (``name``, ``quanto_multiplier``...)."""
    return HttpRequest(
        method="GET", url=rest_base + "/api/v4/futures/usdt/contracts", key=rest_base
    )
