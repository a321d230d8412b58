"""MEXC spot connector: protobuf decoding, control frames, symbols and book sync.

The two hex vectors come from ../shared/protocols/mexc.md §2 (encoded there with a
protobuf runtime from MEXC's official schema), so they check our own ``.proto`` against
the official field numbers.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from connex.exchanges.base import Channel, Subscription
from connex.exchanges.mexc import PROD_ENDPOINTS, PublicSession
from connex.exchanges.mexc.messages import pb
from connex.exchanges.mexc.public import CHANNELS_PER_CONNECTION
from connex.exchanges.mexc.symbols import SymbolMap, to_venue
from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    FeedError,
    NeedSnapshot,
    ResetReason,
    Side,
    Subscribed,
    Ticker,
    Trade,
)
from connex.model.errors import MalformedFrameError, UnknownSymbolError, UnsupportedChannelError
from connex.runtime.core import FeedCore

DEPTH_HEX = (
    "0a2f73706f74407075626c69632e61676772652e64657074682e76332e6170692e7062403130306d7340425443555344541a07"
    "4254435553445430bad2c3d1c432ca13630a0f0a0839323838302e30311203312e35120d0a0839323837372e35381201301a27"
    "73706f74407075626c69632e61676772652e64657074682e76332e6170692e7062403130306d73220b31303538393633323335"
    "392a0b3130353839363332333630"
)
DEALS_HEX = (
    "0a2f73706f74407075626c69632e61676772652e6465616c732e76332e6170692e7062403130306d7340425443555344541a07"
    "4254435553445430bca9d9d0c432d2134a0a1f0a0839333232302e3030120a302e3034343338323433180220bba9d9d0c43212"
    "2773706f74407075626c69632e61676772652e6465616c732e76332e6170692e7062403130306d73"
)
DEPTH_CH = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
DEALS_CH = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
TICKER_CH = "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"


def session(*channels: Channel, symbol: str = "BTC/USDT") -> PublicSession:
    subs = [Subscription(c, symbol) for c in channels or (Channel.BOOK,)]
    spec = PublicSession.plan(subs, PROD_ENDPOINTS)[0]
    return PublicSession(spec, PROD_ENDPOINTS["spot"])


def depth_push(
    first: int, last: int, bids=(), asks=(), symbol: str = "BTCUSDT", t: int = 1
) -> bytes:
    w = pb.PushDataV3ApiWrapper(
        channel=f"spot@public.aggre.depth.v3.api.pb@100ms@{symbol}", symbol=symbol, sendTime=t
    )
    d = w.publicAggreDepths
    d.fromVersion, d.toVersion = str(first), str(last)
    d.eventType = "spot@public.aggre.depth.v3.api.pb@100ms"
    for p, q in bids:
        d.bids.add(price=p, quantity=q)
    for p, q in asks:
        d.asks.add(price=p, quantity=q)
    return w.SerializeToString()


# -- the constructed vectors ---------------------------------------------------------------
def test_depth_vector_decodes_to_the_documented_values() -> None:
    w = pb.PushDataV3ApiWrapper.FromString(bytes.fromhex(DEPTH_HEX))
    assert w.WhichOneof("body") == "publicAggreDepths"
    assert (w.channel, w.symbol, w.sendTime) == (DEPTH_CH, "BTCUSDT", 1736411507002)
    d = w.publicAggreDepths
    assert [(a.price, a.quantity) for a in d.asks] == [("92880.01", "1.5")]
    assert [(b.price, b.quantity) for b in d.bids] == [("92877.58", "0")]
    assert (d.eventType, d.fromVersion, d.toVersion) == (
        "spot@public.aggre.depth.v3.api.pb@100ms",
        "10589632359",
        "10589632360",
    )


def test_depth_vector_becomes_a_book_delta() -> None:
    s = session(Channel.BOOK)
    [ev] = s.receive(bytes.fromhex(DEPTH_HEX), 42)
    assert ev == BookDelta(
        exchange="mexc",
        symbol="BTC/USDT",
        bids=(("92877.58", "0"),),
        asks=(("92880.01", "1.5"),),
        sequence=10589632360,
        first_seq=10589632359,
        ts_exchange=1736411507002 * 1_000_000,
        ts_local=42,
    )


def test_deals_vector_decodes_to_the_documented_values() -> None:
    w = pb.PushDataV3ApiWrapper.FromString(bytes.fromhex(DEALS_HEX))
    assert w.WhichOneof("body") == "publicAggreDeals"
    assert (w.channel, w.symbol, w.sendTime) == (DEALS_CH, "BTCUSDT", 1736409765052)
    [deal] = w.publicAggreDeals.deals
    assert (deal.price, deal.quantity, deal.tradeType, deal.time, deal.tradeId) == (
        "93220.00",
        "0.04438243",
        2,
        1736409765051,
        "",
    )
    assert w.publicAggreDeals.eventType == "spot@public.aggre.deals.v3.api.pb@100ms"


def test_deals_vector_becomes_a_sell_trade() -> None:
    [t] = session(Channel.TRADES).receive(bytes.fromhex(DEALS_HEX), 7)
    assert isinstance(t, Trade)
    assert (t.symbol, t.price, t.size, t.side) == (
        "BTC/USDT",
        Decimal("93220.00"),
        Decimal("0.04438243"),
        Side.SELL,
    )
    assert t.ts_exchange == 1736409765051 * 1_000_000
    # no tradeId on this (pre-2026) vector: a stable synthetic id
    assert t.trade_id == "1736409765051-93220.00-0.04438243"


def test_trade_id_and_buy_side_from_a_2026_deal() -> None:
    w = pb.PushDataV3ApiWrapper(channel=DEALS_CH, symbol="BTCUSDT", sendTime=5)
    w.publicAggreDeals.deals.add(price="100.5", quantity="2", tradeType=1, time=4, tradeId="T-991")
    w.publicAggreDeals.deals.add(price="100.4", quantity="1", tradeType=2, time=4, tradeId="T-992")
    trades = session(Channel.TRADES).receive(w.SerializeToString(), 1)
    assert [(t.trade_id, t.side, t.price) for t in trades] == [
        ("T-991", Side.BUY, Decimal("100.5")),
        ("T-992", Side.SELL, Decimal("100.4")),
    ]


def test_unknown_fields_are_skipped() -> None:
    # a future field 99 (varint) in the depth body and field 7 (string) in the wrapper
    raw = bytes.fromhex(DEPTH_HEX)
    extra = bytes([0x3A, 0x03]) + b"abc"  # wrapper field 7, length 3
    [ev] = session().receive(raw + extra, 1)
    assert isinstance(ev, BookDelta) and ev.sequence == 10589632360


def test_book_ticker() -> None:
    w = pb.PushDataV3ApiWrapper(channel=TICKER_CH, symbol="BTCUSDT", sendTime=1700000000123)
    b = w.publicAggreBookTicker
    b.bidPrice, b.bidQuantity, b.askPrice, b.askQuantity, b.version = (
        "93000.1",
        "0.5",
        "93000.2",
        "1.25",
        "77",
    )
    [t] = session(Channel.TICKER).receive(w.SerializeToString(), 3)
    assert t == Ticker(
        exchange="mexc",
        symbol="BTC/USDT",
        bid_price=Decimal("93000.1"),
        bid_size=Decimal("0.5"),
        ask_price=Decimal("93000.2"),
        ask_size=Decimal("1.25"),
        ts_exchange=1700000000123 * 1_000_000,
        ts_local=3,
    )


def test_symbol_falls_back_to_the_channel_suffix() -> None:
    w = pb.PushDataV3ApiWrapper(channel="spot@public.aggre.depth.v3.api.pb@100ms@ETHUSDT")
    w.publicAggreDepths.fromVersion = "5"
    w.publicAggreDepths.toVersion = "6"
    [ev] = session(symbol="ETH/USDT").receive(w.SerializeToString(), 1)
    assert ev.symbol == "ETH/USDT" and (ev.first_seq, ev.sequence) == (5, 6)


# -- bad input never escapes ---------------------------------------------------------------
@pytest.mark.parametrize(
    "frame",
    [
        b"\x0a\xff\xff\x7f\x00",  # truncated length-delimited field
        bytes.fromhex(DEPTH_HEX)[:-5],  # cut in the middle of toVersion
        b"\x08",  # varint key with no value
        b'{"id":0,"code":0',  # broken JSON
    ],
)
def test_malformed_frames_become_feed_errors(frame: bytes) -> None:
    [err] = session().receive(frame, 9)
    assert isinstance(err, FeedError) and err.kind == "malformed" and err.ts_local == 9


def test_empty_version_is_malformed() -> None:
    w = pb.PushDataV3ApiWrapper(channel=DEPTH_CH, symbol="BTCUSDT")
    w.publicAggreDepths.toVersion = "12"  # fromVersion missing
    [err] = session().receive(w.SerializeToString(), 1)
    assert isinstance(err, FeedError) and "invalid literal" in err.message


def test_unsupported_body_is_reported() -> None:
    w = pb.PushDataV3ApiWrapper(
        channel="spot@public.kline.v3.api.pb@BTCUSDT@Min1", symbol="BTCUSDT"
    )
    w.publicSpotKline.interval = "Min1"
    [err] = session().receive(w.SerializeToString(), 1)
    assert isinstance(err, FeedError) and "publicSpotKline" in err.message


# -- control frames ---------------------------------------------------------------------------
def test_subscribe_frame_and_ack() -> None:
    s = session(Channel.BOOK, Channel.TRADES, Channel.TICKER)
    [frame] = s.subscribe_frames(s.spec.subscriptions)
    assert frame == (
        '{"method":"SUBSCRIPTION","params":["'
        + DEPTH_CH
        + '","'
        + DEALS_CH
        + '","'
        + TICKER_CH
        + '"],"id":1}'
    )
    [ack] = s.receive('{"id":1,"code":0,"msg":"' + DEPTH_CH + "," + DEALS_CH + '"}', 1)
    assert ack == Subscribed(exchange="mexc", request_id="1", channels=(DEPTH_CH, DEALS_CH))
    assert s._pending == {TICKER_CH}


def test_refused_subscription_is_a_feed_error_even_with_code_zero() -> None:
    s = session(Channel.BOOK)
    s.subscribe_frames(s.spec.subscriptions)
    text = (
        '{"id":0,"code":0,"msg":"Not Subscribed successfully! ['
        + DEPTH_CH
        + '].  Reason： Blocked! "}'
    )
    [err] = s.receive(text, 1)
    assert isinstance(err, FeedError) and err.kind == "exchange_error"
    assert "Blocked" in err.message and DEPTH_CH in err.message
    assert s._pending == set()


def test_nonzero_code_is_a_feed_error() -> None:
    [err] = session().receive(
        b'{"id":3,"code":700002,"msg":"Signature for this request is not valid."}', 1
    )
    assert isinstance(err, FeedError) and err.kind == "exchange_error" and "700002" in err.message


def test_ping_and_pong() -> None:
    s = session()
    assert s.ping_frame() == '{"method":"PING"}'
    assert s.receive('{"id":0,"code":0,"msg":"PONG"}', 1) == []
    assert s.receive(b'{"id":0,"code":0,"msg":"PONG"}', 1) == []  # text delivered as bytes


def test_unsubscribe_frame_and_ack() -> None:
    s = session(Channel.BOOK)
    [frame] = s.unsubscribe_frames(s.spec.subscriptions)
    assert frame.startswith('{"method":"UNSUBSCRIPTION","params":["' + DEPTH_CH + '"]')
    assert s.receive('{"id":1,"code":0,"msg":"' + DEPTH_CH + '"}', 1) == []  # not a Subscribed
    s.subscribe_frames(s.spec.subscriptions)  # resubscribe: now the same echo is an ack
    [ack] = s.receive('{"id":2,"code":0,"msg":"' + DEPTH_CH + '"}', 1)
    assert isinstance(ack, Subscribed) and ack.channels == (DEPTH_CH,)


# -- planning and symbols -------------------------------------------------------------------
def test_plan_splits_at_thirty_channels() -> None:
    syms = [f"C{i}/USDT" for i in range(12)]
    subs = [
        Subscription(c, s) for s in syms for c in (Channel.BOOK, Channel.TRADES, Channel.TICKER)
    ]
    specs = PublicSession.plan(subs, PROD_ENDPOINTS)
    assert [len(s.subscriptions) for s in specs] == [CHANNELS_PER_CONNECTION, 6]
    assert {s.url for s in specs} == {"wss://wbs-api.mexc.com/ws"}
    assert [s.name for s in specs] == ["mexc-spot-0", "mexc-spot-1"]


def test_plan_rejects_unsupported_channels_and_markets() -> None:
    with pytest.raises(UnsupportedChannelError):
        PublicSession.plan([Subscription(Channel.TICKER, "BTC/USDT:USDT")], PROD_ENDPOINTS)
    with pytest.raises(UnsupportedChannelError):
        PublicSession.plan([Subscription(Channel.LIQUIDATIONS, "BTC/USDT")], PROD_ENDPOINTS)
    with pytest.raises(UnsupportedChannelError):
        PublicSession.plan([Subscription(Channel.BOOK, "BTC/USD:BTC")], PROD_ENDPOINTS)


def test_symbol_mapping() -> None:
    assert to_venue("BTC/USDT") == "BTCUSDT"
    m = SymbolMap()
    m.load_exchange_info(
        {"symbols": [{"symbol": "USDCUSDT", "baseAsset": "USDC", "quoteAsset": "USDT"}]}
    )
    assert m.to_unified("USDCUSDT") == "USDC/USDT"
    assert m.to_unified("ethbtc") == "ETH/BTC"
    with pytest.raises(UnknownSymbolError):
        m.to_unified("XYZ")


# -- REST snapshot and book sync ------------------------------------------------------------
def test_snapshot_request_and_parse() -> None:
    s = session()
    req = s.snapshot_request("BTC/USDT")
    assert (req.method, req.url, req.params, req.weight) == (
        "GET",
        "https://api.mexc.com/api/v3/depth",
        {"symbol": "BTCUSDT", "limit": "5000"},
        1,
    )
    snap = s.parse_snapshot(
        "BTC/USDT",
        b'{"lastUpdateId":100,"bids":[["10.1","2"]],"asks":[["10.3","1"]],"timestamp":5}',
        1,
    )
    assert snap == BookSnapshot(
        exchange="mexc",
        symbol="BTC/USDT",
        bids=(("10.1", "2"),),
        asks=(("10.3", "1"),),
        sequence=100,
        ts_exchange=5_000_000,
        ts_local=1,
    )
    with pytest.raises(MalformedFrameError):
        s.parse_snapshot("BTC/USDT", b'{"bids":[]}', 1)


SNAP = b'{"lastUpdateId":100,"bids":[["10.0","1"],["9.9","2"]],"asks":[["10.2","1"],["10.3","4"]]}'


def test_sync_drops_stale_pushes_and_applies_the_chain() -> None:
    core = FeedCore(session())
    sync = core.books["BTC/USDT"]
    assert core.start() == [NeedSnapshot(exchange="mexc", symbol="BTC/USDT")]
    core.on_frame(depth_push(95, 98, bids=[("9.8", "7")]), 1)  # toVersion <= 100: stale
    core.on_frame(depth_push(99, 102, bids=[("10.0", "3")]), 2)  # straddles 101: applied
    out = core.on_snapshot("BTC/USDT", SNAP, 3)
    assert sync.is_live and isinstance(out[-1], BookSnapshot)
    out = core.on_frame(depth_push(103, 103, asks=[("10.2", "0")]), 4)
    assert [type(e) for e in out] == [BookDelta]
    assert sync.book.bids() == [
        ("10.0", "3"),
        ("9.9", "2"),
    ]  # 9.8 from the stale push never applied
    assert sync.book.asks() == [("10.3", "4")]
    assert sync.book.sequence == 103


def test_snapshot_older_than_the_first_push_is_refetched() -> None:
    core = FeedCore(session())
    core.start()
    core.on_frame(depth_push(120, 121, bids=[("10.0", "5")]), 1)
    out = core.on_snapshot("BTC/USDT", SNAP, 2)  # lastUpdateId 100 < fromVersion 120 - 1
    sync = core.books["BTC/USDT"]
    assert not sync.is_live
    assert [r.reason for r in out if isinstance(r, BookReset)] == [ResetReason.SNAPSHOT_TOO_OLD]
    assert NeedSnapshot(exchange="mexc", symbol="BTC/USDT") in out


def test_version_gap_resets_and_a_duplicate_is_skipped() -> None:
    core = FeedCore(session())
    core.start()
    core.on_snapshot("BTC/USDT", SNAP, 1)
    sync = core.books["BTC/USDT"]
    core.on_frame(depth_push(101, 104, bids=[("10.1", "1")]), 2)
    assert core.on_frame(depth_push(101, 104, bids=[("10.1", "1")]), 3) == []  # duplicate
    assert sync.counters.duplicates == 1 and sync.is_live
    out = core.on_frame(depth_push(106, 107, bids=[("10.1", "2")]), 4)  # 105 is missing
    assert [type(e) for e in out] == [BookReset, NeedSnapshot]
    assert out[0].reason is ResetReason.GAP and "104" in out[0].detail
    assert not sync.is_live and sync.counters.gaps == 1
