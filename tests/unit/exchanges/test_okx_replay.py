"""Replay of real OKX v5 traffic (2022-05-13, cryptofeed recording) through FeedCore.

The recording subscribes ``tickers``, ``trades`` and ``books`` for an inverse future
(BTC-USD-220527), an inverse perpetual (UNI-USD-SWAP) and spot BTC-USDT. Its book
messages predate ``seqId`` but carry the legacy CRC32 checksum, so every book message
(snapshots included) must verify.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connex.exchanges.base import Channel, ConnectionSpec, SendFrame, Subscription
from connex.exchanges.okx import PROD_ENDPOINTS, PublicSession
from connex.model import BookReset, FeedError, ResetReason, Side, Subscribed, Ticker, Trade
from connex.record import RecordKind, read_cryptofeed
from connex.runtime.core import FeedCore

FILE = Path(__file__).resolve().parents[2] / "fixtures" / "recorded" / "okx" / "OKX.ws.1.0.gz"
FUT, SWAP, SPOT = "BTC/USD:BTC-220527", "UNI/USD:UNI", "BTC/USDT"


def _core() -> FeedCore:
    subs = tuple(
        Subscription(ch, s)
        for s in (FUT, SWAP, SPOT)
        for ch in (Channel.BOOK, Channel.TRADES, Channel.TICKER)
    )
    spec = ConnectionSpec(
        exchange="okx", name="okx-replay", url="", market="spot", subscriptions=subs
    )
    return FeedCore(PublicSession(spec, PROD_ENDPOINTS["spot"]))


def _frames() -> list[tuple[int, str]]:
    recs = [r for r in read_cryptofeed([FILE]) if r.kind == RecordKind.RECV]
    return [(r.ts, r.data if isinstance(r.data, str) else r.data.decode()) for r in recs]


@pytest.fixture(scope="module")
def replay() -> tuple[FeedCore, list[object], int]:
    core = _core()
    events: list[object] = []
    with_checksum = 0
    crossed = 0
    for ts, frame in _frames():
        if '"channel":"books"' in frame and '"checksum":0' not in frame and '"checksum"' in frame:
            with_checksum += 1
        events.extend(core.on_frame(frame, ts))
        crossed += sum(1 for s in core.books.values() if s.book.is_crossed())
    assert crossed == 0
    return core, events, with_checksum


def test_every_frame_parses_and_every_checksum_verifies(replay) -> None:
    core, events, with_checksum = replay
    assert core.counters.frames == 410
    assert core.counters.malformed == 0 and core.counters.errors == 0
    assert not [e for e in events if isinstance(e, (FeedError, BookReset))]
    verified = sum(s.counters.checksums_verified for s in core.books.values())
    assert with_checksum == 290 and verified == with_checksum
    assert all(
        s.counters.checksum_failures == 0 and s.counters.gaps == 0 for s in core.books.values()
    )
    # per book: one snapshot plus each update, as counted in the file
    assert {sym: s.counters.checksums_verified for sym, s in core.books.items()} == {
        FUT: 99,
        SWAP: 93,
        SPOT: 98,
    }
    assert all(s.is_live for s in core.books.values())


def test_acks_trades_and_tickers_content(replay) -> None:
    _, events, _ = replay
    acks = [e for e in events if isinstance(e, Subscribed)]
    assert len(acks) == 18 and acks[-1].channels == ("books:BTC-USDT",)
    trades = {t.trade_id: t for t in events if isinstance(t, Trade)}
    t = trades["338476310"]
    assert (t.symbol, t.price, t.size, t.side) == (
        SPOT,
        Decimal("30243.5"),
        Decimal("0.00684062"),
        Side.BUY,
    )
    assert t.ts_exchange == 1652459226050 * 1_000_000
    inv = trades["12883020"]  # inverse perp: size stays in contracts (no instrument list loaded)
    assert (inv.symbol, inv.price, inv.size, inv.side) == (
        SWAP,
        Decimal("5.123"),
        Decimal("100"),
        Side.SELL,
    )
    fut = trades["7849"]
    assert (fut.symbol, fut.price, fut.side) == (FUT, Decimal("30218.8"), Side.BUY)
    first_tick = next(e for e in events if isinstance(e, Ticker) and e.symbol == SPOT)
    assert (first_tick.bid_price, first_tick.bid_size) == (Decimal("30228.6"), Decimal("0.23393"))
    assert (first_tick.ask_price, first_tick.ask_size) == (
        Decimal("30228.7"),
        Decimal("1.55896972"),
    )


def test_specific_update_applied_on_snapshot() -> None:
    """After the first BTC-USD-220527 update (checksum -914047754) the book shows exactly
    that update's levels on top of the snapshot, and the checksum held."""
    core = _core()
    sync = core.books[FUT]
    for ts, frame in _frames():
        core.on_frame(frame, ts)
        if '"checksum":-914047754' in frame:
            break
    bids, asks = sync.book.as_decimal_dict()
    assert Decimal("30249.4") not in asks
    assert asks[Decimal("30261")] == 4 and asks[Decimal("30310.3")] == 19
    assert bids[Decimal("30182.6")] == 452
    assert sync.book.asks(1) == [("30238.8", "2")]
    assert sync.counters.checksums_verified == 2 and sync.counters.deltas_applied == 1


def test_corrupted_size_fails_checksum_and_resubscribes() -> None:
    core = _core()
    out: list[object] = []
    for ts, frame in _frames():
        if '"checksum":-914047754' in frame:
            frame = frame.replace('["30182.6","452"', '["30182.6","453"')
            out = core.on_frame(frame, ts)
            break
        core.on_frame(frame, ts)
    sync = core.books[FUT]
    assert sync.counters.checksum_failures == 1 and not sync.is_live
    reset = next(e for e in out if isinstance(e, BookReset))
    assert reset.reason is ResetReason.CHECKSUM and "-914047754" in reset.detail
    frames = [e.text for e in out if isinstance(e, SendFrame)]
    assert len(frames) == 2
    assert '"op":"unsubscribe"' in frames[0] and '"op":"subscribe"' in frames[1]
    assert all('{"channel":"books","instId":"BTC-USD-220527"}' in f for f in frames)
