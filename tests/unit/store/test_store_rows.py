"""Events -> rows: natural keys and exact numbers (no database)."""

from decimal import Decimal

from connex.model import (
    BookSnapshot,
    ExchangeHealth,
    FundingRate,
    Liquidation,
    MarkPrice,
    PositionSide,
    Side,
    Ticker,
    Trade,
)
from connex.store.rows import canonical, dedupe_key, exact_product, row_for, row_key


def liq(**kw: object) -> Liquidation:
    base: dict[str, object] = {
        "exchange": "okx",
        "symbol": "BTC/USDT:USDT",
        "side": PositionSide.SHORT,
        "price": Decimal("60000.10"),
        "size": Decimal("1.50"),
        "ts_exchange": 1_700_000_000_123_000_000,
    }
    base.update(kw)
    return Liquidation(**base)  # type: ignore[arg-type]


def test_canonical_strips_exponent_and_trailing_zeros() -> None:
    assert canonical(Decimal("60000.100000000000000000")) == "60000.1"
    assert canonical(Decimal("6E+4")) == "60000"
    assert canonical(Decimal("0E-18")) == "0"
    assert canonical(Decimal("0.000000000000000001")) == "0.000000000000000001"


def test_fingerprint_is_the_same_for_equal_numbers_written_differently() -> None:
    a = liq()
    b = liq(price=Decimal("60000.1"), size=Decimal("1.5"), ts_local=999)
    assert dedupe_key(a) == dedupe_key(b) == "fp:short|60000.1|1.5|1700000000123000000"
    # a different size is a different liquidation
    assert dedupe_key(liq(size=Decimal("1.51"))) != dedupe_key(a)


def test_liquidation_id_wins_over_fingerprint_and_receive_time_is_fallback() -> None:
    assert dedupe_key(liq(liquidation_id="abc")) == "id:abc"
    ev = liq(ts_exchange=0, ts_local=42)
    assert dedupe_key(ev).endswith("|42")
    table, row = row_for(ev)  # type: ignore[misc]
    assert table == "liquidations" and row[6] == 42


def test_liquidation_row_has_exact_notional_and_key() -> None:
    ev = liq(price=Decimal("0.000000012345678901"), size=Decimal("123456789.123456789"))
    table, row = row_for(ev)  # type: ignore[misc]
    assert table == "liquidations"
    assert row[:3] == ("okx", "BTC/USDT:USDT", "short")
    # integers: 12345678901 * 123456789123456789 = 1524157876666666764142508889, scale 1e-27,
    # so 1.524157876666666764|142508889 -> 18 places, rounded down
    assert row[5] == Decimal("1.524157876666666764")
    assert exact_product(Decimal("60000.1"), Decimal("1.5")) == Decimal("90000.15")
    assert row_key(table, row) == ("okx", "BTC/USDT:USDT", dedupe_key(ev))


def test_other_event_types_map_to_their_tables() -> None:
    t = Trade(
        exchange="bybit",
        symbol="ETH/USDT",
        price=Decimal("3000.5"),
        size=Decimal("2"),
        side=Side.SELL,
        trade_id="T9",
        ts_exchange=5,
    )
    assert row_for(t) == (
        "trades",
        (
            "bybit",
            "ETH/USDT",
            "sell",
            Decimal("3000.5"),
            Decimal("2"),
            Decimal("6001.000000000000000000"),
            5,
            0,
            "T9",
        ),
    )
    snap = BookSnapshot(
        exchange="okx",
        symbol="ETH/USDT",
        bids=(("2999.9", "1.2"), ("2999.8", "3")),
        asks=(("3000.1", "0.7"),),
        ts_local=7,
    )
    assert row_for(snap) == (
        "top_of_book",
        (
            "okx",
            "ETH/USDT",
            Decimal("2999.9"),
            Decimal("1.2"),
            Decimal("3000.1"),
            Decimal("0.7"),
            7,
            7,
        ),
    )
    empty = BookSnapshot(exchange="okx", symbol="ETH/USDT", bids=(), asks=(("1", "2"),), ts_local=8)
    assert row_for(empty)[1][2:4] == (None, None)  # type: ignore[index]
    tk = Ticker(
        exchange="okx",
        symbol="X/Y",
        bid_price=Decimal("1"),
        bid_size=Decimal("2"),
        ask_price=Decimal("3"),
        ask_size=Decimal("4"),
        ts_exchange=9,
    )
    assert row_for(tk)[0] == "top_of_book"  # type: ignore[index]
    fr = FundingRate(
        exchange="binance",
        symbol="BTC/USDT:USDT",
        rate=Decimal("0.0001"),
        next_funding_ts=123,
        mark_price=Decimal("60000"),
        ts_exchange=11,
    )
    assert row_for(fr) == (
        "funding",
        (
            "binance",
            "BTC/USDT:USDT",
            "funding",
            Decimal("0.0001"),
            123,
            Decimal("60000"),
            None,
            None,
            11,
            0,
        ),
    )
    mp = MarkPrice(
        exchange="binance",
        symbol="BTC/USDT:USDT",
        mark_price=Decimal("60001"),
        index_price=Decimal("60000.5"),
        open_interest=Decimal("12.5"),
        ts_exchange=12,
    )
    assert row_for(mp)[1][2:8] == (
        "mark",
        None,
        None,
        Decimal("60001"),
        Decimal("60000.5"),
        Decimal("12.5"),
    )  # type: ignore[index]
    h = ExchangeHealth(
        exchange="gateio", connected=True, healthy=False, reconnects=3, detail="stale", ts_local=13
    )
    table, row = row_for(h)  # type: ignore[misc]
    assert (
        table == "exchange_health"
        and row[0] == "gateio"
        and row[2] is False
        and row[5] == 3
        and row[-2:] == ("stale", 13)
    )
    assert row_for("not an event") is None
