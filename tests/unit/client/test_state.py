"""The client's stream state machine: text in, model events and commands out."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from connex.client.state import StreamState
from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    FeedError,
    Liquidation,
    PositionSide,
    ResetReason,
)
from connex.model.errors import AuthError

SUB = "orderbook:binance:BTC/USDT"


def snap(seq: int, book_seq: int = 10) -> str:
    return orjson.dumps(
        {
            "type": "snapshot",
            "sub": SUB,
            "seq": seq,
            "ts_gw": 5,
            "data": {
                "exchange": "binance",
                "symbol": "BTC/USDT",
                "bids": [["100.0", "1.5"], ["99.5", "2"]],
                "asks": [["100.5", "0.25"]],
                "sequence": book_seq,
            },
        }
    ).decode()


def delta(seq: int, book_seq: int, bids=(), asks=()) -> str:
    return orjson.dumps(
        {
            "type": "delta",
            "sub": SUB,
            "seq": seq,
            "ts_gw": 6,
            "data": {
                "exchange": "binance",
                "symbol": "BTC/USDT",
                "bids": list(bids),
                "asks": list(asks),
                "sequence": book_seq,
            },
        }
    ).decode()


def make() -> StreamState:
    st = StreamState()
    st.add("orderbook", "binance", "BTC-USDT", 10)
    st.add("liquidations", "binance", "BTC/USDT:USDT")
    return st


def test_snapshot_then_deltas_build_the_book() -> None:
    st = make()
    assert st.book("binance", "BTC/USDT") is None
    (ev,), cmds = st.on_message(snap(40))
    assert (
        isinstance(ev, BookSnapshot) and ev.bids == (("100.0", "1.5"), ("99.5", "2")) and not cmds
    )
    (d,), _ = st.on_message(delta(41, 11, bids=[["100.0", "0"], ["100.2", "3"]]))
    assert isinstance(d, BookDelta) and d.sequence == 11
    book = st.book("binance", "BTC/USDT")
    assert book.bids() == [("100.2", "3"), ("99.5", "2")] and book.asks() == [("100.5", "0.25")]
    assert book.sequence == 11 and st.last_ts_gw == 6


def test_gap_resets_and_asks_for_resync_then_snapshot_recovers() -> None:
    st = make()
    st.on_message(snap(40))
    (reset,), cmds = st.on_message(delta(42, 12))
    assert isinstance(reset, BookReset) and reset.reason is ResetReason.GAP
    assert "seq 42, expected 41" in reset.detail
    assert cmds == [
        {"op": "resync", "channel": "orderbook", "exchange": "binance", "symbol": "BTC/USDT"}
    ]
    assert st.book("binance", "BTC/USDT") is None and st.gaps == 1
    assert st.on_message(delta(43, 13)) == ([], [])  # ignored until the snapshot
    (ev,), _ = st.on_message(snap(50, 20))
    assert isinstance(ev, BookSnapshot)
    (d,), _ = st.on_message(delta(51, 21))
    assert isinstance(d, BookDelta) and st.book("binance", "BTC/USDT").sequence == 21


def test_reset_message_and_disconnect() -> None:
    st = make()
    st.on_message(snap(1))
    msg = orjson.dumps(
        {
            "type": "reset",
            "sub": SUB,
            "seq": 2,
            "ts_gw": 1,
            "data": {
                "exchange": "binance",
                "symbol": "BTC/USDT",
                "reason": "checksum",
                "detail": "x",
            },
        }
    ).decode()
    (ev,), _ = st.on_message(msg)
    assert isinstance(ev, BookReset) and ev.reason is ResetReason.CHECKSUM
    assert st.book("binance", "BTC/USDT") is None
    assert st.on_disconnect(7) == []  # nothing live: no reset to report
    st.on_message(snap(3))
    (ev,) = st.on_disconnect(8)
    assert ev.reason is ResetReason.RECONNECT and ev.ts_local == 8
    assert st.subscribe_ops() == [
        {
            "op": "subscribe",
            "channel": "orderbook",
            "exchange": "binance",
            "symbol": "BTC/USDT",
            "depth": 10,
        },
        {
            "op": "subscribe",
            "channel": "liquidations",
            "exchange": "binance",
            "symbol": "BTC/USDT:USDT",
        },
    ]


def test_topic_messages_gap_report_errors_and_auth() -> None:
    st = make()

    def liq(seq: int) -> str:
        return orjson.dumps(
            {
                "type": "liquidation",
                "sub": "liquidations:binance:BTC/USDT:USDT",
                "seq": seq,
                "ts_gw": 1,
                "data": {
                    "exchange": "binance",
                    "symbol": "BTC/USDT:USDT",
                    "side": "long",
                    "price": "59000.5",
                    "size": "0.010",
                },
            }
        ).decode()

    (ev,), _ = st.on_message(liq(1))
    assert (
        isinstance(ev, Liquidation)
        and ev.side is PositionSide.LONG
        and ev.price == Decimal("59000.5")
    )
    gap, ev2 = st.on_message(liq(3))[0]
    assert isinstance(gap, FeedError) and gap.kind == "gap" and isinstance(ev2, Liquidation)
    (err,), _ = st.on_message(
        '{"type":"error","id":4,"code":"forbidden","reason":"key \'x\' may not read"}'
    )
    assert isinstance(err, FeedError) and err.kind == "forbidden"
    (bad,), _ = st.on_message("{not json")
    assert isinstance(bad, FeedError) and bad.kind == "malformed"
    assert st.on_message('{"type":"heartbeat","ts":1}') == ([], [])
    with pytest.raises(AuthError, match="invalid API key"):
        st.on_message('{"type":"error","code":"unauthorized","reason":"invalid API key"}')


def test_batch_frame_is_handled_message_by_message_in_order() -> None:
    st = make()
    # a snapshot, two deltas and a gapped delta in one frame (bytes, as aiohttp may give)
    frame = (
        "["
        + ",".join(
            [
                snap(40),
                delta(41, 11, bids=[["100.2", "3"]]),
                delta(42, 12, asks=[["100.5", "0"], ["100.7", "1"]]),
                delta(44, 14),
            ]
        )
        + "]"
    ).encode()
    events, cmds = st.on_message(frame)
    assert [type(e).__name__ for e in events] == [
        "BookSnapshot",
        "BookDelta",
        "BookDelta",
        "BookReset",
    ]
    assert [e.sequence for e in events[1:3]] == [11, 12]
    assert "seq 44, expected 43" in events[3].detail
    assert cmds == [
        {"op": "resync", "channel": "orderbook", "exchange": "binance", "symbol": "BTC/USDT"}
    ]
    # a batch may hold control messages too; a refused key still raises
    with pytest.raises(AuthError):
        st.on_message('[{"type":"heartbeat","ts":1},{"type":"error","code":"unauthorized"}]')
    (err,), _ = st.on_message('[{"type":"delta", "sub": ')
    assert isinstance(err, FeedError) and err.kind == "malformed"
