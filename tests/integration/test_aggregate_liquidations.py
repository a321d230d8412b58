"""Liquidation aggregator against the simulator over real loopback sockets.

Ground truth is an independent websocket observer subscribed to the venue's raw
``btcusdt@forceOrder`` stream: every liquidation the aggregator yields must be one the
venue sent, with the same price, size, side and time, none lost and none repeated.
"""

from __future__ import annotations

import asyncio
import socket
from decimal import Decimal

import aiohttp
import orjson
import pytest

from connex.aggregate import (
    Backoff,
    HealthTracker,
    LiquidationAggregator,
    RunnerSource,
    SourceState,
)
from connex.model import Liquidation, PositionSide
from connex.sim import SimServer
from connex.sim.market import SimPosition
from tests.helpers import wait_for

pytestmark = pytest.mark.timeout(60)

SYMBOL = "BTC/USDT:USDT"
FAST = Backoff(initial=0.05, factor=2.0, cap=0.4, reset_after=30.0)


class Liquidator:
    """Opens one leveraged position per ``interval`` that the next market step liquidates.

    Random positions are switched off, so the venue's forceOrder stream carries exactly
    these positions (sizes 0.0101, 0.0102, ... BTC; long, short, long, ...). The interval
    is above Binance's one-push-per-second limit, so none is merged away.
    """

    def __init__(self, model, interval: float = 1.05) -> None:
        self.model = model
        self.interval = interval
        self.opened: list[SimPosition] = []
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            i = len(self.opened)
            long = i % 2 == 0
            mark = self.model.mid_ticks()
            pos = SimPosition(
                position_id=900_000 + i,
                long=long,
                entry=mark,
                size=101 + i,
                leverage=100,
                liq_price=10**12 if long else 0,  # already crossed: liquidated next step
            )
            self.opened.append(pos)
            self.model.positions.append(pos)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self.model.position_rate = 0.0
        self.model.positions.clear()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def expected(self) -> list[tuple[Decimal, PositionSide]]:
        return [
            (Decimal(p.size).scaleb(-4), PositionSide.LONG if p.long else PositionSide.SHORT)
            for p in self.opened
        ]


@pytest.fixture
async def sim():
    async with SimServer({"binance": [SYMBOL]}, rate=200, seed=5) as s:
        liquidator = Liquidator(s.model("binance", SYMBOL))
        yield s, liquidator
        await liquidator.stop()


class Observer:
    """Raw forceOrder frames as the venue sent them (an independent loopback client)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.frames: list[dict] = []
        self._task: asyncio.Task | None = None
        self.ready = asyncio.Event()

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(self.url) as ws:
            self.ready.set()
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self.frames.append(orjson.loads(msg.data))

    async def __aenter__(self) -> Observer:
        self._task = asyncio.ensure_future(self._run())
        await asyncio.wait_for(self.ready.wait(), 5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def truth(self) -> list[tuple[int, Decimal, Decimal, PositionSide]]:
        out = []
        for f in self.frames:
            o = f["o"]
            side = PositionSide.LONG if o["S"] == "SELL" else PositionSide.SHORT
            out.append((o["T"] * 1_000_000, Decimal(o["ap"]), Decimal(o["z"]), side))
        return out


def key(liq: Liquidation) -> tuple[int, Decimal, Decimal, PositionSide]:
    return (liq.ts_exchange, liq.price, liq.size, liq.side)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class DeadExchangeSource:
    """A source whose exchange refuses every connection (a real socket to a closed port)."""

    exchange = "okx"

    def __init__(self) -> None:
        self.url = f"ws://127.0.0.1:{closed_port()}/ws/v5/public"
        self.calls = 0

    async def stream(self):
        self.calls += 1
        async with aiohttp.ClientSession() as session, session.ws_connect(self.url) as ws:
            async for _ in ws:  # pragma: no cover - never connects
                pass
        yield  # pragma: no cover


async def collect(agg: LiquidationAggregator, out: list[Liquidation]) -> None:
    async for liq in agg:
        out.append(liq)


async def test_failing_exchange_never_stops_the_delivering_one(sim) -> None:
    sim, liquidator = sim
    ws_base = sim.endpoints()["binance"]["linear"]["ws"]
    health = HealthTracker()
    dead = DeadExchangeSource()
    good = RunnerSource(
        "binance", [SYMBOL], endpoints=sim.endpoints()["binance"], on_event=health.on_event
    )
    got: list[Liquidation] = []
    async with Observer(f"{ws_base}/market/ws/btcusdt@forceOrder") as obs:
        agg = LiquidationAggregator([good, dead], backoff=FAST, health=health)
        async with agg:
            task = asyncio.ensure_future(collect(agg, got))
            liquidator.start()
            try:
                assert await wait_for(lambda: len(got) >= 3, 20), f"only {len(got)} liquidations"
                await asyncio.sleep(0.3)  # let the observer see the last one too
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            okx = agg.states["okx"]
            # the dead exchange kept being retried on the 50 ms, 100 ms ... 400 ms schedule
            assert okx.failures >= 5 and dead.calls == okx.failures
            assert okx.delays[:5] == [0.05, 0.1, 0.2, 0.4, 0.4]
            assert "ClientConnectorError" in okx.last_error
            assert okx.state in (SourceState.BACKOFF, SourceState.RUNNING)
            h_okx = health.health("okx", got[-1].ts_local)
            assert not h_okx.healthy and "ClientConnectorError" in h_okx.detail
            h_bin = health.health("binance", got[-1].ts_local)
            assert h_bin.connected and "liquidations" not in h_bin.detail
            assert agg.states["binance"].failures == 0
    # content: exactly the venue's frames between the first and last one we got, in order
    assert all(liq.exchange == "binance" and liq.symbol == SYMBOL for liq in got)
    first, last = got[0].ts_exchange, got[-1].ts_exchange
    truth = [t for t in obs.truth() if first <= t[0] <= last]
    assert [key(liq) for liq in got] == truth
    # and they are the positions we had liquidated, in order (the first may predate the
    # runner's subscription, so match the tail)
    expected = liquidator.expected()
    got_pos = [(liq.size, liq.side) for liq in got]
    start = expected.index(got_pos[0])
    assert got_pos == expected[start : start + len(got_pos)]
    assert all(liq.notional == liq.price * liq.size and liq.notional > 0 for liq in got)


async def test_redundant_sources_are_deduplicated_and_misconfigured_one_backs_off(sim) -> None:
    sim, liquidator = sim
    eps = sim.endpoints()["binance"]
    a = RunnerSource("binance", [SYMBOL], endpoints=eps, name="binance-a")
    b = RunnerSource("binance", [SYMBOL], endpoints=eps, name="binance-b")
    # liquidations are not offered for spot: the runner cannot be built, every attempt fails
    bad = RunnerSource("binance", ["BTC/USDT"], endpoints=eps, name="binance-spot")
    health = HealthTracker()
    got: list[Liquidation] = []
    agg = LiquidationAggregator([a, b, bad], backoff=FAST, health=health)
    async with agg:
        task = asyncio.ensure_future(collect(agg, got))
        liquidator.start()
        try:
            assert await wait_for(lambda: len(got) >= 2, 15), f"only {len(got)} liquidations"
            # each liquidation reaches us through both runners; the second copy is dropped
            assert await wait_for(
                lambda: (
                    agg.states["binance-a"].duplicates + agg.states["binance-b"].duplicates
                    >= len(got) - 1
                ),
                3,
            )
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        ids = [liq.liquidation_id for liq in got]
        assert len(ids) == len(set(ids)), ids
        sa, sb = agg.states["binance-a"], agg.states["binance-b"]
        assert sa.delivered + sb.delivered == len(got)
        assert sa.failures == sb.failures == 0
        st = agg.states["binance-spot"]
        assert st.failures >= 3 and st.delays[:3] == [0.05, 0.1, 0.2]
        assert (
            "ConfigError" in st.last_error and "'liquidations' is offered for none" in st.last_error
        )
        detail = health.health("binance", got[-1].ts_local).detail
        assert "liquidation stream failed" in detail and "ConfigError" in detail
