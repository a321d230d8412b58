"""MEXC futures connector against the simulated contract venue over loopback sockets."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import orjson
import pytest

from connex.exchanges.base import Channel
from connex.model import BookReset, FundingRate, MarkPrice, ResetReason, Trade
from connex.runtime import Runner
from connex.sim import Fault, SimServer
from tests.helpers import assert_book_matches_truth, wait_for

PERP = "BTC/USDT:USDT"


@pytest.fixture
async def env():
    async with SimServer({"mexc": [PERP]}, rate=1000, seed=17) as sim:
        runner = Runner(stale_after=2.0, backoff_initial=0.05)
        runner.add(
            "mexc",
            [PERP],
            [Channel.BOOK, Channel.TRADES, Channel.FUNDING, Channel.MARK_PRICE],
            endpoints=sim.endpoints()["mexc"],
            book_units="base",
            contract_sizes={PERP: "0.0001"},
        )
        events: list[object] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(lambda: runner.book("mexc", PERP).is_live, 10)
            yield sim, runner, events


async def test_book_equals_truth_after_10000_updates_and_faults(env) -> None:
    sim, runner, events = env
    sync = runner.book("mexc", PERP)
    venue = sim.venue("mexc", "linear")
    start = sync.counters.deltas_applied
    assert await wait_for(lambda: sync.counters.deltas_applied - start >= 10_000, 45)
    await assert_book_matches_truth(runner, sim, "mexc", PERP, depth=200)
    assert sync.counters.gaps == 0 and sync.counters.resyncs == 0
    assert sync.book.sequence == venue.version[PERP]
    trades = [e for e in events if isinstance(e, Trade)]
    assert len(trades) > 100 and all(t.size.as_tuple().exponent >= -4 for t in trades)
    # faults on the running feed: a skipped version and a dropped push are gaps, a
    # duplicate is skipped
    for n, fault in enumerate((Fault.SEQ_GAP, Fault.DROP), start=1):
        sim.inject("mexc", PERP, fault)
        assert await wait_for(lambda n=n: sync.counters.resyncs == n and sync.is_live, 10)
        assert sync.counters.gaps == n
    sim.inject("mexc", PERP, Fault.DUPLICATE)
    assert await wait_for(lambda: sync.counters.duplicates == 1, 5)
    assert [e.reason for e in events if isinstance(e, BookReset)] == [ResetReason.GAP] * 2
    await assert_book_matches_truth(runner, sim, "mexc", PERP, depth=200)


async def test_funding_mark_and_protocol_replies(env) -> None:
    sim, _, events = env
    venue = sim.venue("mexc", "linear")
    assert await wait_for(lambda: any(isinstance(e, MarkPrice) for e in events), 5)
    sim.pause()
    try:
        await asyncio.sleep(0.2)
        sent = venue.ctx_sent[PERP]
        funding = [e for e in events if isinstance(e, FundingRate)][-1]
        mark = [e for e in events if isinstance(e, MarkPrice)][-1]
        assert funding.rate == Decimal(sent["rate"])
        assert funding.next_funding_ts == int(sent["next"]) * 1_000_000
        assert mark.mark_price == Decimal(sent["price"])
    finally:
        sim.resume()
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(sim.endpoints()["mexc"]["linear"]["ws"] + "/edge")
        await ws.send_str('{"method":"sub.depth","param":{"symbol":"NOPE_USDT"}}')
        reply = orjson.loads((await ws.receive(timeout=3)).data)
        assert (reply["channel"], reply["data"]) == ("rs.error", "Contract doesn't exist!")
        await ws.send_str('{"method":"ping"}')
        assert orjson.loads((await ws.receive(timeout=3)).data)["channel"] == "pong"
        await ws.close()
