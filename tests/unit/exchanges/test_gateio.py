"""Gate public session: frames in, events out (no event loop)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connex.book import ContiguousRule, Verdict
from connex.exchanges.base import Channel, ConnectionSpec, MarketEndpoints, SendFrame, Subscription
from connex.exchanges.gateio import PROD_ENDPOINTS, PublicSession
from connex.exchanges.gateio.endpoints import ws_url
from connex.exchanges.gateio.parse import ms_string_to_ns
from connex.exchanges.gateio.symbols import SymbolMap, market_of, to_venue
from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    FeedError,
    FundingRate,
    Liquidation,
    MarkPrice,
    NeedSnapshot,
    PositionSide,
    ResetReason,
    Side,
    SnapshotVia,
    Subscribed,
    Ticker,
    Trade,
)
from connex.model.errors import (
    ConfigError,
    MalformedFrameError,
    UnknownSymbolError,
    UnsupportedChannelError,
)
from connex.runtime.core import FeedCore

SPOT = "BTC/USDT"
PERP = "BTC/USDT:USDT"
TS = 1_700_000_000_123_000_000


def session(
    market: str, *channels: Channel, symbols: SymbolMap | None = None, book_mode: str = "update"
) -> PublicSession:
    sym = SPOT if market == "spot" else PERP
    subs = tuple(Subscription(c, sym) for c in channels or (Channel.BOOK,))
    spec = ConnectionSpec(exchange="gateio", name="t", url="", market=market, subscriptions=subs)
    return PublicSession(spec, PROD_ENDPOINTS[market], symbols, book_mode=book_mode)


def push(channel: str, result: object, **extra: object) -> str:
    return json.dumps(
        {
            "time": 1700000000,
            "time_ms": 1700000000123,
            "channel": channel,
            "event": "update",
            "error": None,
            "result": result,
            **extra,
        }
    )


# -- symbols and endpoints ----------------------------------------------------------------------


def test_symbol_mapping_both_ways() -> None:
    m = SymbolMap()
    assert to_venue("BTC/USDT") == "BTC_USDT" and to_venue("BTC/USDT:USDT") == "BTC_USDT"
    assert m.to_unified("spot", "BTC_USDT") == "BTC/USDT"
    assert m.to_unified("linear", "BTC_USDT") == "BTC/USDT:USDT"
    assert m.to_unified("spot", "qtum3s_usdt") == "QTUM3S/USDT"
    assert market_of("ETH/USDT") == "spot" and market_of("ETH/USDT:USDT") == "linear"
    with pytest.raises(UnknownSymbolError, match="USDT-settled"):
        market_of("BTC/USD:BTC")
    with pytest.raises(UnknownSymbolError):
        m.to_unified("spot", "WEIRD_ID_X")


def test_listings_make_mapping_authoritative_and_give_multipliers() -> None:
    m = SymbolMap()
    m.load_currency_pairs([{"id": "ABC_DEF", "base": "ABC", "quote": "DEF"}])
    m.load_contracts(
        [{"name": "BTC_USDT", "quanto_multiplier": "0.0001"}, {"name": "X_USDT_20250101"}]
    )
    assert m.to_unified("spot", "ABC_DEF") == "ABC/DEF"
    assert m.multiplier("BTC/USDT:USDT") == Decimal("0.0001")
    assert m.multiplier("ETH/USDT:USDT") is None


def test_ws_urls() -> None:
    assert ws_url("spot", "wss://api.gateio.ws") == "wss://api.gateio.ws/ws/v4/"
    assert ws_url("linear", "wss://fx-ws.gateio.ws") == "wss://fx-ws.gateio.ws/v4/ws/usdt"
    assert ws_url("linear", "ws://127.0.0.1:9000") == "ws://127.0.0.1:9000/v4/ws/usdt"
    # a full URL (testnet) is kept as is
    assert (
        ws_url("spot", "wss://ws-testnet.gate.com/v4/ws/spot")
        == "wss://ws-testnet.gate.com/v4/ws/spot"
    )


def test_plan_splits_markets_and_rejects_unsupported_channels() -> None:
    subs = [
        Subscription(Channel.BOOK, SPOT),
        Subscription(Channel.TRADES, PERP),
        Subscription(Channel.LIQUIDATIONS, PERP),
    ]
    endpoints = {k: v for k, v in PROD_ENDPOINTS.items()}
    specs = PublicSession.plan(subs, endpoints)
    assert [(s.market, s.url) for s in specs] == [
        ("spot", "wss://api.gateio.ws/ws/v4/"),
        ("linear", "wss://fx-ws.gateio.ws/v4/ws/usdt"),
    ]
    assert len(specs[1].subscriptions) == 2
    with pytest.raises(UnsupportedChannelError, match="liquidations"):
        PublicSession.plan([Subscription(Channel.LIQUIDATIONS, SPOT)], endpoints)


# -- outgoing frames ----------------------------------------------------------------------------


def test_subscribe_frames_spot_and_futures() -> None:
    s = session("spot", Channel.BOOK, Channel.TRADES, Channel.TICKER)
    s.clock_ns = 1_700_000_123_900_000_000
    frames = [json.loads(f) for f in s.subscribe_frames(s.spec.subscriptions)]
    assert frames == [
        {
            "time": 1700000123,
            "id": 1,
            "channel": "spot.order_book_update",
            "event": "subscribe",
            "payload": ["BTC_USDT", "100ms"],
        },
        {
            "time": 1700000123,
            "id": 2,
            "channel": "spot.trades",
            "event": "subscribe",
            "payload": ["BTC_USDT"],
        },
        {
            "time": 1700000123,
            "id": 3,
            "channel": "spot.book_ticker",
            "event": "subscribe",
            "payload": ["BTC_USDT"],
        },
    ]
    f = session("linear", Channel.BOOK, Channel.FUNDING, Channel.MARK_PRICE, Channel.LIQUIDATIONS)
    frames = [json.loads(x) for x in f.unsubscribe_frames(f.spec.subscriptions)]
    assert [(x["channel"], x["event"], x["payload"]) for x in frames] == [
        ("futures.order_book_update", "unsubscribe", ["BTC_USDT", "100ms", "100"]),
        ("futures.tickers", "unsubscribe", ["BTC_USDT"]),  # funding + mark share one channel
        ("futures.public_liquidates", "unsubscribe", ["BTC_USDT"]),
    ]


def test_request_time_falls_back_to_last_receive_time() -> None:
    s = session("spot")
    assert json.loads(s.ping_frame() or "")["time"] == 0  # nothing known yet
    s.receive('{"time":1600000000,"channel":"spot.pong","event":"","error":null,"result":null}', TS)
    assert json.loads(s.ping_frame() or "") == {"time": 1700000000, "channel": "spot.ping"}
    assert json.loads(session("linear").ping_frame() or "")["channel"] == "futures.ping"


def test_snapshot_request() -> None:
    req = session("spot").snapshot_request(SPOT)
    assert req.url == "https://api.gateio.ws/api/v4/spot/order_book"
    assert req.params == {"currency_pair": "BTC_USDT", "limit": "100", "with_id": "true"}
    req = session("linear").snapshot_request(PERP)
    assert req.url == "https://api.gateio.ws/api/v4/futures/usdt/order_book"
    assert req.params == {"contract": "BTC_USDT", "limit": "100", "with_id": "true"}


# -- control replies ----------------------------------------------------------------------------


def test_pong_is_swallowed() -> None:
    s = session("linear")
    pong = (
        '{"time":1700000000,"time_ms":1700000000001,"channel":"futures.pong",'
        '"event":"","error":null,"result":null}'
    )
    assert s.receive(pong, TS) == []


def test_ack_and_error_replies() -> None:
    s = session("spot", Channel.BOOK, Channel.TRADES)
    s.subscribe_frames(s.spec.subscriptions)
    ack = s.receive(
        '{"time":1,"id":2,"channel":"spot.trades","event":"subscribe","error":null,'
        '"result":{"status":"success"}}',
        TS,
    )
    assert ack == [
        Subscribed(exchange="gateio", request_id="2", channels=("spot.trades:BTC_USDT",))
    ]
    err = s.receive(
        '{"time":1,"channel":"spot.order_book_update","event":"subscribe",'
        '"payload":["NOPE_USD","100ms"],"error":{"code":2,'
        '"message":"unknown currency pair: NOPE_USD"},"result":{"status":"fail"}}',
        TS,
    )
    assert len(err) == 1 and isinstance(err[0], FeedError)
    assert err[0].kind == "exchange_error"
    assert "code 2: unknown currency pair: NOPE_USD" in err[0].message
    assert "spot.order_book_update subscribe" in err[0].message


def test_malformed_and_unknown_frames_become_feed_errors() -> None:
    s = session("spot")
    (bad,) = s.receive('{"broken": ', TS)
    assert isinstance(bad, FeedError) and bad.kind == "malformed" and bad.snippet == '{"broken": '
    (unk,) = s.receive(push("spot.mystery", {}), TS)
    assert unk.kind == "malformed" and "spot.mystery" in unk.message
    # channels Gate may push that carry nothing we normalize are ignored silently
    assert s.receive(push("spot.candlesticks", {"t": "1", "n": "1m_BTC_USDT"}), TS) == []
    (nores,) = s.receive(push("spot.trades", None), TS)
    assert nores.kind == "malformed"


# -- books --------------------------------------------------------------------------------------


def test_spot_delta_and_full_push() -> None:
    s = session("spot")
    (d,) = s.receive(
        push(
            "spot.order_book_update",
            {
                "t": 1700000000100,
                "s": "BTC_USDT",
                "U": 11,
                "u": 13,
                "b": [["100.1", "2"]],
                "a": [["100.5", "0"]],
            },
        ),
        TS,
    )
    assert d == BookDelta(
        exchange="gateio",
        symbol=SPOT,
        bids=(("100.1", "2"),),
        asks=(("100.5", "0"),),
        sequence=13,
        first_seq=11,
        ts_exchange=1700000000100_000_000,
        ts_local=TS,
    )
    (full,) = s.receive(
        push(
            "spot.order_book_update",
            {
                "t": 1,
                "full": True,
                "s": "BTC_USDT",
                "U": 1,
                "u": 20,
                "b": [["99", "1"]],
                "a": [["101", "1"]],
            },
        ),
        TS,
    )
    assert isinstance(full, BookSnapshot) and full.sequence == 20 and full.bids == (("99", "1"),)


def test_delta_without_first_id_is_rejected() -> None:
    (err,) = session("spot").receive(
        push("spot.order_book_update", {"t": 1, "s": "BTC_USDT", "u": 5}), TS
    )
    assert isinstance(err, FeedError) and "without 'U'" in err.message


def test_futures_levels_are_contracts_as_exact_strings() -> None:
    s = session("linear")
    (d,) = s.receive(
        push(
            "futures.order_book_update",
            {
                "t": 1,
                "s": "BTC_USDT",
                "U": 5,
                "u": 6,
                "b": [{"p": "26000.1", "s": 120}],
                "a": [{"p": "26000.5", "s": "0.5"}, {"p": "26001", "s": 0}],
            },
        ),
        TS,
    )
    assert d.symbol == PERP and d.bids == (("26000.1", "120"),)
    assert d.asks == (("26000.5", "0.5"), ("26001", "0"))
    snap = s.parse_snapshot(
        PERP,
        b'{"id":7,"current":1684930166.384,"update":1684930166.35,'
        b'"asks":[{"s":803,"p":"0.2974"}],"bids":[{"s":5,"p":"0.2973"}]}',
        TS,
    )
    assert (
        snap.sequence == 7
        and snap.asks == (("0.2974", "803"),)
        and snap.ts_exchange == 1684930166350_000_000
    )
    with pytest.raises(MalformedFrameError, match="snapshot for BTC/USDT:USDT"):
        s.parse_snapshot(PERP, b'{"label":"CONTRACT_NOT_FOUND"}', TS)


def test_contiguous_rule_follows_gate_alignment() -> None:
    r = ContiguousRule()

    def d(first: int, last: int) -> BookDelta:
        return BookDelta(
            exchange="gateio", symbol=SPOT, bids=(), asks=(), sequence=last, first_seq=first
        )

    # snapshot id 100: u < 101 stale; U <= 101 <= u applies; U > 101 means the snapshot is too old
    assert r.align(100, d(90, 100)) is Verdict.SKIP
    assert r.align(100, d(95, 105)) is Verdict.APPLY
    assert r.align(100, d(102, 105)) is Verdict.GAP
    # live at 105: stale, next, gap
    assert r.next(105, d(104, 105)) is Verdict.SKIP
    assert r.next(105, d(106, 106)) is Verdict.APPLY
    assert r.next(105, d(107, 108)) is Verdict.GAP


def test_core_sync_gap_and_full_push_recovery() -> None:
    s = session("spot")
    core = FeedCore(s)
    (need,) = core.start()
    assert need == NeedSnapshot(exchange="gateio", symbol=SPOT, via=SnapshotVia.REST)

    def upd(first: int, last: int, bids: list[list[str]]) -> str:
        return push(
            "spot.order_book_update",
            {"t": 1, "s": "BTC_USDT", "U": first, "u": last, "b": bids, "a": []},
        )

    assert core.on_frame(upd(98, 100, [["9", "1"]]), TS) == []  # buffered
    assert core.on_frame(upd(101, 102, [["10", "3"]]), TS) == []
    out = core.on_snapshot(
        SPOT,
        b'{"id":100,"current":1,"update":1,"bids":[["10","1"],["9","5"]],"asks":[["11","1"]]}',
        TS,
    )
    (snap,) = out
    assert snap.sequence == 102 and snap.bids == (("10", "3"), ("9", "5"))
    out = core.on_frame(upd(104, 105, []), TS)  # 103 missing
    assert [type(e) for e in out] == [BookReset, NeedSnapshot] and out[0].reason is ResetReason.GAP
    # a full push rebuilds the book without REST
    out = core.on_frame(
        push(
            "spot.order_book_update",
            {
                "t": 1,
                "full": True,
                "s": "BTC_USDT",
                "u": 200,
                "b": [["8", "1"]],
                "a": [["12", "2"]],
            },
        ),
        TS,
    )
    assert core.books[SPOT].is_live and core.books[SPOT].book.sequence == 200
    assert core.on_frame(upd(201, 201, [["8", "4"]]), TS)[0].bids == (("8", "4"),)


# -- trades, tickers, liquidations, funding ------------------------------------------------------


def test_spot_trade() -> None:
    (t,) = session("spot", Channel.TRADES).receive(
        push(
            "spot.trades",
            {
                "id": 309143071,
                "create_time": 1606292218,
                "create_time_ms": "1606292218213.4578",
                "side": "sell",
                "currency_pair": "BTC_USDT",
                "amount": "16.4700000000",
                "price": "0.4705000000",
                "range": "1-1",
            },
        ),
        TS,
    )
    assert t == Trade(
        exchange="gateio",
        symbol=SPOT,
        price=Decimal("0.4705"),
        size=Decimal("16.47"),
        side=Side.SELL,
        trade_id="309143071",
        ts_exchange=1606292218213457800,
        ts_local=TS,
    )
    assert ms_string_to_ns("1606292218213") == 1606292218213000000


def test_futures_trades_sign_multiplier_and_internal() -> None:
    frame = push(
        "futures.trades",
        [
            {
                "id": 1,
                "create_time": 1,
                "create_time_ms": 1700000000001,
                "contract": "BTC_USDT",
                "size": -25,
                "price": "26000.5",
            },
            {
                "id": 2,
                "create_time": 1,
                "create_time_ms": 1700000000002,
                "contract": "BTC_USDT",
                "size": "3",
                "price": "26001",
            },
            {
                "id": 3,
                "create_time": 1,
                "create_time_ms": 1700000000003,
                "contract": "BTC_USDT",
                "size": 9,
                "price": "26001",
                "is_internal": True,
            },
        ],
    )
    a, b = session("linear", Channel.TRADES).receive(frame, TS)
    assert (a.side, a.size, a.price, a.trade_id) == (
        Side.SELL,
        Decimal(25),
        Decimal("26000.5"),
        "1",
    )
    assert (b.side, b.size, b.ts_exchange) == (Side.BUY, Decimal(3), 1700000000002_000_000)
    m = SymbolMap()
    m.set_multiplier(PERP, "0.0001")
    a, b = session("linear", Channel.TRADES, symbols=m).receive(frame, TS)
    assert a.size == Decimal("0.0025") and b.size == Decimal("0.0003")


def test_book_tickers() -> None:
    (t,) = session("spot", Channel.TICKER).receive(
        push(
            "spot.book_ticker",
            {
                "t": 1606293275123,
                "u": 48733182,
                "s": "BTC_USDT",
                "b": "19177.79",
                "B": "0.0003341504",
                "a": "19179.38",
                "A": "0.09",
            },
        ),
        TS,
    )
    assert t == Ticker(
        exchange="gateio",
        symbol=SPOT,
        bid_price=Decimal("19177.79"),
        bid_size=Decimal("0.0003341504"),
        ask_price=Decimal("19179.38"),
        ask_size=Decimal("0.09"),
        ts_exchange=1606293275123_000_000,
        ts_local=TS,
    )
    empty = push(
        "futures.book_ticker",
        {"t": 1, "u": 2, "s": "BTC_USDT", "b": "", "B": 0, "a": "26000", "A": 5},
    )
    assert session("linear", Channel.TICKER).receive(empty, TS) == []


def test_public_liquidation_side_from_sign_and_units() -> None:
    m = SymbolMap()
    m.set_multiplier(PERP, "0.0001")
    s = session("linear", Channel.LIQUIDATIONS, symbols=m)
    frame = push(
        "futures.public_liquidates",
        [
            {"price": "213.1", "size": -1245, "time": 1700000000, "contract": "BTC_USDT"},
            {"price": 26000.5, "size": 30, "time": 1784000000123, "contract": "BTC_USDT"},
        ],
    )
    short, long = s.receive(frame, TS)
    assert isinstance(short, Liquidation)
    assert (short.side, short.price, short.size) == (
        PositionSide.SHORT,
        Decimal("213.1"),
        Decimal("0.1245"),
    )
    assert short.ts_exchange == 1700000000 * 10**9  # seconds (before 2026-08-20)
    assert (long.side, long.price, long.size) == (
        PositionSide.LONG,
        Decimal("26000.5"),
        Decimal("0.0030"),
    )
    assert long.ts_exchange == 1784000000123 * 10**6  # ms (since 2026-08-20)
    assert short.liquidation_id != long.liquidation_id
    # without a multiplier the size stays in contracts
    (raw,) = session("linear", Channel.LIQUIDATIONS).receive(
        push(
            "futures.public_liquidates",
            [{"price": "1", "size": 7, "time_ms": 1700000000001, "contract": "BTC_USDT"}],
        ),
        TS,
    )
    assert raw.size == Decimal(7) and raw.ts_exchange == 1700000000001_000_000
    (zero,) = s.receive(
        push(
            "futures.public_liquidates",
            [{"price": "1", "size": 0, "time": 1, "contract": "BTC_USDT"}],
        ),
        TS,
    )
    assert isinstance(zero, FeedError)


def test_futures_tickers_give_mark_and_funding() -> None:
    m = SymbolMap()
    m.set_multiplier(PERP, "0.0001")
    out = session("linear", Channel.FUNDING, symbols=m).receive(
        push(
            "futures.tickers",
            [
                {
                    "contract": "BTC_USDT",
                    "last": "118.4",
                    "change_percentage": "0.77",
                    "funding_rate": "-0.000114",
                    "funding_rate_indicative": "0.01875",
                    "mark_price": "118.35",
                    "index_price": "118.36",
                    "total_size": "73648",
                    "volume_24h": "745487577",
                    "quanto_base_rate": "",
                    "t": 1700000000500,
                }
            ],
        ),
        TS,
    )
    mark, funding = out
    assert mark == MarkPrice(
        exchange="gateio",
        symbol=PERP,
        mark_price=Decimal("118.35"),
        index_price=Decimal("118.36"),
        open_interest=Decimal("7.3648"),
        ts_exchange=1700000000500_000_000,
        ts_local=TS,
    )
    assert isinstance(funding, FundingRate)
    assert (funding.rate, funding.mark_price, funding.next_funding_ts) == (
        Decimal("-0.000114"),
        Decimal("118.35"),
        0,
    )


# -- obu mode -----------------------------------------------------------------------------------


def test_obu_mode_subscribes_streams_and_resubscribes_on_gap() -> None:
    s = session("linear", Channel.BOOK, book_mode="obu")
    assert s.snapshot_via(PERP) is SnapshotVia.RESUBSCRIBE
    (frame,) = [json.loads(f) for f in s.subscribe_frames(s.spec.subscriptions)]
    assert (frame["channel"], frame["payload"]) == ("futures.obu", ["ob.BTC_USDT.400"])
    core = FeedCore(s)
    assert core.start() == []  # no REST: the first push is full

    def obu(body: dict[str, object]) -> str:
        return push("futures.obu", {"t": 1, "s": "ob.BTC_USDT.400", **body})

    (snap,) = core.on_frame(
        obu({"full": True, "u": 50, "b": [["10", "1"]], "a": [["11", "2"]]}), TS
    )
    assert isinstance(snap, BookSnapshot) and snap.symbol == PERP and snap.sequence == 50
    (d,) = core.on_frame(obu({"U": 51, "u": 52, "b": [["10", "0"], ["9", "4"]], "a": []}), TS)
    assert isinstance(d, BookDelta) and d.sequence == 52
    assert core.books[PERP].book.bids() == [("9", "4")]
    out = core.on_frame(obu({"U": 60, "u": 61, "b": [], "a": []}), TS)
    assert [type(e) for e in out] == [BookReset, SendFrame, SendFrame]
    unsub, sub = (json.loads(e.text) for e in out[1:])
    assert (unsub["event"], sub["event"]) == ("unsubscribe", "subscribe")
    assert sub["channel"] == "futures.obu" and sub["payload"] == ["ob.BTC_USDT.400"]
    with pytest.raises(ConfigError, match="book_mode"):
        session("spot", book_mode="nope")


def test_endpoints_are_overridable_for_the_simulator() -> None:
    s = PublicSession.plan(
        [Subscription(Channel.BOOK, SPOT)],
        {"spot": MarketEndpoints(ws="ws://127.0.0.1:5", rest="http://127.0.0.1:5")},
    )
    assert s[0].url == "ws://127.0.0.1:5/ws/v4/"


def test_book_units_base_converts_futures_sizes_exactly() -> None:
    m = SymbolMap()
    m.set_multiplier(PERP, "0.0001")
    spec = session("linear", Channel.BOOK, Channel.TICKER).spec
    s = PublicSession(spec, PROD_ENDPOINTS["linear"], symbol_map=m, book_units="base")
    (d,) = s.receive(
        push(
            "futures.order_book_update",
            {
                "t": 1,
                "s": "BTC_USDT",
                "U": 5,
                "u": 6,
                "b": [{"p": "26000.1", "s": 120}],
                "a": [{"p": "26000.5", "s": "3"}, {"p": "26001", "s": 0}],
            },
        ),
        TS,
    )
    assert d.bids == (("26000.1", "0.0120"),) and d.asks == (("26000.5", "0.0003"), ("26001", "0"))
    snap = s.parse_snapshot(PERP, b'{"id":7,"asks":[{"s":803,"p":"1"}],"bids":[]}', TS)
    assert snap.asks == (("1", "0.0803"),)
    (t,) = s.receive(
        push(
            "futures.book_ticker",
            {"t": 1, "u": 2, "s": "BTC_USDT", "b": "1", "B": 20, "a": "2", "A": 5},
        ),
        TS,
    )
    assert (t.bid_size, t.ask_size) == (Decimal("0.0020"), Decimal("0.0005"))
    with pytest.raises(ConfigError, match="multiplier of BTC/USDT:USDT"):
        PublicSession(spec, PROD_ENDPOINTS["linear"], book_units="base")
