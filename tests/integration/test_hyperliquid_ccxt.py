"""A third-party client (ccxt.pro's Hyperliquid) against the simulated Hyperliquid venue.

ccxt's Hyperliquid code was written from Hyperliquid's docs and live traffic,
independently of ours: if it loads the markets, keeps a book equal to the simulator's
truth and reads trade sides the same way, the venue speaks Hyperliquid closely enough.
"""

from __future__ import annotations

import asyncio

import pytest

from connex.sim import SimServer

ccxtpro = pytest.importorskip("ccxt.pro")
BTC = "BTC/USDC:USDC"


async def test_ccxt_pro_hyperliquid_book_and_trades_match_the_simulator() -> None:
    opts = {"hyperliquid": {"book_interval_ms": 0}}
    async with SimServer({"hyperliquid": [BTC]}, rate=100, seed=6, venue_options=opts) as sim:
        ep = sim.endpoints()["hyperliquid"]["linear"]
        ex = ccxtpro.hyperliquid(
            {"enableRateLimit": False, "options": {"fetchMarkets": {"types": ["swap"]}}}
        )
        ex.urls["api"] = {
            "public": ep["rest"],
            "private": ep["rest"],
            "ws": {"public": ep["ws"] + "/ws"},
        }
        try:
            await ex.load_markets()
            assert list(ex.markets) == [BTC] and ex.markets[BTC]["id"] == "0"  # asset index
            for _ in range(20):
                await asyncio.wait_for(ex.watch_order_book(BTC), 10)
            trades = await asyncio.wait_for(ex.watch_trades(BTC), 10)
            t = trades[-1]
            assert t["side"] == {"B": "buy", "A": "sell"}[t["info"]["side"]]
            assert t["id"] == str(t["info"]["tid"]) and t["price"] > 50_000
            sim.pause()
            await asyncio.sleep(0.5)
            tb, ta = sim.truth("hyperliquid", BTC, 20)
            book = ex.orderbooks[BTC]
            assert [list(x[:2]) for x in book["bids"][:20]] == [
                [float(p), float(q)] for p, q in sorted(tb.items(), reverse=True)
            ]
            assert [list(x[:2]) for x in book["asks"][:20]] == [
                [float(p), float(q)] for p, q in sorted(ta.items())
            ]
        finally:
            await ex.close()
