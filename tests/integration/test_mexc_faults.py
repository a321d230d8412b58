"""MEXC connector against the simulated venue: every injected fault is detected, counted
and recovered from, and the book equals the venue's truth afterwards."""

from __future__ import annotations

import pytest

from connex.exchanges.base import Channel
from connex.model import BookReset, FeedError, ResetReason
from connex.runtime import Runner
from connex.sim import Fault, SimServer
from tests.helpers import assert_book_matches_truth, wait_for

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
HIT = "BTC/USDT"


@pytest.fixture
async def env():
    async with SimServer({"mexc": SYMBOLS}, rate=300, seed=5) as sim:
        runner = Runner(stale_after=1.0, backoff_initial=0.05)
        runner.add(
            "mexc", SYMBOLS, [Channel.BOOK, Channel.TRADES], endpoints=sim.endpoints()["mexc"]
        )
        events: list[object] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(lambda: all(runner.book("mexc", s).is_live for s in SYMBOLS), 10)
            yield sim, runner, events


def resets(events: list[object], symbol: str) -> list[ResetReason]:
    return [e.reason for e in events if isinstance(e, BookReset) and e.symbol == symbol]


@pytest.mark.parametrize("fault", [Fault.DROP, Fault.REORDER, Fault.SEQ_GAP], ids=lambda f: f.value)
async def test_version_gaps_are_detected_and_resynced(env, fault: Fault) -> None:
    sim, runner, events = env
    sync, other = runner.book("mexc", HIT), runner.book("mexc", "ETH/USDT")
    gaps, resyncs = sync.counters.gaps, sync.counters.resyncs
    sim.inject("mexc", HIT, fault)
    assert await wait_for(lambda: sync.counters.resyncs > resyncs and sync.is_live, 10)
    assert sync.counters.gaps == gaps + 1
    assert resets(events, HIT) == [ResetReason.GAP]
    assert resets(events, "ETH/USDT") == [] and other.counters.gaps == 0  # only the hit book
    assert sim.venue("mexc", "spot").faults.injected == {fault.value: 1}
    await assert_book_matches_truth(runner, sim, "mexc", HIT, depth=200)


async def test_duplicate_is_skipped_not_a_gap(env) -> None:
    sim, runner, events = env
    sync = runner.book("mexc", HIT)
    sim.inject("mexc", HIT, Fault.DUPLICATE)
    assert await wait_for(lambda: sync.counters.duplicates == 1, 5)
    assert sync.counters.gaps == 0 and resets(events, HIT) == [] and sync.is_live
    await assert_book_matches_truth(runner, sim, "mexc", HIT, depth=200)


async def test_malformed_protobuf_is_counted_and_the_book_stays_live(env) -> None:
    sim, runner, events = env
    sim.inject("mexc", HIT, Fault.MALFORMED)
    feed = runner.feed_for("mexc", HIT)
    assert await wait_for(lambda: feed.core.counters.malformed == 1, 5)
    [err] = [e for e in events if isinstance(e, FeedError)]
    assert err.kind == "malformed" and err.snippet == "0affff7f00"
    assert resets(events, HIT) == [] and runner.book("mexc", HIT).is_live
    await assert_book_matches_truth(runner, sim, "mexc", HIT, depth=200)


async def test_rate_limited_snapshot_is_retried(env) -> None:
    sim, runner, _ = env
    sync = runner.book("mexc", HIT)
    feed = runner.feed_for("mexc", HIT)
    errors = feed.core.counters.errors
    sim.inject("mexc", "spot", Fault.HTTP_429)
    sim.inject("mexc", HIT, Fault.SEQ_GAP)  # forces a REST snapshot, which gets the 429
    assert await wait_for(lambda: sync.counters.resyncs == 1 and sync.is_live, 10)
    assert sim.venue("mexc", "spot").faults.injected == {"http_429": 1, "seq_gap": 1}
    assert feed.core.counters.errors == errors + 1
    assert sync.counters.last_resync_ns >= 900_000_000  # waited out Retry-After: 1
    await assert_book_matches_truth(runner, sim, "mexc", HIT, depth=200)


async def test_disconnect_reconnects_and_rebuilds(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("mexc", HIT)
    sim.inject("mexc", HIT, Fault.DISCONNECT)
    assert await wait_for(lambda: feed.core.counters.reconnects == 1, 10)
    assert await wait_for(lambda: all(runner.book("mexc", s).is_live for s in SYMBOLS), 10)
    assert resets(events, HIT) == [ResetReason.RECONNECT]
    for s in SYMBOLS:
        await assert_book_matches_truth(runner, sim, "mexc", s, depth=200)


async def test_stall_is_detected_as_stale(env) -> None:
    sim, runner, events = env
    sim.inject("mexc", HIT, Fault.STALL, seconds=2.0)
    assert await wait_for(lambda: ResetReason.STALE in resets(events, HIT), 5)
    assert await wait_for(lambda: runner.book("mexc", HIT).is_live, 10)
    await assert_book_matches_truth(runner, sim, "mexc", HIT, depth=200)
