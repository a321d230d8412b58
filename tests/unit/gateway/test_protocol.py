"""Symbols in URLs and messages, depth buckets, message encoding."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from connex.gateway.protocol import Envelope, ServerMessage, book_depth, encode, normalize_symbol
from connex.model import Side, Trade
from connex.model.errors import UnknownSymbolError


@pytest.mark.parametrize(
    ("text", "unified"),
    [
        ("BTC-USDT", "BTC/USDT"),
        ("btc/usdt", "BTC/USDT"),
        ("eth_usdt", "ETH/USDT"),
        ("BTC-USDT:USDT", "BTC/USDT:USDT"),
        ("BTC/USD:BTC", "BTC/USD:BTC"),
        ("BTC-USDT:USDT-250627", "BTC/USDT:USDT-250627"),
    ],
)
def test_normalize_symbol(text: str, unified: str) -> None:
    assert normalize_symbol(text) == unified


@pytest.mark.parametrize("bad", ["BTCUSDT", "", "BTC-", "BTC/USDT:"])
def test_bad_symbols_name_the_accepted_forms(bad: str) -> None:
    with pytest.raises(UnknownSymbolError, match="BTC-USDT or BTC/USDT"):
        normalize_symbol(bad)


def test_depth_buckets() -> None:
    assert [book_depth(d) for d in (None, 0, 1, 2, 10, 11, 50, 999, 1000, 1001)] == [
        None,
        None,
        1,
        5,
        10,
        20,
        50,
        1000,
        1000,
        None,
    ]


def test_encode_keeps_exact_decimals_and_omits_defaults() -> None:
    trade = Trade(
        exchange="binance",
        symbol="BTC/USDT",
        price=Decimal("60000.10"),
        size=Decimal("0.00100000"),
        side=Side.BUY,
        trade_id="42",
        ts_exchange=1,
        ts_local=2,
    )
    body = orjson.loads(
        encode(Envelope(type="trade", sub="trades:binance:BTC/USDT", seq=7, ts_gw=3, data=trade))
    )
    assert body["data"]["price"] == "60000.10" and body["data"]["size"] == "0.00100000"
    assert body["seq"] == 7 and body["data"]["side"] == "buy"
    assert orjson.loads(encode(ServerMessage(type="pong", id=3))) == {"type": "pong", "id": 3}
