"""Hyperliquid connector against the simulated venue over real loopback sockets."""

from __future__ import annotations

import asyncio

import pytest

from connex.exchanges.base import Channel
from connex.model import (
    BookReset,
    Side,
    Subscribed,
    Trade,
)
from connex.runtime import Runner
from connex.sim import SimServer
from connex.sim.venues.hyperliquid import LIQUIDATOR, USERS
from tests.helpers import assert_book_matches_truth, wait_for

BTC = "BTC/USDC:USDC"
VICTIM_ID = 9_000_005  # USERS[9_000_005 % 8] holds the planted position
VICTIM = USERS[VICTIM_ID % len(USERS)]


@pytest.fixture
async def env():
    opts = {"hyperliquid": {"book_interval_ms": 0, "ctx_interval_ms": 200}}
    async with SimServer({"hyperliquid": [BTC]}, rate=1000, seed=9, venue_options=opts) as sim:
        runner = Runner(stale_after=2.0, backoff_initial=0.05)
        runner.add(
            "hyperliquid",
            [BTC],
            list(Channel),
            endpoints=sim.endpoints()["hyperliquid"],
            watch_addresses=[VICTIM, LIQUIDATOR],
        )
        events: list[object] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(lambda: runner.book("hyperliquid", BTC).is_live, 10)
            yield sim, runner, events


async def test_books_equal_truth_after_10000_snapshots(env) -> None:
    sim, runner, events = env
    sync = runner.book("hyperliquid", BTC)
    start = sync.counters.snapshots
    await asyncio.sleep(1.0)
    await assert_book_matches_truth(runner, sim, "hyperliquid", BTC, depth=20)
    ok = await wait_for(lambda: sync.counters.snapshots - start >= 10_000, 45)
    assert ok, (sync.counters.as_dict(), sim.steps, sync.is_live)
    await assert_book_matches_truth(runner, sim, "hyperliquid", BTC, depth=20)
    c = sync.counters
    assert c.duplicates == 0 and c.crossed == 0 and c.gaps == 0 and c.resyncs == 0
    assert len(sync.book.bids()) == 20 and len(sync.book.asks()) == 20
    assert not [e for e in events if isinstance(e, BookReset)]
    acks = {e.request_id for e in events if isinstance(e, Subscribed)}
    assert acks == {
        "l2Book:BTC",
        "trades:BTC",
        "bbo:BTC",
        "activeAssetCtx:BTC",
        f"userFills:{VICTIM}",
        f"userFills:{LIQUIDATOR}",
    }
    trades = [e for e in events if isinstance(e, Trade)]
    ids = [int(t.trade_id) for t in trades]
    assert len(ids) > 100 and ids == list(range(ids[0], ids[0] + len(ids)))  # none lost
    assert {t.side for t in trades} == {Side.BUY, Side.SELL}
