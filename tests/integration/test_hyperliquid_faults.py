"""Hyperliquid connector against the simulated venue: injected faults.

Every ``l2Book`` push is a full snapshot, so the faults look different from a delta feed:
a repeated or out-of-order snapshot is ignored (counted as a duplicate), a dropped one is
simply replaced by the next (nothing links pushes, so a drop cannot be detected — and
needs no repair), a malformed frame is counted, a stall trips the stale timer and a
disconnect reconnects. ``SEQ_GAP`` has no meaning here (no sequence), and the connector
makes no REST calls, so ``HTTP_429`` is covered by the venue test only.
"""

from __future__ import annotations

import pytest

from connex.exchanges.base import Channel
from connex.model import BookReset, FeedError, ResetReason
from connex.runtime import Runner
from connex.sim import Fault, SimServer
from tests.helpers import assert_book_matches_truth, wait_for

BTC = "BTC/USDC:USDC"


@pytest.fixture
async def env():
    opts = {"hyperliquid": {"book_interval_ms": 0}}
    async with SimServer({"hyperliquid": [BTC]}, rate=300, seed=13, venue_options=opts) as sim:
        runner = Runner(stale_after=1.0, backoff_initial=0.05)
        runner.add(
            "hyperliquid",
            [BTC],
            [Channel.BOOK, Channel.TRADES],
            endpoints=sim.endpoints()["hyperliquid"],
        )
        events: list[object] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(lambda: runner.book("hyperliquid", BTC).is_live, 10)
            yield sim, runner, events


def resets(events: list[object]) -> list[ResetReason]:
    return [e.reason for e in events if isinstance(e, BookReset)]


@pytest.mark.parametrize("fault", [Fault.DUPLICATE, Fault.REORDER], ids=lambda f: f.value)
async def test_repeated_or_older_snapshot_is_ignored(env, fault: Fault) -> None:
    sim, runner, events = env
    sync = runner.book("hyperliquid", BTC)
    applied = sync.counters.snapshots
    sim.inject("hyperliquid", BTC, fault)
    assert await wait_for(lambda: sync.counters.duplicates == 1, 5)
    assert sync.counters.snapshots > applied and sync.is_live and resets(events) == []
    await assert_book_matches_truth(runner, sim, "hyperliquid", BTC, depth=20)


async def test_dropped_snapshot_is_replaced_by_the_next(env) -> None:
    sim, runner, events = env
    sync = runner.book("hyperliquid", BTC)
    sent = sim.venue("hyperliquid", "linear").sent_book_messages
    sim.inject("hyperliquid", BTC, Fault.DROP)
    assert await wait_for(
        lambda: sim.venue("hyperliquid", "linear").faults.injected == {"drop": 1}, 5
    )
    assert await wait_for(
        lambda: sim.venue("hyperliquid", "linear").sent_book_messages > sent + 5, 5
    )
    assert sync.is_live and resets(events) == [] and sync.counters.duplicates == 0
    await assert_book_matches_truth(runner, sim, "hyperliquid", BTC, depth=20)


async def test_malformed_frame_is_counted(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("hyperliquid", BTC)
    sim.inject("hyperliquid", BTC, Fault.MALFORMED)
    assert await wait_for(lambda: feed.core.counters.malformed == 1, 5)
    [err] = [e for e in events if isinstance(e, FeedError)]
    assert err.kind == "malformed" and err.snippet == '{"broken": '
    assert runner.book("hyperliquid", BTC).is_live and resets(events) == []
    await assert_book_matches_truth(runner, sim, "hyperliquid", BTC, depth=20)


async def test_disconnect_reconnects(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("hyperliquid", BTC)
    sim.inject("hyperliquid", BTC, Fault.DISCONNECT)
    assert await wait_for(lambda: feed.core.counters.reconnects == 1, 10)
    assert await wait_for(lambda: runner.book("hyperliquid", BTC).is_live, 10)
    assert resets(events) == [ResetReason.RECONNECT]
    await assert_book_matches_truth(runner, sim, "hyperliquid", BTC, depth=20)


async def test_stall_is_detected_as_stale(env) -> None:
    sim, runner, events = env
    sim.inject("hyperliquid", BTC, Fault.STALL, seconds=2.0)
    assert await wait_for(lambda: ResetReason.STALE in resets(events), 5)
    assert await wait_for(lambda: runner.book("hyperliquid", BTC).is_live, 10)
    await assert_book_matches_truth(runner, sim, "hyperliquid", BTC, depth=20)
