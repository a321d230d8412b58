"""The live runtime records through ``Runner(recorder=Recorder(...))``; replaying the
file reproduces the books and market events the runtime delivered."""

from __future__ import annotations

import asyncio

import pytest

from connex.exchanges.base import Channel
from connex.model import BookDelta, BookReset, BookSnapshot, Trade
from connex.record import Recorder, RecordKind, read_connex, replay
from connex.runtime import Runner
from connex.sim import Fault, SimServer
from tests.helpers import wait_for

SYMBOLS = ["BTC/USDT", "ETH/USDT:USDT"]
MARKET_EVENTS = (BookSnapshot, BookDelta, BookReset, Trade)


@pytest.mark.timeout(60)
async def test_runner_recording_replays_to_the_same_books(tmp_path):
    path = tmp_path / "live.cxrec.gz"
    live: list[object] = []
    async with SimServer({"binance": SYMBOLS}, rate=200, seed=5) as sim:
        recorder = Recorder(path, exchange="binance")
        runner = Runner(recorder=recorder)
        runner.add(
            "binance", SYMBOLS, [Channel.BOOK, Channel.TRADES], endpoints=sim.endpoints()["binance"]
        )
        runner.on_event(lambda e: live.append(e) if isinstance(e, MARKET_EVENTS) else None)
        async with runner:
            books = [runner.book("binance", s) for s in SYMBOLS]
            assert await wait_for(lambda: all(b.is_live for b in books), 10)
            sim.inject("binance", "BTC/USDT", Fault.SEQ_GAP)  # one resync on the way
            assert await wait_for(lambda: books[0].counters.resyncs >= 1 and books[0].is_live, 10)
            start = [b.counters.deltas_applied for b in books]
            assert await wait_for(
                lambda: all(
                    b.counters.deltas_applied - s >= 100 for b, s in zip(books, start, strict=True)
                ),
                15,
            )
            sim.pause()
            await asyncio.sleep(0.3)  # let frames in flight arrive
            final = {
                s: (b.is_live, b.book.sequence, b.book.as_decimal_dict())
                for s, b in zip(SYMBOLS, books, strict=True)
            }
        recorder.close()

    kinds = {r.kind for r in read_connex(path)}
    assert {RecordKind.OPEN, RecordKind.SEND, RecordKind.RECV, RecordKind.REST} <= kinds

    replayed: list[object] = []
    result = replay(
        [path],
        "binance",
        on_event=lambda e: replayed.append(e) if isinstance(e, MARKET_EVENTS) else None,
    )
    s = result.summary()
    assert s["errors"]["parse_errors"] == 0
    assert s["snapshots"]["unavailable"] == 0
    assert set(s["connections"].values()) >= {"spot", "linear"}
    for symbol in SYMBOLS:
        live_ok, seq, (bids, asks) = final[symbol]
        sync = result.books[symbol]
        assert live_ok and sync.is_live, symbol
        assert sync.book.sequence == seq, symbol
        assert sync.book.as_decimal_dict() == (bids, asks), symbol
        assert s["books"][symbol]["crossed"] == 0
    assert s["books"]["BTC/USDT"]["gaps"] == 1 and s["books"]["BTC/USDT"]["resyncs"] == 1
    # the same market events in the same order (per symbol: connections interleave)
    for symbol in SYMBOLS:
        mine = [e for e in replayed if e.symbol == symbol]
        theirs = [e for e in live if e.symbol == symbol]
        assert mine == theirs, symbol
