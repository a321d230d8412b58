"""100 concurrent websocket clients with several books each, and one deliberately slow client.

Every client runs the client's own stream state machine (``StreamState``): it checks the
per-subscription sequence and keeps books, so "gap-free" and "book == truth" are
checked by the same code a user runs. Latency is measured from the gateway's send stamp
(``ts_gw``) to receipt, before and while the slow client is stuck; the medians are
compared with a generous factor (no absolute thresholds).
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp
import orjson

from connex.client.state import StreamState
from connex.gateway import GatewaySettings
from tests.helpers import wait_for

from .gateway_support import RawWsClient, book_vs_truth, gateway_stack

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]
N_CLIENTS = 100
DEPTHS = (None, 10, 20)


class Reader:
    """One light client: aiohttp socket + StreamState; records latencies per phase."""

    def __init__(self, idx: int) -> None:
        self.idx = idx
        self.state = StreamState()
        self.phase = "warmup"
        self.lat: dict[str, list[int]] = {"warmup": [], "base": [], "slow": [], "after": []}
        for k in range(3):
            self.state.add(
                "orderbook", "binance", SYMBOLS[(idx + k) % len(SYMBOLS)], DEPTHS[(idx + k) % 3]
            )
        self.errors: list[str] = []

    async def run(self, session: aiohttp.ClientSession, url: str) -> None:
        ws = await session.ws_connect(url)
        self.ws = ws
        for op in self.state.subscribe_ops():
            await ws.send_str(orjson.dumps(op).decode())
        async for msg in ws:
            now = time.time_ns()
            events, commands = self.state.on_message(msg.data)
            if commands:
                self.errors.append(f"resync requested: {commands}")
            if events and self.state.last_ts_gw:
                self.lat[self.phase].append(now - self.state.last_ts_gw)

    def live(self) -> bool:
        return all(s.live for s in self.state.subs.values())


async def test_hundred_clients_gap_free_and_slow_client_isolated() -> None:
    settings = GatewaySettings(max_queue=100, heartbeat_s=1.0)
    async with gateway_stack(
        SYMBOLS, open_mode=True, rate=10, settings=settings, send_buffer=16384
    ) as stack:
        hub = stack.server.app.state.hub
        readers = [Reader(i) for i in range(N_CLIENTS)]
        async with aiohttp.ClientSession() as session:
            tasks = [asyncio.ensure_future(r.run(session, stack.server.ws_url)) for r in readers]
            assert await wait_for(lambda: all(r.live() for r in readers), 20), (
                "not every client got its books"
            )
            assert len(hub.clients) == N_CLIENTS
            for r in readers:
                r.phase = "base"
            await asyncio.sleep(2.0)
            # uvicorn's transport is written directly (fast mode) and bursts go out batched
            assert await wait_for(lambda: all(c.fast for c in hub.clients), 5)
            assert hub.stats.frames > 0 and hub.stats.sent > hub.stats.frames

            # the slow client: full books of every symbol, and it stops reading its socket
            slow = RawWsClient("127.0.0.1", stack.server.port)
            await slow.connect()
            for sym in SYMBOLS:
                await slow.send(
                    orjson.dumps(
                        {
                            "op": "subscribe",
                            "channel": "orderbook",
                            "exchange": "binance",
                            "symbol": sym,
                        }
                    ).decode()
                )
            assert await wait_for(lambda: hub.stats.resyncs >= 1, 15), (
                "the slow client never overflowed"
            )
            for r in readers:
                r.phase = "slow"
            await asyncio.sleep(2.0)
            # resynced, not dropped (it only holds book streams), and nobody else was touched
            assert hub.stats.resyncs >= 1 and hub.stats.kicked == 0
            assert len(hub.clients) == N_CLIENTS + 1
            for r in readers:
                r.phase = "after"

            # the slow client reads again: it gets fresh snapshots and a gap-free stream
            await slow.read_for(2.0)
            state = StreamState()
            for sym in SYMBOLS:
                state.add("orderbook", "binance", sym)
            kinds = []
            for text in slow.messages:
                events, commands = state.on_message(text)
                assert not commands, "the slow client saw a sequence gap"
                kinds.extend(type(e).__name__ for e in events)
            assert kinds.count("BookSnapshot") >= len(SYMBOLS) + 1  # initial + at least one resync
            assert state.gaps == 0

            # freeze the market: every client's books equal the truth at their depth
            stack.sim.pause()
            await asyncio.sleep(0.5)

            def all_match() -> bool:
                for r in readers:
                    for s in r.state.subs.values():
                        if book_vs_truth(
                            s.book if s.live else None, stack.sim, s.symbol, s.depth or 100
                        ):
                            return False
                return True

            assert await wait_for(all_match, 10), "some client book differs from the truth"
            slow.close()
            for t in tasks:
                t.cancel()

    for r in readers:
        assert r.state.gaps == 0 and not r.errors, (r.idx, r.errors)
        assert r.state.resyncs_requested == 0
    base = [x for r in readers for x in r.lat["base"]]
    during = [x for r in readers for x in r.lat["slow"]]
    assert len(base) > 1000 and len(during) > 1000
    m_base, m_slow = statistics.median(base), statistics.median(during)
    print(f"median latency: base {m_base / 1e6:.2f} ms, with slow client {m_slow / 1e6:.2f} ms")
    assert m_slow < 5 * m_base, (
        f"slow client raised the others' latency: {m_base / 1e6:.2f} -> {m_slow / 1e6:.2f} ms"
    )
