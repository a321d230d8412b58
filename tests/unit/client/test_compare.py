"""compare_sides: equal books at matching sequence points, discrepancies, latency."""

from __future__ import annotations

from decimal import Decimal

from connex.client.compare import SideRecorder, compare_sides
from connex.model import BookDelta, BookSnapshot, Side, Trade


def _events(change: str) -> list:
    return [
        BookSnapshot(
            exchange="binance",
            symbol="BTC/USDT",
            bids=(("10", "1"), ("9", "2")),
            asks=(("11", "1"),),
            sequence=1,
        ),
        BookDelta(
            exchange="binance", symbol="BTC/USDT", bids=(("10", change),), asks=(), sequence=2
        ),
        BookDelta(exchange="binance", symbol="BTC/USDT", bids=(), asks=(("12", "4"),), sequence=3),
        Trade(
            exchange="binance",
            symbol="BTC/USDT",
            price=Decimal("10"),
            size=Decimal("1"),
            side=Side.BUY,
            trade_id="t1",
        ),
    ]


def test_equal_sides_and_latency() -> None:
    d, c = SideRecorder("direct", 5), SideRecorder("connex", 5)
    for i, ev in enumerate(_events("3")):
        d.on_event(ev, 1_000_000 * i)
        c.on_event(ev, 1_000_000 * i + 2_000_000)  # 2 ms later
    report = compare_sides(d, c)
    assert report["ok"] and report["books"]["binance BTC/USDT"]["compared"] == 3
    lat = report["latency_ms"]["binance"]
    assert lat["samples"] == 3 and lat["p50"] == 2.0 and lat["mean"] == 2.0


def test_a_different_book_is_reported() -> None:
    d, c = SideRecorder("direct", 5), SideRecorder("connex", 5)
    for ev in _events("3"):
        d.on_event(ev, 0)
    for ev in _events("4"):
        c.on_event(ev, 0)
    report = compare_sides(d, c)
    assert not report["ok"]
    book = report["books"]["binance BTC/USDT"]
    assert book["mismatched"] == 2 and book["first_mismatches"] == [2, 3] and book["equal"] == 1
