"""Bybit v5 public session: frames in, events out (no event loop)."""

# ruff: noqa: E501  (wire frames are kept verbatim on one line)

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connex.book import ContiguousRule, MonotonicRule
from connex.exchanges.base import Channel, ConnectionSpec, MarketEndpoints, SendFrame, Subscription
from connex.exchanges.bybit import PROD_ENDPOINTS, PublicSession
from connex.exchanges.bybit.symbols import SymbolMap, to_venue
from connex.model import (
    BookReset,
    BookSnapshot,
    FeedError,
    FundingRate,
    Liquidation,
    MarkPrice,
    PositionSide,
    ResetReason,
    Side,
    Subscribed,
    Ticker,
    Trade,
)
from connex.model.errors import UnknownSymbolError, UnsupportedChannelError
from connex.runtime.core import FeedCore

SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"


def _session(market: str, subs: list[Subscription], **kw) -> PublicSession:
    spec = ConnectionSpec(
        exchange="bybit", name="t", url="", market=market, subscriptions=tuple(subs)
    )
    return PublicSession(spec, PROD_ENDPOINTS[market], **kw)


def _ob(kind: str, u: int, bids, asks, depth: int = 200, sym: str = "BTCUSDT") -> str:
    return json.dumps({"topic": f"orderbook.{depth}.{sym}", "type": kind, "ts": 1672304484978,
                       "data": {"s": sym, "b": bids, "a": asks, "u": u, "seq": 7961638724}, "cts": 1672304484976})  # fmt: skip


def test_symbols() -> None:
    assert to_venue(SPOT) == to_venue(PERP) == "BTCUSDT"
    assert to_venue("BTC/USDC:USDC") == "BTCPERP"
    sm = SymbolMap()
    assert sm.to_unified("spot", "BTCUSDT") == SPOT and sm.to_unified("linear", "BTCUSDT") == PERP
    assert sm.to_unified("linear", "ETHPERP") == "ETH/USDC:USDC"
    with pytest.raises(UnknownSymbolError):
        sm.to_unified("spot", "XYZ")
    with pytest.raises(UnsupportedChannelError):
        PublicSession.plan([Subscription(Channel.BOOK, "BTC/USD:BTC")], PROD_ENDPOINTS)
    with pytest.raises(UnsupportedChannelError):
        PublicSession.plan([Subscription(Channel.LIQUIDATIONS, SPOT)], PROD_ENDPOINTS)


def test_plan_urls_and_subscribe_frames() -> None:
    eps = {
        m: MarketEndpoints(ws=f"ws://127.0.0.1:{i}", rest="http://x")
        for i, m in enumerate(("spot", "linear"))
    }
    subs = [Subscription(c, PERP) for c in Channel] + [Subscription(Channel.BOOK, SPOT)]
    specs = PublicSession.plan(subs, eps)
    assert [(s.market, s.url) for s in specs] == [("linear", "ws://127.0.0.1:1/v5/public/linear"),
                                                  ("spot", "ws://127.0.0.1:0/v5/public/spot")]  # fmt: skip
    s = _session("linear", list(specs[0].subscriptions))
    (frame,) = s.subscribe_frames(s.spec.subscriptions)
    assert json.loads(frame) == {
        "req_id": "1",
        "op": "subscribe",
        "args": [
            "orderbook.200.BTCUSDT",
            "publicTrade.BTCUSDT",
            "orderbook.1.BTCUSDT",
            "allLiquidation.BTCUSDT",
            "tickers.BTCUSDT",
        ],
    }
    many = _session("spot", [Subscription(Channel.BOOK, f"C{i}/USDT") for i in range(23)])
    frames = [json.loads(f) for f in many.subscribe_frames(many.spec.subscriptions)]
    assert [len(f["args"]) for f in frames] == [10, 10, 3]  # spot: at most 10 args per request
    assert (
        json.loads(s.ping_frame()) == {"req_id": "ping", "op": "ping"} and s.ping_interval == 20.0
    )


def test_book_depth_option() -> None:
    s = _session("linear", [Subscription(Channel.BOOK, PERP)], book_depth=50)
    assert "orderbook.50.BTCUSDT" in s.subscribe_frames(s.spec.subscriptions)[0]
    with pytest.raises(ValueError):
        _session("linear", [Subscription(Channel.BOOK, PERP)], book_depth=25)


def test_acks_pongs_and_errors() -> None:
    s = _session("spot", [Subscription(Channel.BOOK, SPOT)])
    s.subscribe_frames(s.spec.subscriptions)
    (ack,) = s.receive(
        '{"success":true,"ret_msg":"subscribe","conn_id":"2324d924","req_id":"1","op":"subscribe"}',
        1,
    )
    assert ack == Subscribed(exchange="bybit", request_id="1", channels=("orderbook.200.BTCUSDT",))
    assert s.receive('{"success":true,"ret_msg":"pong","conn_id":"0970e817","op":"ping"}', 1) == []
    assert (
        s.receive(
            '{"success":true,"ret_msg":"pong","conn_id":"465772b1","req_id":"","op":"ping"}', 1
        )
        == []
    )
    assert s.receive('{"args":["1672916271846"],"op":"pong"}', 1) == []
    (err,) = s.receive(
        '{"success":false,"ret_msg":"error:handler not found,topic:dcp.future","conn_id":"x","req_id":"dcp.future","op":"subscribe"}',
        2,
    )
    assert (
        isinstance(err, FeedError)
        and err.kind == "exchange_error"
        and "handler not found,topic:dcp.future" in err.message
    )
    (bad,) = s.receive("not json", 3)
    assert bad.kind == "malformed" and bad.snippet == "not json"
    (unk,) = s.receive('{"topic":"kline.1.BTCUSDT","type":"snapshot","ts":1,"data":[]}', 4)
    assert unk.kind == "unknown_topic"


def test_snapshot_delta_gap_and_resnapshot() -> None:
    core = FeedCore(_session("linear", [Subscription(Channel.BOOK, PERP)]))
    sync = core.books[PERP]
    (snap,) = core.on_frame(
        _ob(
            "snapshot", 100, [["16493.50", "0.006"], ["16493.00", "0.100"]], [["16611.00", "0.029"]]
        ),
        1,
    )
    assert (
        isinstance(snap, BookSnapshot)
        and snap.sequence == 100
        and snap.ts_exchange == 1672304484978 * 10**6
    )
    core.on_frame(
        _ob("delta", 101, [["16493.50", "0"], ["16494.00", "1.5"]], [["16600.00", "2"]]), 2
    )
    assert sync.book.bids() == [("16494.00", "1.5"), ("16493.00", "0.100")]
    assert sync.book.asks() == [("16600.00", "2"), ("16611.00", "0.029")]
    assert core.on_frame(_ob("delta", 101, [["1", "1"]], []), 3) == []  # stale duplicate
    assert sync.counters.duplicates == 1
    out = core.on_frame(_ob("delta", 103, [["16494.00", "2"]], []), 4)  # 102 missing
    assert next(e for e in out if isinstance(e, BookReset)).reason is ResetReason.GAP
    frames = [json.loads(e.text) for e in out if isinstance(e, SendFrame)]
    assert [(f["op"], f["args"]) for f in frames] == [("unsubscribe", ["orderbook.200.BTCUSDT"]),
                                                      ("subscribe", ["orderbook.200.BTCUSDT"])]  # fmt: skip
    # the fresh snapshot (u == 1 after a service restart) replaces everything
    core.on_frame(_ob("snapshot", 1, [["16000.0", "1"]], [["16001.0", "1"]]), 5)
    core.on_frame(_ob("delta", 2, [["16000.0", "3"]], []), 6)
    assert sync.is_live and sync.book.bids() == [("16000.0", "3")] and sync.counters.resyncs == 1
    # an unsolicited snapshot while live simply replaces the book
    core.on_frame(_ob("snapshot", 50, [["15000.0", "1"]], [["15001.0", "1"]]), 7)
    assert sync.is_live and sync.book.bids() == [("15000.0", "1")] and sync.book.sequence == 50


def test_gap_rule_is_configurable() -> None:
    assert isinstance(_session("linear", []).sequence_rule(PERP), ContiguousRule)
    lenient = _session("linear", [Subscription(Channel.BOOK, PERP)], gap_rule="monotonic")
    assert isinstance(lenient.sequence_rule(PERP), MonotonicRule)
    core = FeedCore(lenient)
    core.on_frame(_ob("snapshot", 100, [["1", "1"]], [["2", "1"]]), 1)
    core.on_frame(_ob("delta", 105, [["1", "2"]], []), 2)
    assert core.on_frame(_ob("delta", 104, [["1", "9"]], []), 3) == []
    sync = core.books[PERP]
    assert sync.is_live and sync.counters.gaps == 0 and sync.book.bids() == [("1", "2")]
    with pytest.raises(ValueError):
        _session("linear", [], gap_rule="nope")


def test_level1_orderbook_is_the_ticker() -> None:
    s = _session("spot", [Subscription(Channel.TICKER, SPOT)])
    (t,) = s.receive(
        '{"topic":"orderbook.1.BTCUSDT","ts":1672304484978,"type":"snapshot","data":{"s":"BTCUSDT","b":[["16493.50","0.006"]],"a":[["16611.00","0.029"]],"u":18521288,"seq":7961638724},"cts":1672304484976}',
        1,
    )
    assert isinstance(t, Ticker) and t.symbol == SPOT
    assert (t.bid_price, t.bid_size, t.ask_price, t.ask_size) == (
        Decimal("16493.50"),
        Decimal("0.006"),
        Decimal("16611.00"),
        Decimal("0.029"),
    )


def test_public_trades() -> None:
    s = _session("linear", [Subscription(Channel.TRADES, PERP)])
    trades = s.receive(
        '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false,"RPI":false,"seq":1783284617},{"T":1672304486866,"s":"BTCUSDT","S":"Sell","v":"0.25","p":"16578.00","L":"MinusTick","i":"30f43950-d8dd-5b31-9112-a178eb6023af","BT":false,"seq":1783284618}]}',
        1,
    )
    assert [(t.trade_id, t.side, t.price, t.size) for t in trades] == [
        ("20f43950-d8dd-5b31-9112-a178eb6023af", Side.BUY, Decimal("16578.50"), Decimal("0.001")),
        ("30f43950-d8dd-5b31-9112-a178eb6023af", Side.SELL, Decimal("16578.00"), Decimal("0.25")),
    ]
    assert all(isinstance(t, Trade) and t.symbol == PERP for t in trades)
    assert trades[0].ts_exchange == 1672304486865 * 10**6


def test_all_liquidation_side_is_the_position_side() -> None:
    s = _session("linear", [Subscription(Channel.LIQUIDATIONS, "ROSE/USDT:USDT")])
    liqs = s.receive(
        '{"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1739502303204,"data":[{"T":1739502302929,"s":"ROSEUSDT","S":"Sell","v":"20000","p":"0.04499"},{"T":1739502302930,"s":"ROSEUSDT","S":"Buy","v":"15","p":"0.05"}]}',
        1,
    )
    assert all(isinstance(x, Liquidation) for x in liqs)
    # "Sell" = a SHORT position was liquidated (opposite of Binance/OKX order sides)
    assert [(x.side, x.price, x.size) for x in liqs] == [
        (PositionSide.SHORT, Decimal("0.04499"), Decimal("20000")),
        (PositionSide.LONG, Decimal("0.05"), Decimal("15")),
    ]
    (err,) = s.receive(
        '{"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"ROSEUSDT","S":"Up","v":"1","p":"1"}]}',
        2,
    )
    assert err.kind == "malformed"


def test_ticker_deltas_merge_into_complete_funding_and_mark() -> None:
    s = _session(
        "linear", [Subscription(Channel.FUNDING, PERP), Subscription(Channel.MARK_PRICE, PERP)]
    )
    snap = s.receive(
        '{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","lastPrice":"110000.1","markPrice":"110001.5","indexPrice":"110002.0","fundingRate":"-0.005","nextFundingTime":"1760342400000","fundingIntervalHour":"8","fundingCap":"0.005","openInterest":"5000.5","bid1Price":"110000.0","bid1Size":"1","ask1Price":"110000.2","ask1Size":"2"},"cs":9532239429,"ts":1760325052630}',
        1,
    )
    fr, mp = snap
    assert (
        isinstance(fr, FundingRate)
        and fr.rate == Decimal("-0.005")
        and fr.next_funding_ts == 1760342400000 * 10**6
    )
    assert isinstance(mp, MarkPrice) and (mp.mark_price, mp.index_price, mp.open_interest) == (
        Decimal("110001.5"),
        Decimal("110002.0"),
        Decimal("5000.5"),
    )
    # a delta with only the mark price: MarkPrice keeps index/OI from the snapshot, no FundingRate
    (mp2,) = s.receive(
        '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"110010.0"},"cs":9532239430,"ts":1760325052730}',
        2,
    )
    assert isinstance(mp2, MarkPrice)
    assert (mp2.mark_price, mp2.index_price, mp2.open_interest) == (
        Decimal("110010.0"),
        Decimal("110002.0"),
        Decimal("5000.5"),
    )
    # a funding delta: complete FundingRate carrying the latest mark
    (fr2,) = s.receive(
        '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","fundingRate":"0.0001"},"cs":9532239431,"ts":1760325052830}',
        3,
    )
    assert (fr2.rate, fr2.next_funding_ts, fr2.mark_price) == (
        Decimal("0.0001"),
        1760342400000 * 10**6,
        Decimal("110010.0"),
    )
    assert (
        s.receive(
            '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","lastPrice":"1"},"cs":1,"ts":1}',
            4,
        )
        == []
    )
