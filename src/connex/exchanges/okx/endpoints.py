"""OKX URLs per environment.

Every public market-data channel used here (``books``, ``trades``, ``tickers``,
``liquidation-orders``, ``funding-rate``, ``mark-price``) is served on one path,
``/ws/v5/public``, for all instrument types; ``/ws/v5/business`` (candles, ``trades-all``)
is not used. Demo trading lives on ``wspap.okx.com``. Source:
../shared/protocols/okx.md §1 (DOCS overview-production/demo-trading-services).

Markets are keyed like every other connector (``spot``, ``linear``, ``inverse``) so the
simulator can serve them on separate ports; in production they share one host.
"""

from __future__ import annotations

from connex.exchanges.base import MarketEndpoints

__all__ = ["DEMO_ENDPOINTS", "PROD_ENDPOINTS", "PUBLIC_PATH", "public_url"]

PUBLIC_PATH = "/ws/v5/public"

_PROD = MarketEndpoints(ws="wss://ws.okx.com:8443", rest="https://www.okx.com")
_DEMO = MarketEndpoints(ws="wss://wspap.okx.com:8443", rest="https://www.okx.com")

PROD_ENDPOINTS: dict[str, MarketEndpoints] = {"spot": _PROD, "linear": _PROD, "inverse": _PROD}
#: Demo trading (REST calls additionally need the header ``x-simulated-trading: 1``).
DEMO_ENDPOINTS: dict[str, MarketEndpoints] = {"spot": _DEMO, "linear": _DEMO, "inverse": _DEMO}


def public_url(ws_base: str) -> str:
    """The public websocket URL under a base (``wss://ws.okx.com:8443/ws/v5/public``)."""
    return ws_base.rstrip("/") + PUBLIC_PATH
