"""OKX connector against the simulator (checksum mode on) over real loopback sockets."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from connex.exchanges.base import Channel
from connex.model import (
    BookReset,
    FeedError,
    FundingRate,
    Liquidation,
    MarkPrice,
    PositionSide,
    ResetReason,
    Ticker,
    Trade,
)
from connex.runtime import Runner
from connex.sim import Fault, SimServer
from connex.sim.market import SimPosition
from tests.helpers import assert_book_matches_truth, wait_for

SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"
SYMBOLS = [SPOT, PERP]
ALL = [
    Channel.BOOK,
    Channel.TRADES,
    Channel.TICKER,
    Channel.LIQUIDATIONS,
    Channel.FUNDING,
    Channel.MARK_PRICE,
]


@pytest.fixture
async def env():
    async with SimServer(
        {"okx": SYMBOLS}, rate=1000, seed=5, venue_options={"okx": {"checksum": True}}
    ) as sim:
        runner = Runner(stale_after=2.0, backoff_initial=0.05)
        runner.add("okx", SYMBOLS, ALL, endpoints=sim.endpoints()["okx"])
        events: list[object] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(lambda: all(runner.book("okx", s).is_live for s in SYMBOLS), 10)
            yield sim, runner, events


async def test_books_equal_truth_after_10000_updates_all_checksums_verified(env) -> None:
    sim, runner, events = env
    spot, perp = runner.book("okx", SPOT), runner.book("okx", PERP)
    await asyncio.sleep(1.0)
    await assert_book_matches_truth(runner, sim, "okx", SPOT, depth=100)
    await assert_book_matches_truth(runner, sim, "okx", PERP, depth=100)
    assert await wait_for(
        lambda: min(spot.counters.deltas_applied, perp.counters.deltas_applied) >= 10_000, 40
    )
    await assert_book_matches_truth(runner, sim, "okx", SPOT, depth=400)
    await assert_book_matches_truth(runner, sim, "okx", PERP, depth=400)
    for s in (spot, perp):
        c = s.counters
        assert c.gaps == 0 and c.crossed == 0 and c.checksum_failures == 0 and c.resyncs == 0
        # every update and the snapshot carried a real CRC32, and each one was checked
        assert c.checksums_verified == c.deltas_applied + c.snapshots
    trades = [e for e in events if isinstance(e, Trade) and e.symbol == SPOT]
    ids = [int(t.trade_id) for t in trades]
    assert len(ids) > 100 and ids == sorted(ids) and ids[-1] - ids[0] + 1 == len(ids)
    ticks = [e for e in events if isinstance(e, Ticker) and e.symbol == PERP]
    assert ticks and all(t.bid_price < t.ask_price for t in ticks[-50:])


FAULTS = [Fault.DROP, Fault.DUPLICATE, Fault.REORDER, Fault.SEQ_GAP, Fault.BAD_CHECKSUM]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.value for f in FAULTS])
@pytest.mark.parametrize("symbol", SYMBOLS)
async def test_book_faults_detected_counted_and_recovered(env, fault: Fault, symbol: str) -> None:
    sim, runner, events = env
    sync = runner.book("okx", symbol)
    before = sync.counters.as_dict()
    sim.inject("okx", symbol, fault)
    if fault is Fault.DUPLICATE:
        assert await wait_for(lambda: sync.counters.duplicates > before["duplicates"], 5)
        assert sync.counters.gaps == before["gaps"] and sync.counters.resyncs == before["resyncs"]
    else:
        assert await wait_for(
            lambda: sync.counters.resyncs > before["resyncs"] and sync.is_live, 10
        )
        resets = [e for e in events if isinstance(e, BookReset) and e.symbol == symbol]
        if fault is Fault.BAD_CHECKSUM:
            assert sync.counters.checksum_failures == before["checksum_failures"] + 1
            assert resets[-1].reason is ResetReason.CHECKSUM
        else:
            assert sync.counters.gaps > before["gaps"]
            assert resets[-1].reason is ResetReason.GAP
    await assert_book_matches_truth(runner, sim, "okx", symbol, depth=100)


async def test_malformed_frame_is_counted_and_feed_survives(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("okx", SPOT)
    sim.inject("okx", SPOT, Fault.MALFORMED)
    assert await wait_for(lambda: feed.core.counters.malformed >= 1, 5)
    err = next(e for e in events if isinstance(e, FeedError) and e.kind == "malformed")
    assert err.exchange == "okx" and err.snippet.startswith('{"broken"')
    await assert_book_matches_truth(runner, sim, "okx", SPOT, depth=100)


async def test_disconnect_reconnects_and_resyncs(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("okx", PERP)
    sync = runner.book("okx", PERP)
    resyncs = sync.counters.resyncs
    sim.inject("okx", "linear", Fault.DISCONNECT)
    assert await wait_for(lambda: feed.core.counters.reconnects >= 1, 10)
    assert await wait_for(lambda: sync.counters.resyncs > resyncs and sync.is_live, 10)
    assert any(isinstance(e, BookReset) and e.reason is ResetReason.RECONNECT for e in events)
    await assert_book_matches_truth(runner, sim, "okx", PERP, depth=100)


async def test_stall_is_detected_and_recovered(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("okx", SPOT)
    sim.inject("okx", "spot", Fault.STALL, seconds=3.0)
    assert await wait_for(
        lambda: any(isinstance(e, BookReset) and e.reason is ResetReason.STALE for e in events), 10
    )
    assert await wait_for(
        lambda: feed.core.counters.reconnects >= 1 and runner.book("okx", SPOT).is_live, 10
    )
    await assert_book_matches_truth(runner, sim, "okx", SPOT, depth=100)


async def test_liquidations_side_funding_and_mark(env) -> None:
    sim, _runner, events = env
    model = sim.model("okx", PERP)
    mark = model.mid_ticks()
    # a long whose liquidation price is far above the mark (liquidated at once; even id ->
    # posSide "net") and a short far below it (odd id -> posSide "short")
    model.positions.append(SimPosition(10_000_000, True, mark, 7, 100, mark + 100_000))
    model.positions.append(SimPosition(10_000_001, False, mark, 3, 50, mark - 100_000))
    assert await wait_for(lambda: len([e for e in events if isinstance(e, Liquidation)]) >= 2, 10)
    liqs = {e.size: e for e in events if isinstance(e, Liquidation)}
    long_liq, short_liq = liqs[Decimal("0.0007")], liqs[Decimal("0.0003")]
    assert long_liq.side is PositionSide.LONG and short_liq.side is PositionSide.SHORT
    assert long_liq.symbol == PERP and abs(long_liq.price - Decimal(mark) / 10) < 100
    fr = [e for e in events if isinstance(e, FundingRate)]
    assert fr and fr[-1].symbol == PERP and fr[-1].next_funding_ts % (8 * 3600 * 10**9) == 0
    assert abs(fr[-1].rate) < Decimal("0.001")
    assert await wait_for(lambda: any(isinstance(e, MarkPrice) for e in events), 5)
    mp = next(e for e in reversed(events) if isinstance(e, MarkPrice))
    assert mp.symbol == PERP and abs(mp.mark_price - Decimal(model.mid_ticks()) / 10) < 100


async def test_checksum_off_like_live_okx_sequence_chain_still_guards() -> None:
    """Today's OKX sends ``checksum: 0``: nothing is checksummed, gaps are still caught."""
    async with SimServer({"okx": [PERP]}, rate=500, seed=8) as sim:
        runner = Runner(stale_after=2.0, backoff_initial=0.05)
        runner.add("okx", [PERP], [Channel.BOOK], endpoints=sim.endpoints()["okx"])
        async with runner:
            sync = runner.book("okx", PERP)
            assert await wait_for(lambda: sync.is_live and sync.counters.deltas_applied > 300, 10)
            sim.inject("okx", PERP, Fault.DROP)
            assert await wait_for(lambda: sync.counters.resyncs == 1 and sync.is_live, 10)
            assert sync.counters.gaps == 1 and sync.counters.checksums_verified == 0
            await assert_book_matches_truth(runner, sim, "okx", PERP, depth=400)
