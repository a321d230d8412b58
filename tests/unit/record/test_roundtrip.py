"""Record a live session against the simulator, replay it, get the same events.

A small driver in this test plays the runtime's part over real loopback sockets: it
subscribes with the Binance ``PublicSession``, feeds every frame to a live
``FeedCore``, answers ``NeedSnapshot`` with a real REST call, and calls the
``FrameSink`` hooks on a ``Recorder``. Replaying the file must reproduce the live
events one for one, and the final book must equal the simulator's truth.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from connex.exchanges.base import Channel, MarketEndpoints, SendFrame, Subscription
from connex.exchanges.binance import PublicSession
from connex.model import BookReset, BookSnapshot, NeedSnapshot, ResetReason, Trade
from connex.record import Recorder, replay
from connex.runtime.core import FeedCore
from connex.sim import Fault, SimServer

SYMBOL = "BTC/USDT"
SUBS = [Subscription(Channel.BOOK, SYMBOL), Subscription(Channel.TRADES, SYMBOL)]


class _Driver:
    """A minimal recording driver (the live runtime's role, one connection)."""

    def __init__(
        self, http: aiohttp.ClientSession, endpoints: dict[str, MarketEndpoints], rec: Recorder
    ) -> None:
        self.http = http
        self.rec = rec
        [self.spec] = PublicSession.plan(SUBS, endpoints)
        self.core = FeedCore(PublicSession(self.spec, endpoints["spot"]))
        self.events: list[Any] = []
        self.clock = 1_700_000_000_000_000_000
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.todo: list[str] = []

    def tick(self) -> int:
        self.clock += 1_000_000  # 1 ms per recorded item: strictly increasing times
        return self.clock

    async def connect(self, reconnect: bool = False, with_spec: bool = True) -> None:
        # the same order of calls as connex.runtime.feed
        self.ws = await self.http.ws_connect(self.spec.url)
        ts = self.tick()
        self.rec.open(self.spec.name, self.spec.url, ts, self.spec if with_spec else None)
        if reconnect:
            await self.handle(self.core.reset_all(ResetReason.RECONNECT, ts, "reconnected"))
        for frame in self.core.protocol.subscribe_frames(self.spec.subscriptions):
            await self.ws.send_str(frame)
            self.rec.send(self.spec.name, frame, self.tick())
        await self.handle(self.core.start())
        await self.fetch_snapshots()

    async def handle(self, out: list[Any]) -> None:
        for ev in out:
            if type(ev) is NeedSnapshot:
                self.todo.append(ev.symbol)  # fetched after the current step, like a task
            elif type(ev) is not SendFrame:
                self.events.append(ev)

    async def fetch_snapshots(self) -> None:
        while self.todo:
            await self.snapshot(self.todo.pop(0))

    async def snapshot(self, symbol: str) -> None:
        req = self.core.protocol.snapshot_request(symbol)
        async with self.http.get(req.url, params=req.params) as resp:
            body = await resp.read()
            url = str(resp.url)
            status = resp.status
        ts = self.tick()
        self.rec.rest(self.spec.name, url, symbol, status, body, ts)
        await self.handle(self.core.on_snapshot(symbol, body, ts))

    async def drain_until_caught_up(self, sim: SimServer, timeout: float = 10.0) -> None:
        """Read until the book holds the venue's last update id (no timing guesswork)."""
        venue = sim.venue("binance", SYMBOL)
        sync = self.core.books[SYMBOL]
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not (sync.is_live and sync.book.sequence == venue.update_id[SYMBOL]):
            assert loop.time() < end, "the client never caught up with the simulator"
            await self.drain(0.05)

    async def drain(self, quiet: float = 0.15) -> int:
        assert self.ws is not None
        n = 0
        while True:
            try:
                msg = await self.ws.receive(timeout=quiet)
            except TimeoutError:
                return n
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                return n
            ts = self.tick()
            self.rec.recv(self.spec.name, msg.data, ts)
            n += 1
            await self.handle(self.core.on_frame(msg.data, ts))
            await self.fetch_snapshots()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("with_spec", [True, False])
async def test_record_then_replay_gives_identical_events(tmp_path, with_spec):
    # with_spec=False: the open record has no subscriptions; replay reads them from the
    # recorded SUBSCRIBE frames and the market from the URL path.
    path = tmp_path / "binance.cxrec.gz"
    async with SimServer({"binance": [SYMBOL]}, autostart=False, seed=11) as sim:
        ep = {m: MarketEndpoints(**v) for m, v in sim.endpoints()["binance"].items()}
        async with aiohttp.ClientSession() as http:
            with Recorder(path, exchange="binance") as rec:
                d = _Driver(http, ep, rec)
                await d.connect(with_spec=with_spec)
                await d.drain()  # subscription ack
                for _ in range(4):
                    sim.step_all()
                await d.drain()
                sim.inject("binance", SYMBOL, Fault.SEQ_GAP)  # forces a gap and a resync
                for _ in range(6):
                    sim.step_all()
                    await d.drain(0.05)
                await d.drain_until_caught_up(sim)
                await d.ws.close()
                await d.connect(reconnect=True, with_spec=with_spec)  # a second open
                await d.drain()
                for _ in range(5):
                    sim.step_all()
                await d.drain_until_caught_up(sim)
            truth_bids, truth_asks = sim.truth("binance", SYMBOL)

    live = d.events
    resets = [e for e in live if type(e) is BookReset]
    assert [r.reason for r in resets] == [ResetReason.GAP, ResetReason.RECONNECT]
    assert sum(type(e) is BookSnapshot for e in live) == 3

    replayed: list[Any] = []
    result = replay([path], "binance", on_event=replayed.append)
    assert result.format == "connex"
    assert replayed == live  # same events, same order, same timestamps
    s = result.summary()
    assert s["connections"] == {d.spec.name: "spot"}
    assert s["reconnects"] == 1
    assert s["snapshots"]["used"] == 3 and s["snapshots"]["unavailable"] == 0
    book = s["books"][SYMBOL]
    assert book["valid"] and book["gaps"] == 1 and book["resyncs"] == 2 and book["crossed"] == 0
    sync = result.books[SYMBOL]
    bids, asks = sync.book.as_decimal_dict()
    assert bids == truth_bids and asks == truth_asks
    best = max(truth_bids)
    assert Decimal(book["best_bid"][0]) == best
    assert Decimal(book["best_bid"][1]) == truth_bids[best]
    trades = [e for e in replayed if type(e) is Trade]
    assert trades == [e for e in live if type(e) is Trade]


async def test_snapshot_unavailable_when_recording_has_no_reply(tmp_path):
    path = tmp_path / "no_rest.gz"
    async with SimServer({"binance": [SYMBOL]}, autostart=False, seed=3) as sim:
        ep = {m: MarketEndpoints(**v) for m, v in sim.endpoints()["binance"].items()}
        async with aiohttp.ClientSession() as http:
            rec = Recorder(path, exchange="binance")
            d = _Driver(http, ep, rec)
            d.ws = await http.ws_connect(d.spec.url)
            rec.open(d.spec.name, d.spec.url, d.tick(), d.spec)
            for frame in d.core.protocol.subscribe_frames(d.spec.subscriptions):
                await d.ws.send_str(frame)
            await d.drain()
            for _ in range(3):
                sim.step_all()
            await d.drain()  # frames recorded, but no REST reply
            await d.ws.close()
            rec.close()
    result = replay([path], "binance")
    s = result.summary()
    assert s["frames"] >= 3
    assert s["snapshots"]["unavailable"] == 1
    assert s["books"][SYMBOL]["valid"] is False
    assert s["errors"]["parse_errors"] == 0
