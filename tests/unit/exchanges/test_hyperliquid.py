"""Hyperliquid connector: frames in, events out (no event loop)."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from connex.book import BookSync, SnapshotOnlyRule
from connex.exchanges.base import Channel, SendFrame, Subscription
from connex.exchanges.hyperliquid import PROD_ENDPOINTS, PublicSession
from connex.exchanges.hyperliquid.symbols import SymbolMap, to_venue
from connex.model import (
    BookReset,
    BookSnapshot,
    FeedError,
    FundingRate,
    Liquidation,
    MarkPrice,
    PositionSide,
    Side,
    Subscribed,
    Ticker,
    Trade,
)
from connex.model.errors import ConfigError, UnknownSymbolError, UnsupportedChannelError
from connex.runtime.core import FeedCore

BTC = "BTC/USDC:USDC"
VICTIM = "0x" + "a1" * 20
LIQUIDATOR = "0x" + "b2" * 20


def session(*channels: Channel, symbol: str = BTC, **kw: object) -> PublicSession:
    subs = [Subscription(c, symbol) for c in channels or (Channel.BOOK,)]
    spec = PublicSession.plan(subs, PROD_ENDPOINTS)[0]
    return PublicSession(spec, PROD_ENDPOINTS["linear"], **kw)  # type: ignore[arg-type]


def book_frame(
    t: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]], coin: str = "BTC"
) -> bytes:
    lv = lambda side: [{"px": p, "sz": s, "n": 2} for p, s in side]  # noqa: E731
    return orjson.dumps(
        {"channel": "l2Book", "data": {"coin": coin, "time": t, "levels": [lv(bids), lv(asks)]}}
    )


# -- books ------------------------------------------------------------------------------
def test_l2book_is_a_full_snapshot_with_time_as_sequence() -> None:
    [snap] = session().receive(
        book_frame(1700000000500, [("60000.5", "1.2"), ("60000", "3")], [("60001", "0.4")]), 9
    )
    assert snap == BookSnapshot(
        exchange="hyperliquid",
        symbol=BTC,
        bids=(("60000.5", "1.2"), ("60000", "3")),
        asks=(("60001", "0.4"),),
        sequence=1700000000500,
        ts_exchange=1700000000500 * 1_000_000,
        ts_local=9,
    )


def test_feed_core_replaces_the_book_and_ignores_older_snapshots() -> None:
    core = FeedCore(session())
    sync = core.books[BTC]
    assert core.start() == []  # in-stream snapshots: nothing to fetch
    core.on_frame(book_frame(1000, [("100", "1"), ("99", "2")], [("101", "1")]), 1)
    core.on_frame(book_frame(2000, [("100", "5")], [("102", "1"), ("103", "2")]), 2)
    assert sync.is_live and sync.book.bids() == [("100", "5")]  # 99 is gone: replaced, not merged
    assert core.on_frame(book_frame(1500, [("90", "9")], [("91", "9")]), 3) == []  # out of order
    assert core.on_frame(book_frame(2000, [("90", "9")], [("91", "9")]), 4) == []  # repeated
    assert sync.book.bids() == [("100", "5")] and sync.book.asks() == [("102", "1"), ("103", "2")]
    assert sync.counters.duplicates == 2 and sync.counters.snapshots == 2
    out = core.on_frame(book_frame(2500, [("100", "6")], [("102", "1")]), 5)
    assert isinstance(out[0], BookSnapshot) and sync.book.sequence == 2500


def test_crossed_snapshot_resubscribes() -> None:
    core = FeedCore(session())
    out = core.on_frame(book_frame(1000, [("101", "1")], [("100", "1")]), 1)
    assert isinstance(out[0], BookReset)
    frames = [e.text for e in out if isinstance(e, SendFrame)]
    assert frames == [
        '{"method":"unsubscribe","subscription":{"type":"l2Book","coin":"BTC"}}',
        '{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}',
    ]
    # after a reset any snapshot is accepted, even one older than the bad one
    core.on_frame(book_frame(900, [("99", "1")], [("100", "1")]), 2)
    assert core.books[BTC].is_live and core.books[BTC].book.sequence == 900


def test_snapshot_only_rule_without_ordering_keeps_old_behaviour() -> None:
    sync = BookSync("x", "A/B", SnapshotOnlyRule())
    out: list[object] = []
    sync.on_snapshot(
        BookSnapshot(
            exchange="x", symbol="A/B", bids=(("1", "1"),), asks=(("2", "1"),), sequence=5
        ),
        out,
    )
    sync.on_snapshot(
        BookSnapshot(
            exchange="x", symbol="A/B", bids=(("1", "3"),), asks=(("2", "1"),), sequence=4
        ),
        out,
    )
    assert sync.book.bids() == [("1", "3")] and sync.counters.duplicates == 0


# -- trades, bbo, asset context ---------------------------------------------------------------
def test_trade_side_is_the_aggressor() -> None:
    frame = orjson.dumps(
        {
            "channel": "trades",
            "data": [
                {
                    "coin": "BTC",
                    "side": "B",
                    "px": "60010.0",
                    "sz": "0.25",
                    "hash": "0xab",
                    "time": 1700000000001,
                    "tid": 281474976710655,
                    "users": [VICTIM, LIQUIDATOR],
                },
                {
                    "coin": "BTC",
                    "side": "A",
                    "px": "60009.5",
                    "sz": "1.5",
                    "hash": "0xac",
                    "time": 1700000000002,
                    "tid": 12,
                    "users": [LIQUIDATOR, VICTIM],
                },
            ],
        }
    )
    buy, sell = session(Channel.TRADES).receive(frame, 3)
    assert buy == Trade(
        exchange="hyperliquid",
        symbol=BTC,
        price=Decimal("60010.0"),
        size=Decimal("0.25"),
        side=Side.BUY,
        trade_id="281474976710655",
        ts_exchange=1700000000001 * 1_000_000,
        ts_local=3,
    )
    assert (sell.side, sell.price, sell.size, sell.trade_id) == (
        Side.SELL,
        Decimal("60009.5"),
        Decimal("1.5"),
        "12",
    )


def test_unknown_trade_side_is_malformed() -> None:
    frame = (
        b'{"channel":"trades","data":'
        b'[{"coin":"BTC","side":"X","px":"1","sz":"1","time":1,"tid":1}]}'
    )
    [err] = session(Channel.TRADES).receive(frame, 1)
    assert isinstance(err, FeedError) and err.kind == "malformed" and "'X'" in err.message


def test_bbo() -> None:
    frame = (
        b'{"channel":"bbo","data":{"coin":"BTC","time":77,'
        b'"bbo":[{"px":"99.5","sz":"3","n":1},{"px":"100","sz":"0.1","n":4}]}}'
    )
    [t] = session(Channel.TICKER).receive(frame, 1)
    assert t == Ticker(
        exchange="hyperliquid",
        symbol=BTC,
        bid_price=Decimal("99.5"),
        bid_size=Decimal("3"),
        ask_price=Decimal("100"),
        ask_size=Decimal("0.1"),
        ts_exchange=77_000_000,
        ts_local=1,
    )
    one_sided = b'{"channel":"bbo","data":{"coin":"BTC","time":78,"bbo":[null,'
    one_sided += b'{"px":"100","sz":"1","n":1}]}}'
    assert session(Channel.TICKER).receive(one_sided, 1) == []


def test_active_asset_ctx_gives_funding_and_mark() -> None:
    frame = (
        b'{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"dayNtlVlm":"1169046.29","prevDayPx":"59000.0",'
        b'"markPx":"60123.4","midPx":"60123.5","funding":"0.0000125","openInterest":"688.11","oraclePx":"60120.0",'
        b'"premium":"0.00031774","impactPxs":["60123.0","60124.0"]}}}'
    )
    ts = 5 * 3_600_000_000_000 + 17
    funding, mark = session(Channel.FUNDING, Channel.MARK_PRICE).receive(frame, ts)
    assert funding == FundingRate(
        exchange="hyperliquid",
        symbol=BTC,
        rate=Decimal("0.0000125"),
        next_funding_ts=6 * 3_600_000_000_000,
        mark_price=Decimal("60123.4"),
        ts_local=ts,
    )
    assert mark == MarkPrice(
        exchange="hyperliquid",
        symbol=BTC,
        mark_price=Decimal("60123.4"),
        index_price=Decimal("60120.0"),
        open_interest=Decimal("688.11"),
        ts_local=ts,
    )


def test_numbers_instead_of_strings_stay_exact() -> None:
    frame = (
        b'{"channel":"activeAssetCtx","data":{"coin":"BTC",'
        b'"ctx":{"markPx":60123.4,"funding":0.0000125,"openInterest":688.11}}}'
    )
    funding, mark = session(Channel.FUNDING).receive(frame, 1)
    assert funding.rate == Decimal("0.0000125") and mark.mark_price == Decimal("60123.4")


# -- liquidations of watched addresses --------------------------------------------------------
def fills_frame(user: str, fills: list[dict[str, object]], snapshot: bool = False) -> bytes:
    data: dict[str, object] = {"user": user, "fills": fills}
    if snapshot:
        data["isSnapshot"] = True
    return orjson.dumps({"channel": "userFills", "data": data})


def fill(
    side: str, direction: str, liquidated: str | None, coin: str = "BTC", tid: int = 55
) -> dict[str, object]:
    f: dict[str, object] = {
        "coin": coin,
        "px": "58000.0",
        "sz": "0.3",
        "side": side,
        "time": 1700000001000,
        "startPosition": "0.3",
        "dir": direction,
        "closedPnl": "-10",
        "hash": "0xfeed",
        "oid": 9,
        "crossed": True,
        "fee": "0.1",
        "tid": tid,
        "feeToken": "USDC",
    }
    if liquidated is not None or direction.startswith("Close"):
        f["liquidation"] = {"markPx": "58001.0", "method": "market"}
        if liquidated is not None:
            f["liquidation"]["liquidatedUser"] = liquidated  # type: ignore[index]
    return f


def test_watch_addresses_subscribe_user_fills() -> None:
    s = session(
        Channel.LIQUIDATIONS, watch_addresses=[VICTIM.upper().replace("0X", "0x"), LIQUIDATOR]
    )
    frames = s.subscribe_frames(s.spec.subscriptions)
    assert frames == [
        '{"method":"subscribe","subscription":{"type":"userFills","user":"' + VICTIM + '"}}',
        '{"method":"subscribe","subscription":{"type":"userFills","user":"' + LIQUIDATOR + '"}}',
    ]
    ack = orjson.dumps(
        {
            "channel": "subscriptionResponse",
            "data": {"method": "subscribe", "subscription": {"type": "userFills", "user": VICTIM}},
        }
    )
    assert s.receive(ack, 1) == [
        Subscribed(
            exchange="hyperliquid",
            request_id=f"userFills:{VICTIM}",
            channels=(f"userFills:{VICTIM}",),
        )
    ]


def test_no_addresses_no_liquidation_subscription() -> None:
    s = session(Channel.LIQUIDATIONS)
    assert s.subscribe_frames(s.spec.subscriptions) == []


def test_liquidated_long_seen_from_both_sides() -> None:
    s = session(Channel.LIQUIDATIONS, watch_addresses=[VICTIM, LIQUIDATOR])
    [own] = s.receive(fills_frame(VICTIM, [fill("A", "Close Long", VICTIM)]), 1)
    [other] = s.receive(fills_frame(LIQUIDATOR, [fill("B", "Open Long", VICTIM)]), 2)
    for liq in (own, other):
        assert isinstance(liq, Liquidation)
        assert (liq.symbol, liq.side, liq.price, liq.size) == (
            BTC,
            PositionSide.LONG,
            Decimal("58000.0"),
            Decimal("0.3"),
        )
        assert liq.ts_exchange == 1700000001000 * 1_000_000
    assert own.liquidation_id == other.liquidation_id == "0xfeed:55"


def test_liquidated_short_without_liquidated_user_field() -> None:
    s = session(Channel.LIQUIDATIONS, watch_addresses=[VICTIM])
    [liq] = s.receive(fills_frame(VICTIM, [fill("B", "Close Short", None)]), 1)
    assert liq.side is PositionSide.SHORT


def test_ordinary_fills_snapshots_and_other_coins_are_not_liquidations() -> None:
    s = session(Channel.LIQUIDATIONS, watch_addresses=[VICTIM])
    plain = fill("A", "Sell", None)
    assert s.receive(fills_frame(VICTIM, [plain]), 1) == []
    assert s.receive(fills_frame(VICTIM, [fill("A", "Close Long", VICTIM)], snapshot=True), 1) == []
    assert s.receive(fills_frame(VICTIM, [fill("A", "Close Long", VICTIM, coin="ETH")]), 1) == []
    s2 = session(Channel.LIQUIDATIONS, watch_addresses=[VICTIM], include_snapshot_fills=True)
    [liq] = s2.receive(fills_frame(VICTIM, [fill("A", "Close Long", VICTIM)], snapshot=True), 1)
    assert liq.side is PositionSide.LONG


def test_bad_watch_addresses_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="not a 0x"):
        session(Channel.LIQUIDATIONS, watch_addresses=["0x1234"])
    with pytest.raises(ConfigError, match="at most 10"):
        session(Channel.LIQUIDATIONS, watch_addresses=[f"0x{i:040x}" for i in range(11)])


# -- control frames -------------------------------------------------------------------------
def test_subscribe_frames_dedupe_funding_and_mark() -> None:
    s = session(Channel.BOOK, Channel.TRADES, Channel.TICKER, Channel.FUNDING, Channel.MARK_PRICE)
    types = [
        orjson.loads(f)["subscription"]["type"] for f in s.subscribe_frames(s.spec.subscriptions)
    ]
    assert types == ["l2Book", "trades", "bbo", "activeAssetCtx"]
    assert s.ping_frame() == '{"method":"ping"}'


def test_welcome_pong_error_and_garbage() -> None:
    s = session()
    assert s.receive("Websocket connection established.", 1) == []
    assert s.receive(b'{"channel":"pong"}', 1) == []
    [err] = s.receive(
        '{"channel":"error","data":'
        '"Invalid subscription {\\"type\\":\\"l2Book\\",\\"coin\\":\\"NOPE\\"}"}',
        2,
    )
    assert (
        err.kind == "exchange_error"
        and err.message == 'Invalid subscription {"type":"l2Book","coin":"NOPE"}'
    )
    [bad] = s.receive('{"broken": ', 3)
    assert bad.kind == "malformed"
    [unknown] = s.receive('{"channel":"somethingNew","data":{}}', 4)
    assert unknown.kind == "malformed" and "somethingNew" in unknown.message


def test_malformed_book_level_is_reported() -> None:
    [err] = session().receive(
        b'{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[{"px":1}]]}}', 1
    )
    assert isinstance(err, FeedError) and err.kind == "malformed"


# -- symbols and planning ----------------------------------------------------------------------
def test_symbols() -> None:
    assert to_venue(BTC) == "BTC" and to_venue("KPEPE/USDC:USDC") == "kPEPE"
    m = SymbolMap()
    m.load_meta(
        {"universe": [{"name": "kBONK", "szDecimals": 0}, {"name": "xyz:TSLA", "szDecimals": 2}]}
    )
    assert m.to_unified("kBONK") == "KBONK/USDC:USDC" and m.to_venue("KBONK/USDC:USDC") == "kBONK"
    with pytest.raises(UnknownSymbolError):
        m.to_unified("xyz:TSLA")


def test_plan_accepts_only_usdc_perpetuals() -> None:
    [spec] = PublicSession.plan(
        [Subscription(Channel.BOOK, BTC), Subscription(Channel.TRADES, "ETH/USDC:USDC")],
        PROD_ENDPOINTS,
    )
    assert spec.url == "wss://api.hyperliquid.xyz/ws" and spec.market == "linear"
    with pytest.raises(UnknownSymbolError):
        PublicSession.plan([Subscription(Channel.BOOK, "BTC/USDT:USDT")], PROD_ENDPOINTS)
    with pytest.raises(UnsupportedChannelError):
        PublicSession.plan([Subscription(Channel.BOOK, "BTC/USDC")], PROD_ENDPOINTS)
