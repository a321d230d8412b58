"""Replay rules on hand-written Connex recordings: when REST replies are used, failed
replies, connections of other exchanges, reconnects, unsupported streams."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson

from connex.exchanges.base import Channel, ConnectionSpec, Subscription
from connex.model import BookReset, BookSnapshot, ResetReason, Side, Trade
from connex.record import Recorder, replay
from connex.record.replay import detect_format

S = 1_000_000_000
CONN = "binance-spot-0"
SPEC = ConnectionSpec(
    exchange="binance",
    name=CONN,
    url="wss://stream.binance.com:9443/stream",
    market="spot",
    subscriptions=(Subscription(Channel.BOOK, "ETH/BTC"), Subscription(Channel.TRADES, "ETH/BTC")),
)
DEPTH_URL = "https://api.binance.com/api/v3/depth?symbol=ETHBTC&limit=1000"


def depth(first: int, last: int, bids: list[list[str]], asks: list[list[str]]) -> str:
    data = {"e": "depthUpdate", "E": 1, "s": "ETHBTC", "U": first, "u": last, "b": bids, "a": asks}
    return orjson.dumps({"stream": "ethbtc@depth@100ms", "data": data}).decode()


def snapshot(last: int, bids: list[list[str]], asks: list[list[str]]) -> bytes:
    return orjson.dumps({"lastUpdateId": last, "bids": bids, "asks": asks})


def write(path: Path, items: list[tuple]) -> Path:
    with Recorder(path, exchange="binance") as rec:
        for item in items:
            getattr(rec, item[0])(*item[1:])
    return path


SNAP_101 = snapshot(101, [["0.05", "2"]], [["0.06", "5"], ["0.07", "1"]])


def basic(tmp_path: Path) -> Path:
    return write(
        tmp_path / "basic.gz",
        [
            ("open", CONN, SPEC.url, 1 * S, SPEC),
            ("recv", CONN, depth(99, 100, [["0.05", "1"]], []), 2 * S),
            ("recv", CONN, depth(101, 102, [["0.051", "3"]], [["0.06", "0"]]), 3 * S),
            ("rest", CONN, DEPTH_URL, "ETH/BTC", 200, SNAP_101, 4 * S),
            ("recv", CONN, depth(103, 105, [], [["0.07", "4"]]), 5 * S),
        ],
    )  # fmt: skip


def test_reply_is_used_only_once_the_clock_reaches_it(tmp_path):
    path = basic(tmp_path)
    assert detect_format([str(path)]) == "connex"
    early = replay([path], "binance", until=4 * S - 1)
    assert not early.books["ETH/BTC"].is_live
    assert early.summary()["snapshots"]["used"] == 0
    assert early.summary()["snapshots"]["unavailable"] == 1

    events: list = []
    full = replay([path], "binance", on_event=events.append)
    sync = full.books["ETH/BTC"]
    assert sync.is_live
    # snapshot 101; buffered 99..100 skipped, 101..102 applied on top, then 103..105
    assert sync.book.sequence == 105
    assert sync.book.bids() == [("0.051", "3"), ("0.05", "2")]
    assert sync.book.asks() == [("0.07", "4")]
    snap = next(e for e in events if type(e) is BookSnapshot)
    # the first verified book: REST snapshot 101 + the buffered update 101..102
    assert snap.sequence == 102
    assert snap.bids == (("0.051", "3"), ("0.05", "2")) and snap.asks == (("0.07", "1"),)
    s = full.summary()
    assert s["snapshots"] == {"used": 1, "failed": 0, "unavailable": 0, "unused_rest_replies": 0}
    assert s["books"]["ETH/BTC"]["best_bid"] == ["0.051", "3"]


SNAP_11 = snapshot(11, [["1.0", "1"]], [["2.0", "1"]])


def test_failed_reply_then_retry(tmp_path):
    path = write(
        tmp_path / "retry.gz",
        [
            ("open", CONN, SPEC.url, 1 * S, SPEC),
            ("recv", CONN, depth(10, 11, [["1.0", "1"]], []), 2 * S),
            ("rest", CONN, DEPTH_URL, "ETH/BTC", 429, b'{"code":-1003}', 3 * S),
            ("rest", CONN, DEPTH_URL, "ETH/BTC", 200, SNAP_11, 4 * S),
            ("recv", CONN, depth(12, 12, [["1.5", "2"]], []), 5 * S),
        ],
    )  # fmt: skip
    result = replay([path], "binance")
    s = result.summary()
    assert s["snapshots"]["failed"] == 1 and s["snapshots"]["used"] == 1
    assert s["books"]["ETH/BTC"]["valid"] is True
    assert s["books"]["ETH/BTC"]["best_bid"] == ["1.5", "2"]


SNAP_1 = snapshot(1, [["0.5", "1"]], [["2", "1"]])


def test_other_exchange_connections_are_ignored(tmp_path):
    okx = ConnectionSpec(
        exchange="okx",
        name="okx-public-0",
        url="wss://ws.okx.com:8443/ws/v5/public",
        market="spot",
        subscriptions=(Subscription(Channel.BOOK, "BTC/USDT"),),
    )
    path = write(
        tmp_path / "multi.gz",
        [
            ("open", "okx-public-0", okx.url, 1 * S, okx),
            ("open", "okx-public-1", okx.url, 1 * S),  # no spec: the name tells
            ("recv", "okx-public-0", '{"event":"subscribe"}', 2 * S),
            ("recv", "okx-public-1", '{"event":"subscribe"}', 2 * S),
            ("open", CONN, SPEC.url, 2 * S, SPEC),
            # a reply on the OKX connection for a symbol spelled like ours: not ours
            ("rest", "okx-public-1", "https://www.okx.com/books?instId=ETH-BTC", "ETH/BTC", 200,
             snapshot(1, [["9", "9"]], [["10", "9"]]), 3 * S),
            ("recv", CONN, depth(1, 2, [["1", "1"]], []), 4 * S),
            ("rest", CONN, DEPTH_URL, "ETH/BTC", 200, SNAP_1, 5 * S),
        ],
    )  # fmt: skip
    result = replay([path], "binance")
    s = result.summary()
    assert s["connections"] == {CONN: "spot"}
    assert s["frames"] == 1 and s["orphan_frames"] == 0
    assert s["errors"]["count"] == 0
    assert s["snapshots"]["used"] == 1
    assert s["books"]["ETH/BTC"]["best_bid"] == ["1", "1"]
    assert s["books"]["ETH/BTC"]["best_ask"] == ["2", "1"]


def test_reconnect_resets_and_resyncs(tmp_path):
    snap1 = snapshot(10, [["1.0", "1"]], [["2.0", "1"]])
    snap2 = snapshot(50, [["1.1", "7"]], [["2.0", "1"]])
    path = write(
        tmp_path / "reconnect.gz",
        [
            ("open", CONN, SPEC.url, 1 * S, SPEC),
            ("rest", CONN, DEPTH_URL, "ETH/BTC", 200, snap1, 2 * S),
            ("recv", CONN, depth(11, 11, [["1.0", "2"]], []), 3 * S),
            ("open", CONN, SPEC.url, 4 * S, SPEC),
            ("rest", CONN, DEPTH_URL, "ETH/BTC", 200, snap2, 5 * S),
            ("recv", CONN, depth(51, 52, [], [["2.0", "3"]]), 6 * S),
        ],
    )
    events: list = []
    result = replay([path], "binance", on_event=events.append)
    resets = [e for e in events if type(e) is BookReset]
    assert [(r.reason, r.ts_local) for r in resets] == [(ResetReason.RECONNECT, 4 * S)]
    s = result.summary()
    assert s["reconnects"] == 1
    book = s["books"]["ETH/BTC"]
    assert book["valid"] and book["resyncs"] == 1 and book["sequence"] == 52
    assert book["best_bid"] == ["1.1", "7"] and book["best_ask"] == ["2.0", "3"]


def test_unsupported_and_malformed_frames_are_counted_apart(tmp_path):
    kline = '{"stream":"ethbtc@kline_1m","data":{"e":"kline","k":{"i":"1m"}}}'
    path = write(
        tmp_path / "errors.gz",
        [
            ("open", CONN, SPEC.url, 1 * S, SPEC),
            ("recv", CONN, kline, 2 * S),
            ("recv", CONN, '{"stream":"ethbtc@depth@100ms","data":{"e":', 3 * S),
            ("recv", CONN, '{"stream":"ethbtc@nosuchstream","data":{}}', 4 * S),
        ],
    )
    s = replay([path], "binance").summary()
    assert s["errors"]["by_kind"] == {"malformed": 2, "unsupported": 1}
    assert s["errors"]["parse_errors"] == 2 and s["errors"]["unsupported"] == 1
    assert s["errors"]["samples"][0]["message"] == "unsupported stream 'ethbtc@kline_1m'"
    assert s["errors"]["samples"][0]["snippet"].startswith('{"e":"kline"')
    assert "nosuchstream" in s["errors"]["samples"][2]["message"]


def test_generic_replay_of_okx_reads_subscriptions_from_sent_frames():
    # OKX.ws.1.0 has no URL subscription and no configuration line: the three cumulative
    # subscribe frames name tickers/trades/books for BTC-USD-220527, UNI-USD-SWAP, BTC-USDT.
    okx = Path(__file__).resolve().parents[2] / "fixtures" / "recorded" / "okx"
    trades: list = []
    result = replay([okx], "okx", on_event=lambda e: trades.append(e) if type(e) is Trade else None)
    s = result.summary()
    assert s["errors"]["parse_errors"] == 0
    assert sorted(s["books"]) == ["BTC/USD:BTC-220527", "BTC/USDT", "UNI/USD:UNI"]
    for symbol, book in s["books"].items():
        # every OKX book message carries a CRC32 of the top 25 levels: all must verify
        assert book["valid"] and book["crossed"] == 0, symbol
        assert book["checksum_failures"] == 0 and book["checksums_verified"] > 50, symbol
    # first trade: 1652459225.5070758 BTC-USD-220527 tradeId 7849 px 30218.8 sz 1 buy
    first = trades[0]
    assert (first.symbol, first.trade_id, first.price, first.side) == (
        "BTC/USD:BTC-220527",
        "7849",
        Decimal("30218.8"),
        Side.BUY,
    )
