"""Hyperliquid connector against the simulated venue: ticker, funding, mark price and
liquidations of watched addresses, checked against what the venue sent."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from connex.exchanges.base import Channel
from connex.model import (
    FundingRate,
    Liquidation,
    MarkPrice,
    PositionSide,
    Ticker,
)
from connex.runtime import Runner
from connex.sim import SimServer
from connex.sim.market import SimPosition
from connex.sim.venues.hyperliquid import LIQUIDATOR, USERS
from tests.helpers import wait_for

BTC = "BTC/USDC:USDC"
VICTIM_ID = 9_000_005  # USERS[9_000_005 % 8] holds the planted position
VICTIM = USERS[VICTIM_ID % len(USERS)]


@pytest.fixture
async def env():
    opts = {"hyperliquid": {"book_interval_ms": 0, "ctx_interval_ms": 200}}
    async with SimServer({"hyperliquid": [BTC]}, rate=300, seed=9, venue_options=opts) as sim:
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


async def test_ticker_funding_and_mark(env) -> None:
    sim, _, events = env
    assert await wait_for(lambda: any(isinstance(e, FundingRate) for e in events), 5)
    sim.pause()
    try:
        await asyncio.sleep(0.3)
        bids, asks = sim.truth("hyperliquid", BTC, 1)
        last = [e for e in events if isinstance(e, Ticker)][-1]
        assert (last.bid_price, last.bid_size) == max(bids.items())
        assert (last.ask_price, last.ask_size) == min(asks.items())
        sent = sim.venue("hyperliquid", "linear").ctx_sent[BTC]["ctx"]
        funding = [e for e in events if isinstance(e, FundingRate)][-1]
        mark = [e for e in events if isinstance(e, MarkPrice)][-1]
        assert funding.rate == Decimal(sent["funding"]) and funding.rate != 0
        assert funding.mark_price == mark.mark_price == Decimal(sent["markPx"])
        assert mark.index_price == Decimal(sent["oraclePx"])
        assert mark.open_interest == Decimal(sent["openInterest"]) > 0
    finally:
        sim.resume()


@pytest.mark.parametrize("long", [True, False], ids=["long", "short"])
async def test_liquidation_of_a_watched_address(env, long: bool) -> None:
    sim, _, events = env
    model = sim.model("hyperliquid", BTC)
    mark = model.mid_ticks()
    # a position whose liquidation price is already crossed: the next step liquidates it
    liq_px = mark + 10**6 if long else max(1, mark - 10**6)
    model.positions.append(SimPosition(VICTIM_ID, long, mark, 37, 100, liq_px))
    assert await wait_for(lambda: len([e for e in events if isinstance(e, Liquidation)]) >= 2, 5)
    sent = sim.venue("hyperliquid", "linear").liquidations_sent
    [mine] = [s for s in sent if s["user"] == VICTIM]
    liqs = [e for e in events if isinstance(e, Liquidation)]
    assert len(liqs) == 2  # seen on the victim's fill and on the liquidator's fill
    for liq in liqs:
        assert liq.symbol == BTC
        assert liq.side is (PositionSide.LONG if long else PositionSide.SHORT)
        assert liq.price == Decimal(mine["px"]) and liq.size == Decimal("0.0037")
        assert liq.liquidation_id == mine["id"]
