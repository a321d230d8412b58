"""Benchmark plans for any exchange, recorded from the simulator through the real client.

``connex.sim.blast.make_plan`` builds the Binance plan straight from the Binance venue
encoder. For the other exchanges this module records one instead, so the traffic is
exactly what the simulator's venue speaks *and* what the connector accepts:

1. a ``SimServer`` for one symbol starts with its clock stopped (``autostart=False``;
   OKX with its checksum on);
2. the real ``Runner`` subscribes to the BOOK channel of that symbol with an in-memory
   frame sink attached (every received frame, every REST body);
3. once the book is live, ``sim.step_all()`` runs ``messages`` times in a tight loop,
   yielding to the event loop so the frames flow;
4. when the client has received everything, the client's book is compared with the
   simulator's truth (``Decimal`` values, at a depth the venue publishes) and kept as
   the plan's truth (the level strings exactly as the venue wrote them).

The plan holds the received frames in order, websocket-framed (binary frames, MEXC's
protobuf, with opcode 2): the ``prefix`` (acks, the snapshot, warm-up updates) and then
the ``messages`` measured frames, each carrying one book update. The REST bodies are
kept by URL path. ``BlastServer`` replays the prefix on the client's first message,
waits for the REST snapshot when the book is REST-seeded, and then sends the measured
frames (all at once, or paced).

This lives outside ``connex.sim`` because it drives the connectors (the simulator never
imports ``connex.exchanges``).
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from connex.exchanges.base import Channel
from connex.model import BookDelta, BookSnapshot
from connex.model.errors import ConfigError
from connex.sim.blast import BlastPlan, frame_binary, frame_text

__all__ = ["BENCH_SYMBOLS", "TRUTH_DEPTH", "make_plan_for", "record_plan"]

#: The symbol benchmarked on each exchange, and its market key in ``SimServer.endpoints()``.
BENCH_SYMBOLS: dict[str, tuple[str, str]] = {
    "okx": ("BTC/USDT", "spot"),
    "bybit": ("BTC/USDT", "spot"),
    "gateio": ("BTC/USDT", "spot"),
    "mexc": ("BTC/USDT", "spot"),
    "hyperliquid": ("BTC/USDC:USDC", "linear"),
}

#: Depth (levels per side) at which the final book is compared with the truth: within
#: what the venue publishes (Hyperliquid's ``l2Book`` carries 20 levels per side).
TRUTH_DEPTH: dict[str, int] = {
    "okx": 200,
    "bybit": 200,
    "gateio": 100,
    "mexc": 200,
    "hyperliquid": 20,
}

#: Simulator venue options per exchange (OKX: real CRC32 checksums on every message).
VENUE_OPTIONS: dict[str, dict[str, Any]] = {
    "okx": {"checksum": True},
    "hyperliquid": {"book_interval_ms": 0},  # one l2Book per step, not one per 500 ms
}


class _Sink:
    """A ``FrameSink`` that keeps frames and REST bodies in memory."""

    def __init__(self, books: dict[str, int]) -> None:
        self.frames: list[str | bytes] = []
        self.books_at: list[int] = []  # book updates delivered before each frame
        self.bodies: dict[str, bytes] = {}
        self._books = books

    def open(self, conn: str, url: str, ts: int, spec: Any = None) -> None:
        pass

    def recv(self, conn: str, frame: str | bytes, ts: int) -> None:
        self.frames.append(frame)
        self.books_at.append(self._books["n"])

    def send(self, conn: str, text: str, ts: int) -> None:
        pass

    def rest(
        self, conn: str, request_url: str, symbol: str, status: int, body: bytes, ts: int
    ) -> None:
        self.bodies[urlsplit(request_url).path] = body

    def close(self) -> None:
        pass


def _frame(data: str | bytes) -> bytes:
    return frame_text(data.encode()) if isinstance(data, str) else frame_binary(data)


async def _until(cond: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        await asyncio.sleep(0.01)
    return bool(cond())


async def record_plan(exchange: str, messages: int, seed: int = 1) -> BlastPlan:
    """Record a plan of ``messages`` book updates on ``exchange`` (see module docstring)."""
    from connex.runtime import Runner
    from connex.sim import SimServer

    if exchange not in BENCH_SYMBOLS:
        raise ConfigError(
            f"no benchmark plan for {exchange!r}; available: binance, {', '.join(BENCH_SYMBOLS)}"
        )
    symbol, market = BENCH_SYMBOLS[exchange]
    depth = TRUTH_DEPTH[exchange]
    books = {"n": 0}
    sink = _Sink(books)
    levels: list[int] = []

    def consumer(ev: Any) -> None:
        if type(ev) is BookDelta or type(ev) is BookSnapshot:
            books["n"] += 1
            levels.append(len(ev.bids) + len(ev.asks))

    sim = SimServer(
        {exchange: [symbol]},
        seed=seed,
        autostart=False,
        venue_options={exchange: VENUE_OPTIONS.get(exchange, {})},
    )
    async with sim:
        runner = Runner(recorder=sink, stale_after=600.0)
        runner.add(exchange, [symbol], [Channel.BOOK], endpoints=sim.endpoints()[exchange])
        runner.on_event(consumer)
        async with runner:
            sync = runner.book(exchange, symbol)
            venue = sim.venue(exchange, symbol)
            # Subscribed, snapshot requested/received; REST-seeded books go live on the
            # first update after the snapshot.
            await _until(lambda: bool(sink.frames) and (sync.is_live or bool(sink.bodies)), 10)
            for _ in range(50):
                if sync.is_live:
                    break
                sim.step_all()
                await asyncio.sleep(0.02)
            if not sync.is_live:
                raise RuntimeError(f"{exchange} {symbol}: the book did not go live")
            await asyncio.sleep(0.2)  # let acks and warm-up frames settle
            prefix = len(sink.frames)
            books_before = books["n"]
            levels.clear()
            for i in range(messages):
                sim.step_all()
                if i % 64 == 63:
                    await asyncio.sleep(0)
                    while sum(len(c._outbox) for c in venue.connections) > 2000:
                        await asyncio.sleep(0.001)
            want = books_before + messages
            if not await _until(lambda: books["n"] >= want, max(30.0, messages / 2000)):
                raise RuntimeError(
                    f"{exchange}: received {books['n'] - books_before} of {messages} updates"
                )
            await asyncio.sleep(0.2)
            # Measured frames: those that carried a book update. Others that arrived
            # meanwhile (pongs to the client's keep-alive pings) are left out of the plan.
            at = [*sink.books_at, books["n"]]
            measured: list[str | bytes] = []
            for i in range(prefix, len(sink.frames)):
                n = at[i + 1] - at[i]
                if n == 1:
                    measured.append(sink.frames[i])
                elif n:
                    raise RuntimeError(f"{exchange}: a frame carried {n} book updates")
            if len(measured) != messages or books["n"] != want:
                raise RuntimeError(
                    f"{exchange}: expected one book update per frame "
                    f"({len(measured)} frames, {books['n'] - books_before} updates)"
                )
            bids, asks = sync.book.bids(depth), sync.book.asks(depth)
            tb, ta = sim.truth(exchange, symbol, depth)
            got_b = {Decimal(p): Decimal(q) for p, q in bids}
            got_a = {Decimal(p): Decimal(q) for p, q in asks}
            if got_b != tb or got_a != ta:
                raise RuntimeError(f"{exchange} {symbol}: recorded book differs from the truth")
            total_books = books["n"]
    payloads = sink.frames[:prefix] + measured
    return BlastPlan(
        frames=[_frame(f) for f in payloads],
        rest=dict(sink.bodies),
        truth_bids=list(bids),
        truth_asks=list(asks),
        ack=None,
        levels=levels,
        payload_bytes=sum(len(f) for f in measured),
        last_sequence=0,
        prefix=prefix,
        wait_for_rest=bool(sink.bodies),
        measured=messages,
        book_events=total_books,
        exchange=exchange,
        symbol=symbol,
        market=market,
        truth_depth=depth,
    )


def make_plan_for(exchange: str, messages: int, seed: int = 1) -> BlastPlan:
    """Record a plan synchronously (its own event loop)."""
    return asyncio.run(record_plan(exchange, messages, seed))
