"""A third-party client (ccxt.pro's OKX) against the simulated OKX venue.

ccxt's OKX code was written from OKX's docs and live traffic, independently of ours: if it
keeps a book equal to the simulator's truth, the venue speaks OKX closely enough for it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from connex.sim import SimServer

ccxtpro = pytest.importorskip("ccxt.pro")


async def test_ccxt_pro_okx_book_and_trades_match_the_simulator() -> None:
    async with SimServer(
        {"okx": ["BTC/USDT"]}, rate=100, venue_options={"okx": {"checksum": True}}
    ) as sim:
        ep = sim.endpoints()["okx"]["spot"]
        ex = ccxtpro.okx({"enableRateLimit": False})
        ex.urls["api"] = {"rest": ep["rest"], "ws": ep["ws"] + "/ws/v5"}
        try:
            for _ in range(30):
                await asyncio.wait_for(ex.watch_order_book("BTC/USDT"), 10)
            trades = await asyncio.wait_for(ex.watch_trades("BTC/USDT"), 10)
            assert trades[-1]["symbol"] == "BTC/USDT" and trades[-1]["side"] in ("buy", "sell")
            assert int(trades[-1]["id"]) > 0 and trades[-1]["price"] > 50_000
            sim.pause()
            await asyncio.sleep(0.5)
            book = ex.orderbooks["BTC/USDT"]
            tb, ta = sim.truth("okx", "BTC/USDT", 25)
            want_b = [[float(p), float(q)] for p, q in sorted(tb.items(), reverse=True)]
            want_a = [[float(p), float(q)] for p, q in sorted(ta.items())]
            assert [list(x[:2]) for x in book["bids"][:25]] == want_b
            assert [list(x[:2]) for x in book["asks"][:25]] == want_a
            assert book["nonce"] == sim.venue("okx", "spot").seq["BTC/USDT"]
            assert Decimal(str(book["bids"][0][0])) < Decimal(str(book["asks"][0][0]))
        finally:
            await ex.close()
