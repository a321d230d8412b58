"""Bybit connector against the simulator over real loopback sockets."""

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
    async with SimServer({"bybit": SYMBOLS}, rate=1000, seed=9) as sim:
        runner = Runner(stale_after=2.0, backoff_initial=0.05)
        runner.add("bybit", SYMBOLS, ALL, endpoints=sim.endpoints()["bybit"])
        events: list[object] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(lambda: all(runner.book("bybit", s).is_live for s in SYMBOLS), 10)
            yield sim, runner, events


async def test_books_equal_truth_after_10000_updates(env) -> None:
    sim, runner, events = env
    spot, perp = runner.book("bybit", SPOT), runner.book("bybit", PERP)
    await asyncio.sleep(1.0)
    await assert_book_matches_truth(runner, sim, "bybit", SPOT, depth=200)
    await assert_book_matches_truth(runner, sim, "bybit", PERP, depth=200)
    assert await wait_for(
        lambda: min(spot.counters.deltas_applied, perp.counters.deltas_applied) >= 10_000, 40
    )
    await assert_book_matches_truth(runner, sim, "bybit", SPOT, depth=200)
    await assert_book_matches_truth(runner, sim, "bybit", PERP, depth=200)
    for s in (spot, perp):
        c = s.counters
        assert c.gaps == 0 and c.crossed == 0 and c.resyncs == 0 and c.snapshots == 1
    trades = [e for e in events if isinstance(e, Trade) and e.symbol == SPOT]
    ids = [int(t.trade_id) for t in trades]  # spot ids are numeric strings
    assert len(ids) > 100 and ids == sorted(ids) and ids[-1] - ids[0] + 1 == len(ids)
    perp_trades = [e for e in events if isinstance(e, Trade) and e.symbol == PERP]
    assert perp_trades and len(perp_trades[-1].trade_id) == 36  # linear ids are UUIDs
    ticks = [e for e in events if isinstance(e, Ticker) and e.symbol == SPOT]
    assert ticks and all(t.bid_price < t.ask_price for t in ticks[-50:])


FAULTS = [Fault.DROP, Fault.DUPLICATE, Fault.REORDER, Fault.SEQ_GAP, Fault.RESNAPSHOT]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.value for f in FAULTS])
@pytest.mark.parametrize("symbol", SYMBOLS)
async def test_book_faults_detected_counted_and_recovered(env, fault: Fault, symbol: str) -> None:
    sim, runner, events = env
    sync = runner.book("bybit", symbol)
    before = sync.counters.as_dict()
    sim.inject("bybit", symbol, fault)
    if fault is Fault.DUPLICATE:
        assert await wait_for(lambda: sync.counters.duplicates > before["duplicates"], 5)
        assert sync.counters.gaps == before["gaps"] and sync.counters.resyncs == before["resyncs"]
    elif fault is Fault.RESNAPSHOT:
        # an unsolicited u == 1 snapshot replaces the book; the next deltas (u = 2, 3...) apply
        assert await wait_for(lambda: sync.counters.snapshots > before["snapshots"], 5)
        assert await wait_for(lambda: sync.book.sequence > 1 and sync.is_live, 5)
        assert sync.counters.gaps == before["gaps"]
    else:
        assert await wait_for(
            lambda: sync.counters.resyncs > before["resyncs"] and sync.is_live, 10
        )
        assert sync.counters.gaps > before["gaps"]
        resets = [e for e in events if isinstance(e, BookReset) and e.symbol == symbol]
        assert resets[-1].reason is ResetReason.GAP
    await assert_book_matches_truth(runner, sim, "bybit", symbol, depth=200)


async def test_malformed_frame_is_counted_and_feed_survives(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("bybit", PERP)
    sim.inject("bybit", PERP, Fault.MALFORMED)
    assert await wait_for(lambda: feed.core.counters.malformed >= 1, 5)
    err = next(e for e in events if isinstance(e, FeedError) and e.kind == "malformed")
    assert err.exchange == "bybit" and err.snippet.startswith('{"broken"')
    await assert_book_matches_truth(runner, sim, "bybit", PERP, depth=200)


async def test_disconnect_reconnects_and_resyncs(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("bybit", SPOT)
    sync = runner.book("bybit", SPOT)
    resyncs = sync.counters.resyncs
    sim.inject("bybit", "spot", Fault.DISCONNECT)
    assert await wait_for(lambda: feed.core.counters.reconnects >= 1, 10)
    assert await wait_for(lambda: sync.counters.resyncs > resyncs and sync.is_live, 10)
    assert any(isinstance(e, BookReset) and e.reason is ResetReason.RECONNECT for e in events)
    await assert_book_matches_truth(runner, sim, "bybit", SPOT, depth=200)


async def test_stall_is_detected_and_recovered(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("bybit", PERP)
    sim.inject("bybit", "linear", Fault.STALL, seconds=3.0)
    assert await wait_for(
        lambda: any(isinstance(e, BookReset) and e.reason is ResetReason.STALE for e in events), 10
    )
    assert await wait_for(
        lambda: feed.core.counters.reconnects >= 1 and runner.book("bybit", PERP).is_live, 10
    )
    await assert_book_matches_truth(runner, sim, "bybit", PERP, depth=200)


async def test_liquidations_funding_and_mark(env) -> None:
    sim, _runner, events = env
    model = sim.model("bybit", PERP)
    mark = model.mid_ticks()
    model.positions.append(
        SimPosition(20_000_000, True, mark, 7, 100, mark + 100_000)
    )  # long, liquidated now
    model.positions.append(
        SimPosition(20_000_001, False, mark, 3, 50, mark - 100_000)
    )  # short, liquidated now
    assert await wait_for(lambda: len([e for e in events if isinstance(e, Liquidation)]) >= 2, 10)
    liqs = {e.size: e for e in events if isinstance(e, Liquidation)}
    assert liqs[Decimal("0.0007")].side is PositionSide.LONG
    assert liqs[Decimal("0.0003")].side is PositionSide.SHORT
    assert (
        liqs[Decimal("0.0007")].symbol == PERP
        and abs(liqs[Decimal("0.0007")].price - Decimal(mark) / 10) < 100
    )
    fr = [e for e in events if isinstance(e, FundingRate)]
    assert fr and fr[-1].next_funding_ts % (8 * 3600 * 10**9) == 0
    assert fr[-1].mark_price is not None and abs(fr[-1].rate) < Decimal("0.001")
    assert await wait_for(lambda: sum(isinstance(e, MarkPrice) for e in events) > 5, 10)
    mps = [e for e in events if isinstance(e, MarkPrice)]
    # every MarkPrice is complete even though most ticker messages are partial deltas
    assert len(mps) > 5 and all(
        m.index_price is not None and m.open_interest is not None for m in mps
    )
    assert abs(mps[-1].mark_price - Decimal(model.mid_ticks()) / 10) < 100


async def test_depth_50_view_with_lenient_gap_rule() -> None:
    """``book_depth=50`` keeps a 50-level book from deltas that include levels entering and
    leaving the top 50; ``gap_rule="monotonic"`` accepts a skipped ``u`` (no data was lost)."""
    async with SimServer({"bybit": [PERP]}, rate=500, seed=3) as sim:
        runner = Runner(stale_after=2.0, backoff_initial=0.05)
        runner.add("bybit", [PERP], [Channel.BOOK], endpoints=sim.endpoints()["bybit"],
                   book_depth=50, gap_rule="monotonic")  # fmt: skip
        async with runner:
            sync = runner.book("bybit", PERP)
            assert await wait_for(lambda: sync.is_live and sync.counters.deltas_applied > 300, 10)
            assert sync.book.bid_count == sync.book.ask_count == 50
            await assert_book_matches_truth(runner, sim, "bybit", PERP, depth=50)
            sim.inject("bybit", PERP, Fault.SEQ_GAP)
            applied = sync.counters.deltas_applied
            assert await wait_for(lambda: sync.counters.deltas_applied > applied + 100, 10)
            assert sim.venue("bybit", "linear").faults.injected.get("seq_gap") == 1
            assert sync.counters.gaps == 0 and sync.counters.resyncs == 0
            await assert_book_matches_truth(runner, sim, "bybit", PERP, depth=50)
