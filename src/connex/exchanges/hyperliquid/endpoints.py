"""Hyperliquid URLs per environment and ``/info`` request bodies.

Websocket ``wss://api.hyperliquid.xyz/ws``; REST ``POST https://api.hyperliquid.xyz/info``
(JSON body, ``Content-Type: application/json``); testnet host
``api.hyperliquid-testnet.xyz``. Books never need REST here: every ``l2Book`` push is a
full snapshot, so a fresh book comes from (re)subscribing. The ``/info`` bodies below are
for tools that want a one-off snapshot or the asset list.
Source: ../shared/protocols/hyperliquid.md §1, §2, §5.
"""

from __future__ import annotations

import msgspec

from connex.exchanges.base import MarketEndpoints

__all__ = [
    "INFO_PATH",
    "PROD_ENDPOINTS",
    "TESTNET_ENDPOINTS",
    "WS_PATH",
    "info_url",
    "l2_book_body",
    "meta_and_asset_ctxs_body",
    "ws_url",
]

PROD_ENDPOINTS: dict[str, MarketEndpoints] = {
    "linear": MarketEndpoints(ws="wss://api.hyperliquid.xyz", rest="https://api.hyperliquid.xyz"),
}
TESTNET_ENDPOINTS: dict[str, MarketEndpoints] = {
    "linear": MarketEndpoints(
        ws="wss://api.hyperliquid-testnet.xyz", rest="https://api.hyperliquid-testnet.xyz"
    ),
}

WS_PATH = "/ws"
INFO_PATH = "/info"


def ws_url(base: str) -> str:
    return base.rstrip("/") + WS_PATH


def info_url(rest_base: str) -> str:
    return rest_base.rstrip("/") + INFO_PATH


def l2_book_body(coin: str, n_sig_figs: int | None = None) -> bytes:
    """``POST /info`` body for a book snapshot (same shape as the ``l2Book`` push)."""
    return msgspec.json.encode({"type": "l2Book", "coin": coin, "nSigFigs": n_sig_figs})


def meta_and_asset_ctxs_body() -> bytes:
    """``POST /info`` body for the perp universe and its asset contexts."""
    return b'{"type":"metaAndAssetCtxs"}'
