"""The simulator's hand-written MEXC protobuf encoder against the documented vectors.

The simulator shares no code with the connector; these checks anchor its encoder to the
constructed vectors in ../shared/protocols/mexc.md §2 byte for byte, and then check that
the connector's generated decoder reads what the encoder writes (including values the
vectors do not cover: tradeId, book ticker version, large int64 times).
"""

from __future__ import annotations

from connex.exchanges.mexc.messages import pb
from connex.sim.venues.mexc import (
    BODY_BOOK_TICKER,
    BODY_DEALS,
    encode_aggre_book_ticker,
    encode_aggre_deals,
    encode_aggre_depth,
    encode_wrapper,
)
from tests.unit.exchanges.test_mexc import DEALS_HEX, DEPTH_HEX

DEPTH_EVENT = "spot@public.aggre.depth.v3.api.pb@100ms"
DEALS_EVENT = "spot@public.aggre.deals.v3.api.pb@100ms"


def test_depth_vector_byte_for_byte() -> None:
    body = encode_aggre_depth(
        [("92880.01", "1.5")], [("92877.58", "0")], DEPTH_EVENT, 10589632359, 10589632360
    )
    frame = encode_wrapper(DEPTH_EVENT + "@BTCUSDT", "BTCUSDT", 1736411507002, 313, body)
    assert frame.hex() == DEPTH_HEX


def test_deals_vector_byte_for_byte() -> None:
    body = encode_aggre_deals([("93220.00", "0.04438243", 2, 1736409765051, "")], DEALS_EVENT)
    frame = encode_wrapper(DEALS_EVENT + "@BTCUSDT", "BTCUSDT", 1736409765052, BODY_DEALS, body)
    assert frame.hex() == DEALS_HEX


def test_deals_with_trade_id_round_trip() -> None:
    body = encode_aggre_deals(
        [("1.5", "2", 1, 2**40 + 3, "991"), ("1.4", "0.5", 2, 7, "992")], DEALS_EVENT
    )
    w = pb.PushDataV3ApiWrapper.FromString(
        encode_wrapper(DEALS_EVENT + "@ETHUSDT", "ETHUSDT", 2**41, BODY_DEALS, body)
    )
    assert w.sendTime == 2**41 and w.symbol == "ETHUSDT"
    got = [(d.price, d.quantity, d.tradeType, d.time, d.tradeId) for d in w.publicAggreDeals.deals]
    assert got == [("1.5", "2", 1, 2**40 + 3, "991"), ("1.4", "0.5", 2, 7, "992")]


def test_book_ticker_round_trip() -> None:
    body = encode_aggre_book_ticker("99.1", "3", "99.2", "4.5", version=10589632400)
    w = pb.PushDataV3ApiWrapper.FromString(
        encode_wrapper(
            "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
            "BTCUSDT",
            5,
            BODY_BOOK_TICKER,
            body,
        )
    )
    t = w.publicAggreBookTicker
    assert (t.bidPrice, t.bidQuantity, t.askPrice, t.askQuantity, t.version) == (
        "99.1",
        "3",
        "99.2",
        "4.5",
        "10589632400",
    )
