"""MEXC futures ("contract" JSON API): frames in, events out (no event loop)."""

from __future__ import annotations

import gzip
from decimal import Decimal

import orjson
import pytest

from connex.exchanges.base import Channel, Subscription
from connex.exchanges.mexc import PROD_ENDPOINTS, PublicSession
from connex.exchanges.mexc.symbols import SymbolMap, to_venue
from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    FeedError,
    FundingRate,
    MarkPrice,
    NeedSnapshot,
    ResetReason,
    Side,
    Subscribed,
    Trade,
)
from connex.model.errors import ConfigError, MalformedFrameError
from connex.runtime.core import FeedCore

PERP = "BTC/USDT:USDT"


def session(*channels: Channel, symbols: SymbolMap | None = None, **kw: object) -> PublicSession:
    subs = [Subscription(c, PERP) for c in channels or (Channel.BOOK,)]
    [spec] = PublicSession.plan(subs, PROD_ENDPOINTS)
    return PublicSession(spec, PROD_ENDPOINTS["linear"], symbols, **kw)  # type: ignore[arg-type]


def depth(version: int, bids=(), asks=(), ts: int = 1700000000000) -> bytes:
    data = {"asks": [list(a) for a in asks], "bids": [list(b) for b in bids], "version": version}
    return orjson.dumps({"channel": "push.depth", "data": data, "symbol": "BTC_USDT", "ts": ts})


def test_plan_and_subscribe_frames() -> None:
    s = session(Channel.BOOK, Channel.TRADES, Channel.FUNDING, Channel.MARK_PRICE)
    assert s.spec.url == "wss://contract.mexc.com/edge" and s.spec.market == "linear"
    assert s.spec.name == "mexc-linear-0"
    assert s.subscribe_frames(s.spec.subscriptions) == [
        '{"method":"sub.depth","param":{"symbol":"BTC_USDT","compress":false},"gzip":false}',
        '{"method":"sub.deal","param":{"symbol":"BTC_USDT"},"gzip":false}',
        '{"method":"sub.funding.rate","param":{"symbol":"BTC_USDT"},"gzip":false}',
        '{"method":"sub.fair.price","param":{"symbol":"BTC_USDT"},"gzip":false}',
    ]
    assert s.unsubscribe_frames(s.spec.subscriptions[:1]) == [
        '{"method":"unsub.depth","param":{"symbol":"BTC_USDT"},"gzip":false}'
    ]
    assert s.ping_frame() == '{"method":"ping"}'


def test_spot_and_futures_go_to_separate_connections() -> None:
    specs = PublicSession.plan(
        [Subscription(Channel.BOOK, "BTC/USDT"), Subscription(Channel.BOOK, PERP)], PROD_ENDPOINTS
    )
    assert [(s.market, s.url) for s in specs] == [
        ("spot", "wss://wbs-api.mexc.com/ws"),
        ("linear", "wss://contract.mexc.com/edge"),
    ]


def test_acks_errors_and_pong() -> None:
    s = session()
    [ack] = s.receive('{"channel":"rs.sub.depth","data":"success","ts":1}', 1)
    assert ack == Subscribed(exchange="mexc", request_id="rs.sub.depth", channels=("sub.depth",))
    [err] = s.receive(b'{"channel":"rs.error","data":"Contract doesn\'t exist!","ts":1}', 2)
    assert isinstance(err, FeedError) and err.kind == "exchange_error"
    assert err.message == "rs.error: Contract doesn't exist!"
    assert s.receive('{"channel":"pong","data":1700000000000}', 3) == []
    assert s.receive('{"channel":"rs.unsub.depth","data":"success","ts":1}', 3) == []
    [bad] = s.receive('{"channel":"rs.sub.deal","data":"failed","ts":1}', 4)
    assert bad.kind == "exchange_error" and "failed" in bad.message


def test_depth_push_in_contracts_with_exact_prices() -> None:
    [ev] = session().receive(
        depth(7001, bids=[(60000.5, 12, 3)], asks=[(60001, 0, 0), (6.0e4, 5, 1)]), 9
    )
    assert ev == BookDelta(
        exchange="mexc",
        symbol=PERP,
        bids=(("60000.5", "12"),),
        asks=(("60001", "0"), ("60000.0", "5")),
        sequence=7001,
        first_seq=7001,
        ts_exchange=1700000000000 * 1_000_000,
        ts_local=9,
    )


def test_depth_in_base_units_needs_contract_sizes() -> None:
    with pytest.raises(ConfigError, match="contract size of BTC/USDT:USDT"):
        session(book_units="base")
    m = SymbolMap()
    m.load_contract_detail(
        {
            "data": [
                {
                    "symbol": "BTC_USDT",
                    "baseCoin": "BTC",
                    "quoteCoin": "USDT",
                    "settleCoin": "USDT",
                    "contractSize": 0.0001,
                }
            ]
        }
    )
    assert m.contract_size(PERP) == Decimal("0.0001")
    [ev] = session(symbols=m, book_units="base").receive(depth(5, bids=[(60000.5, 12, 3)]), 1)
    assert ev.bids == (("60000.5", "0.0012"),)


def test_merged_push_spans_begin_to_end() -> None:
    data = {"asks": [], "bids": [[1.5, 2, 1]], "version": 20, "begin": 17, "end": 20}
    frame = orjson.dumps({"channel": "push.depth", "data": data, "symbol": "BTC_USDT", "ts": 5})
    [ev] = session().receive(frame, 1)
    assert (ev.first_seq, ev.sequence) == (17, 20)


def test_deals_as_list_or_object() -> None:
    s = session(Channel.TRADES)
    listed = {
        "channel": "push.deal",
        "symbol": "BTC_USDT",
        "ts": 5,
        "data": [
            {"p": 60010.5, "v": 7, "T": 1, "O": 1, "M": 2, "t": 1700000000123},
            {"p": 60010.4, "v": 3, "T": 2, "O": 3, "M": 2, "t": 1700000000124, "i": 88},
        ],
    }
    buy, sell = s.receive(orjson.dumps(listed), 1)
    assert isinstance(buy, Trade) and (buy.side, buy.price, buy.size) == (
        Side.BUY,
        Decimal("60010.5"),
        Decimal(7),
    )
    assert (
        buy.trade_id == "1700000000123-60010.5-7" and buy.ts_exchange == 1700000000123 * 1_000_000
    )
    assert (sell.side, sell.trade_id) == (Side.SELL, "88")
    single = {
        "channel": "push.deal",
        "symbol": "BTC_USDT",
        "ts": 5,
        "data": {"p": 1.25, "v": 4, "T": 2, "t": 9},
    }
    [t] = s.receive(orjson.dumps(single), 1)
    assert (t.price, t.side) == (Decimal("1.25"), Side.SELL)
    m = SymbolMap()
    m.set_contract_size(PERP, "0.0001")
    [b] = session(Channel.TRADES, symbols=m).receive(orjson.dumps(listed), 1)[:1]
    assert b.size == Decimal("0.0007")  # base units once the contract size is known


def test_funding_and_fair_price() -> None:
    s = session(Channel.FUNDING, Channel.MARK_PRICE)
    f = {
        "channel": "push.funding.rate",
        "symbol": "BTC_USDT",
        "ts": 11,
        "data": {"symbol": "BTC_USDT", "rate": 0.000125, "nextSettleTime": 1700006400000},
    }
    [fr] = s.receive(orjson.dumps(f), 1)
    assert fr == FundingRate(
        exchange="mexc",
        symbol=PERP,
        rate=Decimal("0.000125"),
        next_funding_ts=1700006400000 * 1_000_000,
        ts_exchange=11_000_000,
        ts_local=1,
    )
    f2 = {"channel": "push.funding.rate", "data": {"symbol": "BTC_USDT", "fundingRate": -0.0001}}
    [fr2] = s.receive(orjson.dumps(f2), 1)
    assert fr2.rate == Decimal("-0.0001") and fr2.symbol == PERP
    p = {
        "channel": "push.fair.price",
        "symbol": "BTC_USDT",
        "ts": 12,
        "data": {"symbol": "BTC_USDT", "price": 60000.7},
    }
    [mp] = s.receive(orjson.dumps(p), 2)
    assert mp == MarkPrice(
        exchange="mexc",
        symbol=PERP,
        mark_price=Decimal("60000.7"),
        ts_exchange=12_000_000,
        ts_local=2,
    )


def test_gzip_frames_are_decompressed_and_garbage_reported() -> None:
    s = session()
    [ev] = s.receive(gzip.compress(depth(3, bids=[(1, 1, 1)])), 1)
    assert isinstance(ev, BookDelta) and ev.sequence == 3
    for bad in (
        b"\x1f\x8b\x08\x00garbage",
        b'{"channel":"push.depth","data":{"asks":[]}}',
        "{",
        '{"channel":"x.y"}',
    ):
        [err] = s.receive(bad, 1)
        assert isinstance(err, FeedError) and err.kind == "malformed", bad


def test_snapshot_and_version_chain() -> None:
    s = session()
    req = s.snapshot_request(PERP)
    assert (req.method, req.url, req.params) == (
        "GET",
        "https://contract.mexc.com/api/v1/contract/depth/BTC_USDT",
        {"limit": "1000"},
    )
    body = orjson.dumps(
        {
            "success": True,
            "code": 0,
            "data": {
                "asks": [[101.5, 4, 1]],
                "bids": [[100.5, 2, 1], [100, 1, 1]],
                "version": 500,
                "timestamp": 7,
            },
        }
    )
    core = FeedCore(s)
    assert core.start() == [NeedSnapshot(exchange="mexc", symbol=PERP)]
    core.on_frame(depth(500, bids=[(99, 9, 1)]), 1)  # already in the snapshot: skipped
    core.on_frame(depth(501, bids=[(100.5, 3, 1)]), 2)
    out = core.on_snapshot(PERP, body, 3)
    sync = core.books[PERP]
    assert isinstance(out[-1], BookSnapshot) and sync.is_live
    assert sync.book.bids() == [("100.5", "3"), ("100", "1")]
    core.on_frame(depth(502, asks=[(101.5, 0, 0)]), 4)
    assert sync.book.asks() == [] and sync.book.sequence == 502
    out = core.on_frame(depth(504, bids=[(100, 5, 1)]), 5)  # 503 missing
    assert isinstance(out[0], BookReset) and out[0].reason is ResetReason.GAP
    with pytest.raises(MalformedFrameError):
        s.parse_snapshot(
            PERP, b'{"success":false,"code":1001,"data":{"asks":[],"bids":[],"version":1}}', 1
        )


def test_symbols() -> None:
    assert to_venue(PERP) == "BTC_USDT"
    m = SymbolMap()
    assert m.to_unified("ETH_USDT", "linear") == "ETH/USDT:USDT"
    assert m.to_unified("ETHUSDT", "spot") == "ETH/USDT"
