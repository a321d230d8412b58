"""MEXC connector against the simulated venue over real loopback sockets: clean run."""

from __future__ import annotations

import asyncio

import pytest

from connex.exchanges.base import Channel
from connex.model import Side, Subscribed, Ticker, Trade
from connex.runtime import Runner
from connex.sim import SimServer
from tests.helpers import assert_book_matches_truth, wait_for

SYMBOLS = ["BTC/USDT"]  # one symbol: the model steps 1000 times a second


@pytest.fixture
async def env():
    async with SimServer({"mexc": SYMBOLS}, rate=1000, seed=21) as sim:
        runner = Runner(stale_after=2.0, backoff_initial=0.05)
        runner.add(
            "mexc",
            SYMBOLS,
            [Channel.BOOK, Channel.TRADES, Channel.TICKER],
            endpoints=sim.endpoints()["mexc"],
        )
        events: list[object] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(lambda: all(runner.book("mexc", s).is_live for s in SYMBOLS), 10)
            yield sim, runner, events


async def test_books_equal_truth_after_10000_updates(env) -> None:
    sim, runner, events = env
    btc = runner.book("mexc", "BTC/USDT")
    start = btc.counters.deltas_applied
    await asyncio.sleep(1.0)
    await assert_book_matches_truth(runner, sim, "mexc", "BTC/USDT", depth=200)
    assert await wait_for(lambda: btc.counters.deltas_applied - start >= 10_000, 30)
    await assert_book_matches_truth(runner, sim, "mexc", "BTC/USDT", depth=200)
    c = btc.counters
    assert c.gaps == 0 and c.crossed == 0 and c.resyncs == 0 and c.deltas_applied >= 10_000
    # the book's version is the venue's current toVersion
    assert btc.book.sequence == sim.venue("mexc", "spot").version["BTC/USDT"]
    acks = [e for e in events if isinstance(e, Subscribed)]
    assert acks and "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT" in acks[0].channels
    trades = [e for e in events if isinstance(e, Trade) and e.symbol == "BTC/USDT"]
    ids = [int(t.trade_id) for t in trades]
    assert len(ids) > 100 and ids == list(range(ids[0], ids[0] + len(ids)))  # none lost
    assert {t.side for t in trades} == {Side.BUY, Side.SELL}
    assert all(t.size > 0 and t.size.as_tuple().exponent == -4 for t in trades)  # BTC lots


async def test_book_ticker_matches_the_top_of_book(env) -> None:
    sim, _, events = env
    sim.pause()
    try:
        await asyncio.sleep(0.3)  # let in-flight frames drain
        (bb, bq), (ba, aq) = (
            max(sim.truth("mexc", "BTC/USDT", 1)[0].items()),
            min(sim.truth("mexc", "BTC/USDT", 1)[1].items()),
        )
        last = [e for e in events if isinstance(e, Ticker) and e.symbol == "BTC/USDT"][-1]
        assert (last.bid_price, last.bid_size, last.ask_price, last.ask_size) == (bb, bq, ba, aq)
    finally:
        sim.resume()
