"""Binance connector against the simulator over real loopback sockets."""

from __future__ import annotations

import asyncio

import pytest

from connex.exchanges.base import Channel
from connex.model import BookReset, FeedError, Liquidation, PositionSide, ResetReason, Trade
from connex.runtime import Runner
from connex.sim import Fault, SimServer
from tests.helpers import assert_book_matches_truth, wait_for

SYMBOLS = ["BTC/USDT", "BTC/USDT:USDT"]


@pytest.fixture
async def env(request):
    rate = getattr(request, "param", 400)
    async with SimServer({"binance": SYMBOLS}, rate=rate, seed=11) as sim:
        # leveraged positions with liquidation prices near the market: liquidations within seconds
        sim.model("binance", "BTC/USDT:USDT").seed_open_interest()
        runner = Runner(stale_after=2.0, backoff_initial=0.05)
        runner.add(
            "binance",
            SYMBOLS,
            [Channel.BOOK, Channel.TRADES, Channel.LIQUIDATIONS, Channel.FUNDING],
            endpoints=sim.endpoints()["binance"],
        )
        events: list[object] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(
                lambda: all(runner.book("binance", s).is_live for s in SYMBOLS), 10
            )
            yield sim, runner, events


@pytest.mark.parametrize("env", [1500], indirect=True)
async def test_books_equal_truth_after_10000_deltas(env) -> None:
    sim, runner, events = env
    spot = runner.book("binance", "BTC/USDT")
    perp = runner.book("binance", "BTC/USDT:USDT")
    start = spot.counters.deltas_applied
    for _ in range(3):  # check at several points while it runs
        await asyncio.sleep(1.0)
        await assert_book_matches_truth(runner, sim, "binance", "BTC/USDT", depth=100)
        await assert_book_matches_truth(runner, sim, "binance", "BTC/USDT:USDT", depth=100)
    assert await wait_for(lambda: spot.counters.deltas_applied - start >= 10_000, 60)
    await assert_book_matches_truth(runner, sim, "binance", "BTC/USDT", depth=200)
    await assert_book_matches_truth(runner, sim, "binance", "BTC/USDT:USDT", depth=200)
    assert perp.counters.deltas_applied >= 10_000
    for s in (spot, perp):
        assert (
            s.counters.gaps == 0 and s.counters.crossed == 0 and s.counters.checksum_failures == 0
        )
    trades = [e for e in events if isinstance(e, Trade) and e.symbol == "BTC/USDT"]
    ids = [int(t.trade_id) for t in trades]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and len(ids) > 100
    # every trade id the venue printed since we subscribed arrived (no loss)
    assert ids[-1] - ids[0] + 1 == len(ids)


async def test_liquidations_and_funding_are_normalized(env) -> None:
    _sim, _runner, events = env
    assert await wait_for(lambda: any(isinstance(e, Liquidation) for e in events), 20)
    liq = next(e for e in events if isinstance(e, Liquidation))
    assert liq.symbol == "BTC/USDT:USDT" and liq.side in (PositionSide.LONG, PositionSide.SHORT)
    assert liq.price > 0 and liq.size > 0 and liq.notional == liq.price * liq.size


FAULTS = [Fault.DROP, Fault.DUPLICATE, Fault.REORDER, Fault.SEQ_GAP]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.value for f in FAULTS])
@pytest.mark.parametrize("symbol", SYMBOLS)
async def test_sequence_faults_detected_and_recovered(env, fault: Fault, symbol: str) -> None:
    sim, runner, events = env
    sync = runner.book("binance", symbol)
    before = sync.counters.as_dict()
    sim.inject("binance", symbol, fault)
    if fault is Fault.DUPLICATE:
        assert await wait_for(lambda: sync.counters.duplicates > before["duplicates"], 5)
        assert sync.counters.gaps == before["gaps"]  # a duplicate is skipped, not a gap
    else:
        assert await wait_for(lambda: sync.counters.resyncs > before["resyncs"], 20)
        assert sync.counters.gaps > before["gaps"]
        resets = [e for e in events if isinstance(e, BookReset) and e.symbol == symbol]
        assert resets and resets[-1].reason in (ResetReason.GAP, ResetReason.SNAPSHOT_TOO_OLD)
    await assert_book_matches_truth(runner, sim, "binance", symbol, depth=100)


async def test_malformed_frame_is_counted_and_feed_survives(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("binance", "BTC/USDT")
    sim.inject("binance", "BTC/USDT", Fault.MALFORMED)
    assert await wait_for(lambda: feed.core.counters.malformed >= 1, 5)
    err = next(e for e in events if isinstance(e, FeedError) and e.kind == "malformed")
    assert err.exchange == "binance" and err.snippet.startswith('{"broken"')
    await assert_book_matches_truth(runner, sim, "binance", "BTC/USDT", depth=100)


async def test_disconnect_reconnects_resubscribes_and_resyncs(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("binance", "BTC/USDT")
    sync = runner.book("binance", "BTC/USDT")
    resyncs = sync.counters.resyncs
    sim.inject("binance", "spot", Fault.DISCONNECT)
    assert await wait_for(lambda: feed.core.counters.reconnects >= 1, 10)
    assert await wait_for(lambda: sync.counters.resyncs > resyncs and sync.is_live, 10)
    assert any(isinstance(e, BookReset) and e.reason is ResetReason.RECONNECT for e in events)
    await assert_book_matches_truth(runner, sim, "binance", "BTC/USDT", depth=100)


async def test_stall_is_detected_as_stale_and_recovered(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("binance", "BTC/USDT")
    sim.inject("binance", "spot", Fault.STALL, seconds=3.0)
    assert await wait_for(
        lambda: any(isinstance(e, BookReset) and e.reason is ResetReason.STALE for e in events), 10
    )
    assert await wait_for(lambda: feed.core.counters.reconnects >= 1, 10)
    assert await wait_for(lambda: runner.book("binance", "BTC/USDT").is_live, 10)
    await assert_book_matches_truth(runner, sim, "binance", "BTC/USDT", depth=100)


async def test_rest_429_is_honoured_and_snapshot_retried(env) -> None:
    sim, runner, _events = env
    sync = runner.book("binance", "BTC/USDT")
    feed = runner.feed_for("binance", "BTC/USDT")
    errors = feed.core.counters.errors
    resyncs = sync.counters.resyncs
    sim.inject("binance", "spot", Fault.HTTP_429, count=2)
    sim.inject("binance", "BTC/USDT", Fault.DROP)
    assert await wait_for(lambda: sync.counters.resyncs > resyncs, 15)
    assert feed.core.counters.errors >= errors + 2  # two 429 answers seen and counted
    assert sim.venue("binance", "spot").faults.injected.get("http_429") == 2
    await assert_book_matches_truth(runner, sim, "binance", "BTC/USDT", depth=100)
