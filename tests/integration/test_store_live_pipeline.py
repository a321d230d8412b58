"""Simulator -> Binance connector -> Runner -> StoreWriter -> DuckDB -> heatmap, over loopback."""

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path

import pytest

from connex.exchanges.base import Channel
from connex.heatmap import heatmap_timeseries
from connex.model import FundingRate, Liquidation, MarkPrice, Trade
from connex.runtime import Runner
from connex.sim import SimServer
from connex.store import Store, StoreWriter
from tests.helpers import wait_for

pytestmark = pytest.mark.timeout(60)
SYM = "BTC/USDT:USDT"


async def test_live_events_are_stored_once_and_feed_the_heatmap(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "live.duckdb")
    liqs: list[Liquidation] = []
    trades: list[Trade] = []
    async with SimServer({"binance": [SYM]}, rate=400, seed=11) as sim:
        sim.model("binance", SYM).seed_open_interest(2000, 0.002)  # liquidations within seconds
        runner = Runner(stale_after=2.0, backoff_initial=0.05)
        runner.add(
            "binance",
            [SYM],
            [Channel.TRADES, Channel.LIQUIDATIONS, Channel.FUNDING],
            endpoints=sim.endpoints()["binance"],
        )
        stream = runner.events(types=(Liquidation, Trade, FundingRate, MarkPrice))
        async with (
            StoreWriter(store, store_trades=True, flush_rows=200, flush_interval_s=0.1) as writer,
            runner,
        ):

            async def pump() -> None:
                async for ev in stream:
                    if isinstance(ev, Liquidation):
                        liqs.append(ev)
                    elif isinstance(ev, Trade):
                        trades.append(ev)
                    await writer.put(ev)
                    await writer.put(ev)  # a duplicate of every event: must be stored once

            task = asyncio.create_task(pump())
            try:
                assert await wait_for(lambda: len(liqs) >= 5 and writer.stored > 0, 30), (
                    f"{len(liqs)} liquidations"
                )
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        # leaving the writer flushed everything it was given
        assert writer.pending == 0 and writer.duplicates >= len(liqs) + len(trades)
    try:
        rows = store.query_liquidations(exchange=["binance"], symbol=SYM, limit=10_000)
        want = {(lq.side.value, lq.price, lq.size, lq.ts_exchange or lq.ts_local) for lq in liqs}
        got = {(r["side"], Decimal(r["price"]), Decimal(r["size"]), r["ts_ns"]) for r in rows}
        assert got == want and len(rows) == len(want)
        cur = store.cursor()
        stored_trades = dict(
            cur.execute("SELECT trade_id, price FROM trades WHERE exchange = 'binance'").fetchall()
        )
        assert stored_trades == {t.trade_id: t.price for t in trades}
        (marks,) = cur.execute(
            "SELECT count(*) FROM funding WHERE kind = 'mark' AND mark_price > 0"
        ).fetchone()  # type: ignore[misc]
        assert marks > 0
        hm = heatmap_timeseries(store, SYM, ["binance"], 1, "10")
        assert hm["realized"]["total"]["count"] == len(rows)
        total = sum((Decimal(r["notional"]) for r in rows), Decimal(0))
        assert Decimal(hm["realized"]["total"]["notional"]) == total
        assert hm["estimated"]["kind"] == "estimate" and hm["estimated"]["source"] == "trades"
    finally:
        store.close()
