"""OKX public session: frames in, events out (no event loop)."""

# ruff: noqa: E501  (wire frames are kept verbatim on one line)

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connex.book import L2Book
from connex.exchanges.base import Channel, ConnectionSpec, MarketEndpoints, SendFrame, Subscription
from connex.exchanges.okx import PROD_ENDPOINTS, PublicSession
from connex.exchanges.okx.integrity import checksum, checksum_string, crc32_signed
from connex.exchanges.okx.symbols import SymbolMap, to_unified, to_venue
from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    FeedError,
    FundingRate,
    Liquidation,
    MarkPrice,
    PositionSide,
    ResetReason,
    SnapshotVia,
    Subscribed,
)
from connex.model.errors import UnknownSymbolError
from connex.runtime.core import FeedCore

SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"


def _session(subs: list[Subscription], symbols: SymbolMap | None = None) -> PublicSession:
    spec = ConnectionSpec(
        exchange="okx", name="t", url="", market="linear", subscriptions=tuple(subs)
    )
    return PublicSession(spec, PROD_ENDPOINTS["linear"], symbols)


def _book(
    action: str, inst: str, bids, asks, seq: int | None, prev: int | None, cs: int = 0
) -> str:
    data: dict[str, object] = {"asks": asks, "bids": bids, "ts": "1700000000000", "checksum": cs}
    if seq is not None:
        data["prevSeqId"] = prev
        data["seqId"] = seq
    return json.dumps(
        {"arg": {"channel": "books", "instId": inst}, "action": action, "data": [data]}
    )


# -- symbols ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("unified", "inst"),
    [
        ("BTC/USDT", "BTC-USDT"),
        ("BTC/USDT:USDT", "BTC-USDT-SWAP"),
        ("BTC/USD:BTC", "BTC-USD-SWAP"),
        ("BTC/USD:BTC-220527", "BTC-USD-220527"),
        ("ETH/USDT:USDT-250627", "ETH-USDT-250627"),
    ],
)
def test_symbols_map_both_ways(unified: str, inst: str) -> None:
    assert to_venue(unified) == inst
    assert to_unified(inst) == unified


@pytest.mark.parametrize("bad", ["BTC-USD-250627-70000-C", "BTCUSDT", "BTC-USDT-PERP"])
def test_unmappable_inst_ids_raise(bad: str) -> None:
    with pytest.raises(UnknownSymbolError):
        to_unified(bad)


def test_plan_groups_by_market_and_uses_public_path() -> None:
    eps = {"spot": MarketEndpoints(ws="ws://127.0.0.1:1", rest="http://x"),
           "linear": MarketEndpoints(ws="ws://127.0.0.1:2", rest="http://y")}  # fmt: skip
    specs = PublicSession.plan([Subscription(Channel.BOOK, SPOT), Subscription(Channel.BOOK, PERP),
                                Subscription(Channel.LIQUIDATIONS, PERP)], eps)  # fmt: skip
    assert [(s.market, s.url, len(s.subscriptions)) for s in specs] == [
        ("spot", "ws://127.0.0.1:1/ws/v5/public", 1),
        ("linear", "ws://127.0.0.1:2/ws/v5/public", 2),
    ]


def test_liquidations_not_offered_on_spot() -> None:
    from connex.model.errors import UnsupportedChannelError

    with pytest.raises(UnsupportedChannelError):
        PublicSession.plan([Subscription(Channel.LIQUIDATIONS, SPOT)], PROD_ENDPOINTS)


# -- outgoing ---------------------------------------------------------------------------
def test_subscribe_frames_and_keepalive() -> None:
    s = _session(
        [Subscription(c, PERP) for c in Channel] + [Subscription(Channel.BOOK, "ETH/USDT:USDT")]
    )
    (frame,) = s.subscribe_frames(s.spec.subscriptions)
    msg = json.loads(frame)
    assert msg["op"] == "subscribe" and msg["id"] == "1"
    assert msg["args"] == [
        {"channel": "books", "instId": "BTC-USDT-SWAP"},
        {"channel": "trades", "instId": "BTC-USDT-SWAP"},
        {"channel": "tickers", "instId": "BTC-USDT-SWAP"},
        {"channel": "liquidation-orders", "instType": "SWAP"},
        {"channel": "funding-rate", "instId": "BTC-USDT-SWAP"},
        {"channel": "mark-price", "instId": "BTC-USDT-SWAP"},
        {"channel": "books", "instId": "ETH-USDT-SWAP"},
    ]
    assert s.ping_frame() == "ping" and s.ping_interval == 20.0
    assert s.receive("pong", 1) == [] and s.receive(b"pong", 1) == []
    assert s.snapshot_via(PERP) is SnapshotVia.RESUBSCRIBE
    unsub, sub = s.resubscribe_frames("ETH/USDT:USDT")
    assert json.loads(unsub) == {
        "id": "2",
        "op": "unsubscribe",
        "args": [{"channel": "books", "instId": "ETH-USDT-SWAP"}],
    }
    assert json.loads(sub)["args"] == [{"channel": "books", "instId": "ETH-USDT-SWAP"}]


# -- control events ---------------------------------------------------------------------
def test_ack_error_and_notice() -> None:
    s = _session([Subscription(Channel.BOOK, PERP)])
    (ack,) = s.receive(
        '{"id":"1","event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"connId":"a4d3ae55"}',
        5,
    )
    assert ack == Subscribed(exchange="okx", request_id="1", channels=("books:BTC-USDT-SWAP",))
    (err,) = s.receive(
        '{"id":"1","event":"error","code":"60018","msg":"Wrong URL or channel:books,instId:FOO-USDT doesn\'t exist.","connId":"a4d3ae55"}',
        6,
    )
    assert isinstance(err, FeedError) and err.kind == "exchange_error"
    assert err.message.startswith("code 60018: Wrong URL") and err.ts_local == 6
    (notice,) = s.receive(
        '{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a"}',
        7,
    )
    assert notice.kind == "notice" and "64008" in notice.message
    assert (
        s.receive(
            '{"event":"unsubscribe","arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"connId":"a"}',
            8,
        )
        == []
    )


@pytest.mark.parametrize(
    "frame",
    [
        '{"arg":',
        "[1,2]",
        '{"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"action":"update","data":[{"asks":5}]}',
    ],
)
def test_malformed_frames_become_feed_errors(frame: str) -> None:
    s = _session([Subscription(Channel.BOOK, PERP)])
    (err,) = s.receive(frame, 1)
    assert isinstance(err, FeedError) and err.kind == "malformed" and err.snippet == frame[:200]


def test_unknown_channel_and_unmappable_instrument() -> None:
    s = _session([Subscription(Channel.BOOK, PERP)])
    (e1,) = s.receive('{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1"]]}', 1)
    assert e1.kind == "unknown_channel"
    (e2,) = s.receive(
        '{"arg":{"channel":"trades","instId":"BTC-USD-250627-70000-C"},"data":[{"instId":"BTC-USD-250627-70000-C","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}]}',
        1,
    )
    assert e2.kind == "unknown_symbol"


# -- books ------------------------------------------------------------------------------
def test_seq_chain_with_heartbeat_and_maintenance_reset() -> None:
    """okx.md §2 example chain: snapshot(-1->10), (10->15), (15->15 heartbeat),
    (15->3 reset), (3->5) — none of these is a gap."""
    core = FeedCore(_session([Subscription(Channel.BOOK, PERP)]))
    inst = "BTC-USDT-SWAP"
    out = core.on_frame(
        _book("snapshot", inst, [["100.0", "1", "0", "1"]], [["101.0", "2", "0", "1"]], 10, -1), 1
    )
    assert isinstance(out[0], BookSnapshot) and out[0].sequence == 10
    chain = [
        (15, 10, [["100.5", "3", "0", "1"]], []),
        (15, 15, [], []),
        (3, 15, [], [["101.0", "0", "0", "0"], ["102", "4", "0", "1"]]),
        (5, 3, [["100.0", "0", "0", "0"]], []),
    ]
    for seq, prev, bids, asks in chain:
        (ev,) = core.on_frame(_book("update", inst, bids, asks, seq, prev), 2)
        assert isinstance(ev, BookDelta) and (ev.sequence, ev.prev_seq) == (seq, prev)
    sync = core.books[PERP]
    assert sync.is_live and sync.counters.gaps == 0 and sync.book.sequence == 5
    assert sync.book.bids() == [("100.5", "3")] and sync.book.asks() == [("102", "4")]


def test_gap_resets_and_resubscribes() -> None:
    core = FeedCore(_session([Subscription(Channel.BOOK, PERP)]))
    inst = "BTC-USDT-SWAP"
    core.on_frame(
        _book("snapshot", inst, [["100", "1", "0", "1"]], [["101", "1", "0", "1"]], 10, -1), 1
    )
    core.on_frame(_book("update", inst, [["99", "1", "0", "1"]], [], 12, 10), 2)
    out = core.on_frame(
        _book("update", inst, [["98", "1", "0", "1"]], [], 20, 13), 3
    )  # 12 -> 13 missing
    reset = next(e for e in out if isinstance(e, BookReset))
    assert reset.reason is ResetReason.GAP and "prev 13" in reset.detail
    frames = [json.loads(e.text) for e in out if isinstance(e, SendFrame)]
    assert [f["op"] for f in frames] == ["unsubscribe", "subscribe"]
    sync = core.books[PERP]
    assert sync.counters.gaps == 1 and not sync.is_live
    # a duplicate of an applied update is skipped, not a gap
    core.on_frame(
        _book("snapshot", inst, [["100", "1", "0", "1"]], [["101", "1", "0", "1"]], 30, -1), 4
    )
    core.on_frame(_book("update", inst, [["99", "1", "0", "1"]], [], 31, 30), 5)
    assert core.on_frame(_book("update", inst, [["99", "1", "0", "1"]], [], 31, 30), 6) == []
    assert sync.is_live and sync.counters.duplicates == 1 and sync.counters.resyncs == 1


@pytest.mark.parametrize(
    ("bids", "asks", "text", "value"),
    [
        (
            [("3366.1", "7"), ("3366", "6")],
            [("3366.8", "9"), ("3368", "8")],
            "3366.1:7:3366.8:9:3366:6:3368:8",
            -1881014294,
        ),
        (
            [("3366.1", "7")],
            [("3366.8", "9"), ("3368", "8"), ("3372", "8")],
            "3366.1:7:3366.8:9:3368:8:3372:8",
            831078360,
        ),
    ],
    ids=["O1", "O2"],
)
def test_checksum_vectors(bids, asks, text: str, value: int) -> None:
    assert checksum_string(bids, asks) == text
    assert crc32_signed(text) == value
    book = L2Book()
    book.load(bids, asks)
    assert checksum(book) == value


def test_checksum_uses_strings_as_received_and_top_25_only() -> None:
    book = L2Book()
    book.load([("0.10", "1")], [("0.2", "1.50")])
    assert checksum_string(book.bids(25), book.asks(25)) == "0.10:1:0.2:1.50"
    book.load([(str(1000 - i), "1") for i in range(30)], [(str(2000 + i), "1") for i in range(30)])
    assert checksum_string(book.bids(25), book.asks(25)).count(":") == 25 * 4 - 1


def test_checksum_checked_only_when_non_zero() -> None:
    core = FeedCore(_session([Subscription(Channel.BOOK, PERP)]))
    inst = "BTC-USDT-SWAP"
    good = crc32_signed("100:1:101:1")
    core.on_frame(
        _book("snapshot", inst, [["100", "1", "0", "1"]], [["101", "1", "0", "1"]], 10, -1, good), 1
    )
    sync = core.books[PERP]
    assert sync.counters.checksums_verified == 1
    core.on_frame(_book("update", inst, [["100", "2", "0", "1"]], [], 11, 10, 0), 2)  # 0 = not sent
    assert sync.is_live and sync.counters.checksums_verified == 1
    out = core.on_frame(_book("update", inst, [["100", "3", "0", "1"]], [], 12, 11, 12345), 3)
    assert sync.counters.checksum_failures == 1
    assert next(e for e in out if isinstance(e, BookReset)).reason is ResetReason.CHECKSUM


def test_books_without_seq_ids_link_by_checksum_only() -> None:
    s = _session([Subscription(Channel.BOOK, PERP)])
    (snap,) = s.receive(_book("snapshot", "BTC-USDT-SWAP", [], [], None, None), 1)
    (delta,) = s.receive(
        _book("update", "BTC-USDT-SWAP", [["1", "1", "0", "1"]], [], None, None), 1
    )
    assert snap.sequence == -1 and (delta.sequence, delta.prev_seq) == (-1, -1)
    assert delta.bids == (("1", "1"),) and delta.checksum is None


# -- trades, liquidations, funding, mark ---------------------------------------------------
LIQ = (
    '{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":['
    '{"instId":"BTC-USDT-SWAP","instType":"SWAP","instFamily":"BTC-USDT","uly":"BTC-USDT","details":['
    '{"side":"buy","posSide":"short","bkPx":"61000.5","sz":"13","bkLoss":"0","ccy":"","ts":"1692266434010"},'
    '{"side":"sell","posSide":"net","bkPx":"60000.1","sz":"2","bkLoss":"0","ccy":"","ts":"1692266434011"},'
    '{"side":"sell","posSide":"long","bkPx":"59999","sz":"0.5","bkLoss":"0","ccy":"","ts":"1692266434012"}]},'
    '{"instId":"IOST-USDT-SWAP","instType":"SWAP","details":[{"side":"buy","posSide":"short","bkPx":"0.007831","sz":"13","ts":"1"}]}]}'
)


def test_liquidation_side_is_the_liquidated_position() -> None:
    s = _session([Subscription(Channel.LIQUIDATIONS, PERP)])
    liqs = s.receive(LIQ, 9)
    assert all(isinstance(x, Liquidation) for x in liqs)
    # IOST-USDT-SWAP was not subscribed: filtered out
    assert [(x.symbol, x.side, x.price, x.size) for x in liqs] == [
        (PERP, PositionSide.SHORT, Decimal("61000.5"), Decimal("13")),  # buy order closes a short
        (PERP, PositionSide.LONG, Decimal("60000.1"), Decimal("2")),  # net mode: sell closes a long
        (PERP, PositionSide.LONG, Decimal("59999"), Decimal("0.5")),
    ]
    assert liqs[0].ts_exchange == 1692266434010 * 1_000_000 and liqs[0].liquidation_id


def test_contract_sizes_convert_when_instruments_loaded() -> None:
    sm = SymbolMap()
    sm.load_instruments(
        {
            "code": "0",
            "data": [
                {"instId": "BTC-USDT-SWAP", "instType": "SWAP", "ctVal": "0.01", "ctMult": "1"}
            ],
        }
    )
    s = _session([Subscription(Channel.LIQUIDATIONS, PERP), Subscription(Channel.TRADES, PERP)], sm)
    assert s.receive(LIQ, 1)[0].size == Decimal("0.13")
    (tr,) = s.receive(
        '{"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","tradeId":"130639474","px":"42219.9","sz":"3","side":"sell","ts":"1630048897897","count":"2","source":"0","seqId":1234}]}',
        1,
    )
    assert (tr.trade_id, tr.price, tr.size, tr.side.value) == (
        "130639474",
        Decimal("42219.9"),
        Decimal("0.03"),
        "sell",
    )


def test_funding_and_mark_price() -> None:
    s = _session([Subscription(Channel.FUNDING, PERP), Subscription(Channel.MARK_PRICE, PERP)])
    (fr,) = s.receive(
        '{"arg":{"channel":"funding-rate","instId":"BTC-USDT-SWAP"},"data":[{"formulaType":"noRate","fundingRate":"0.0001875391284828","fundingTime":"1700726400000","impactValue":"","instId":"BTC-USDT-SWAP","instType":"SWAP","interestRate":"","maxFundingRate":"0.00375","method":"current_period","minFundingRate":"-0.00375","nextFundingRate":"","nextFundingTime":"1700755200000","premium":"0.0001233824646391","settFundingRate":"0.0001699799259033","settState":"settled","ts":"1700724675402"}]}',
        3,
    )
    assert isinstance(fr, FundingRate) and fr.rate == Decimal("0.0001875391284828")
    assert (
        fr.next_funding_ts == 1700726400000 * 1_000_000
        and fr.ts_exchange == 1700724675402 * 1_000_000
    )
    (mp,) = s.receive(
        '{"arg":{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"data":[{"instType":"SWAP","instId":"BTC-USDT-SWAP","markPx":"42310.6","ts":"1630049139746"}]}',
        4,
    )
    assert isinstance(mp, MarkPrice) and mp.mark_price == Decimal("42310.6") and mp.symbol == PERP


def test_updates_buffered_before_a_resubscribed_snapshot_are_dropped() -> None:
    """After a gap, updates of the old subscription arrive before the new snapshot; even
    when a maintenance reset made the new seqIds smaller, the snapshot wins."""
    core = FeedCore(_session([Subscription(Channel.BOOK, PERP)]))
    inst = "BTC-USDT-SWAP"
    core.on_frame(
        _book("snapshot", inst, [["100", "1", "0", "1"]], [["101", "1", "0", "1"]], 500, -1), 1
    )
    core.on_frame(_book("update", inst, [["99", "1", "0", "1"]], [], 510, 505), 2)  # gap
    core.on_frame(_book("update", inst, [["98", "1", "0", "1"]], [], 520, 510), 3)  # old stream
    core.on_frame(
        _book("snapshot", inst, [["90", "2", "0", "1"]], [["91", "2", "0", "1"]], 7, -1), 4
    )
    sync = core.books[PERP]
    assert sync.is_live and sync.book.bids() == [("90", "2")] and sync.book.sequence == 7
    core.on_frame(_book("update", inst, [["90", "5", "0", "1"]], [], 9, 7), 5)
    assert sync.book.bids() == [("90", "5")] and sync.counters.resyncs == 1
