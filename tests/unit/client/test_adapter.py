"""The legacy order book format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connex.book import L2Book
from connex.client import ConnexOrderbookAdapter
from connex.model import BookSnapshot

SNAP = BookSnapshot(
    exchange="okx",
    symbol="ETH/USDT",
    bids=(("3000.10", "1.250"), ("3000.00", "0.5")),
    asks=(("3000.20", "0.400"),),
    sequence=9,
    ts_exchange=1_763_782_000_123_456_789,
    ts_local=1_763_782_000_200_000_000,
)


def test_snapshot_to_legacy_strings() -> None:
    out = ConnexOrderbookAdapter.transform_to_legacy_format(SNAP)
    assert out == {
        "exchange": "okx",
        "symbol": "ETH/USDT",
        "bids": [["3000.10", "1.250"], ["3000.00", "0.5"]],
        "asks": [["3000.20", "0.400"]],
        "timestamp": 1_763_782_000_123,
    }


def test_decimal_mode_depth_and_l2book() -> None:
    book = L2Book()
    book.load(SNAP.bids, SNAP.asks)
    book.ts_local = 2_000_000
    out = ConnexOrderbookAdapter.transform_to_legacy_format(
        book, exchange="okx", symbol="ETH/USDT", depth=1, numbers="decimal"
    )
    assert out["bids"] == [[Decimal("3000.10"), Decimal("1.250")]]
    assert out["timestamp"] == 2  # no exchange time: the receive time, in ms
    with pytest.raises(ValueError, match="exchange= and symbol="):
        ConnexOrderbookAdapter.transform_to_legacy_format(book)


def test_rest_body_to_legacy() -> None:
    body = {
        "exchange": "binance",
        "symbol": "BTC/USDT",
        "sequence": 1,
        "ts_exchange": 0,
        "ts_local": 5_000_000,
        "bids": [["1.5", "2"]],
        "asks": [["1.6", "3"]],
    }
    out = ConnexOrderbookAdapter.transform_to_legacy_format(body)
    assert out["bids"] == [["1.5", "2"]] and out["asks"] == [["1.6", "3"]] and out["timestamp"] == 5
