"""A third-party client (ccxt.pro's Bybit) against the simulated Bybit linear venue.

ccxt's Bybit code was written from Bybit's docs and live traffic, independently of ours: if it
keeps a book equal to the simulator's truth, the venue speaks Bybit closely enough for it.
"""

from __future__ import annotations

import asyncio

import pytest

from connex.sim import SimServer

ccxtpro = pytest.importorskip("ccxt.pro")


async def test_ccxt_pro_bybit_linear_book_and_trades_match_the_simulator() -> None:
    async with SimServer({"bybit": ["BTC/USDT:USDT"]}, rate=100) as sim:
        ep = sim.endpoints()["bybit"]["linear"]
        ex = ccxtpro.bybit({"enableRateLimit": False})
        for key in ("spot", "futures", "v2", "public", "private"):
            ex.urls["api"][key] = ep["rest"]
        ex.urls["api"]["ws"]["public"]["linear"] = ep["ws"] + "/v5/public/linear"
        ex.options["fetchMarkets"] = {"types": ["linear"]}
        try:
            await ex.load_markets()
            assert ex.markets["BTC/USDT:USDT"]["id"] == "BTCUSDT"
            for _ in range(30):
                await asyncio.wait_for(ex.watch_order_book("BTC/USDT:USDT"), 10)
            trades = await asyncio.wait_for(ex.watch_trades("BTC/USDT:USDT"), 10)
            assert trades[-1]["side"] in ("buy", "sell") and len(trades[-1]["id"]) == 36
            sim.pause()
            await asyncio.sleep(0.5)
            book = ex.orderbooks["BTC/USDT:USDT"]
            tb, ta = sim.truth("bybit", "BTC/USDT:USDT", 25)
            want_b = [[float(p), float(q)] for p, q in sorted(tb.items(), reverse=True)]
            want_a = [[float(p), float(q)] for p, q in sorted(ta.items())]
            assert [list(x[:2]) for x in book["bids"][:25]] == want_b
            assert [list(x[:2]) for x in book["asks"][:25]] == want_a
        finally:
            await ex.close()
