"""A third-party client (ccxt.pro's MEXC) against the simulated MEXC venues.

ccxt's MEXC code (with its own bundled protobuf schema, which predates the 2026 fields)
was written from MEXC's docs and live traffic, independently of ours: if it keeps books
equal to the simulator's truth, the venues speak MEXC closely enough for it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from connex.sim import SimServer

ccxtpro = pytest.importorskip("ccxt.pro")


async def test_ccxt_pro_mexc_spot_and_futures_books_match_the_simulator() -> None:
    async with SimServer({"mexc": ["BTC/USDT", "BTC/USDT:USDT"]}, rate=100, seed=2) as sim:
        spot, fut = sim.endpoints()["mexc"]["spot"], sim.endpoints()["mexc"]["linear"]
        ex = ccxtpro.mexc({"enableRateLimit": False})
        ex.urls["api"]["spot"] = {"public": spot["rest"], "private": spot["rest"]}
        ex.urls["api"]["contract"] = {
            "public": fut["rest"] + "/api/v1/contract",
            "private": fut["rest"] + "/api/v1/private",
        }
        ex.urls["api"]["ws"] = {"spot": spot["ws"] + "/ws", "swap": fut["ws"] + "/edge"}
        try:
            await ex.load_markets()
            assert ex.markets["BTC/USDT:USDT"]["contractSize"] == 0.0001
            for _ in range(40):  # ccxt buffers 25 pushes before its REST snapshot
                await asyncio.wait_for(ex.watch_order_book("BTC/USDT"), 10)
            for _ in range(40):
                await asyncio.wait_for(ex.watch_order_book("BTC/USDT:USDT"), 10)
            trades = await asyncio.wait_for(ex.watch_trades("BTC/USDT"), 10)
            assert trades[-1]["side"] in ("buy", "sell") and trades[-1]["takerOrMaker"] == "taker"
            assert trades[-1]["price"] > 50_000
            sim.pause()
            await asyncio.sleep(0.5)
            tb, ta = sim.truth("mexc", "BTC/USDT", 25)
            book = ex.orderbooks["BTC/USDT"]
            assert [list(x[:2]) for x in book["bids"][:25]] == [
                [float(p), float(q)] for p, q in sorted(tb.items(), reverse=True)
            ]
            assert [list(x[:2]) for x in book["asks"][:25]] == [
                [float(p), float(q)] for p, q in sorted(ta.items())
            ]
            assert book["nonce"] <= sim.venue("mexc", "spot").version["BTC/USDT"]
            # futures sizes are contracts of 0.0001 BTC
            tb, ta = sim.truth("mexc", "BTC/USDT:USDT", 25)
            fbook = ex.orderbooks["BTC/USDT:USDT"]
            got = [(Decimal(str(p)), Decimal(str(q)) / 10_000) for p, q, *_ in fbook["bids"][:25]]
            assert got == sorted(tb.items(), reverse=True)
            got = [(Decimal(str(p)), Decimal(str(q)) / 10_000) for p, q, *_ in fbook["asks"][:25]]
            assert got == sorted(ta.items())
        finally:
            await ex.close()
