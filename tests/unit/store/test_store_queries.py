"""Store writes and the API query contract on a real DuckDB file."""

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

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
from connex.store import Store

T0 = 1_763_000_000_000_000_000  # 2025-11-13T02:13:20Z
SYM = "BTC/USDT:USDT"


def liq(
    ex: str, i: int, side: PositionSide, price: str, size: str, *, sym: str = SYM, lid: str = ""
) -> Liquidation:
    return Liquidation(
        exchange=ex,
        symbol=sym,
        side=side,
        price=Decimal(price),
        size=Decimal(size),
        ts_exchange=T0 + i * 1_000_000_000,
        ts_local=T0 + i * 1_000_000_000 + 5,
        liquidation_id=lid,
    )


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "q.duckdb")
    yield s
    s.close()


def sample() -> list[Liquidation]:
    return [
        liq("binance", 0, PositionSide.LONG, "60000.5", "0.010"),
        liq("okx", 1, PositionSide.SHORT, "60100", "2", lid="okx-77"),
        liq("bybit", 2, PositionSide.LONG, "59950.25", "0.4"),
        liq("binance", 3, PositionSide.SHORT, "60200.75", "1.25"),
        liq("binance", 4, PositionSide.LONG, "3000.1", "3", sym="ETH/USDT:USDT"),
    ]


def test_query_filters_order_and_exact_fields(store: Store) -> None:
    assert store.write_events(sample()) == {"liquidations": 5}
    rows = store.query_liquidations(symbol=SYM)
    assert [(r["exchange"], r["price"]) for r in rows] == [
        ("binance", "60200.75"),
        ("bybit", "59950.25"),
        ("okx", "60100"),
        ("binance", "60000.5"),
    ]
    top = rows[0]
    assert top == {
        "exchange": "binance",
        "symbol": SYM,
        "side": "short",
        "price": "60200.75",
        "size": "1.25",
        "notional": "75250.9375",
        "ts_ns": T0 + 3_000_000_000,
        "ts_local_ns": T0 + 3_000_000_005,
        "liquidation_id": "",
    }
    only = store.query_liquidations(exchange=["okx", "bybit"], symbol=SYM)
    assert [(r["exchange"], r["liquidation_id"]) for r in only] == [
        ("bybit", ""),
        ("okx", "okx-77"),
    ]
    window = store.query_liquidations(
        symbol=SYM, start_ns=T0 + 1_000_000_000, end_ns=T0 + 3_000_000_000
    )
    assert [r["price"] for r in window] == ["59950.25", "60100"]  # end exclusive
    assert [r["price"] for r in store.query_liquidations(limit=2)] == ["3000.1", "60200.75"]
    assert len(store.query_liquidations(limit=0)) == 1  # clamped to >= 1
    assert store.query_liquidations(exchange=[]) == []


def test_replayed_events_are_stored_once(store: Store) -> None:
    evs = sample()
    store.write_events(evs)
    # the same events again, one re-encoded with trailing zeros and another receive time
    again = [*evs, liq("binance", 0, PositionSide.LONG, "60000.500", "0.01")]
    again[0] = Liquidation(
        exchange="binance",
        symbol=SYM,
        side=PositionSide.LONG,
        price=Decimal("60000.50"),
        size=Decimal("0.0100"),
        ts_exchange=T0,
        ts_local=T0 + 99,
    )
    assert store.write_events(again) == {"liquidations": 0}
    # duplicates inside one batch are collapsed too
    twice = [
        liq("okx", 9, PositionSide.LONG, "1", "1"),
        liq("okx", 9, PositionSide.LONG, "1.0", "1.00"),
    ]
    assert store.write_events(twice) == {"liquidations": 1}
    # the same id on another exchange is another liquidation
    assert store.write_events(
        [liq("binance", 1, PositionSide.SHORT, "60100", "2", lid="okx-77")]
    ) == {"liquidations": 1}
    assert store.stats()["tables"]["liquidations"]["by_exchange"] == {
        "binance": 4,
        "bybit": 1,
        "okx": 2,
    }


def test_user_strings_are_bound_not_spliced(store: Store) -> None:
    store.write_events(sample())
    evil = "x' OR '1'='1"
    assert store.query_liquidations(symbol=evil) == []
    assert store.query_liquidations(exchange=["binance'; DROP TABLE liquidations; --"]) == []
    assert len(store.query_liquidations()) == 5


def test_decimals_survive_exactly(store: Store) -> None:
    ev = liq(
        "binance",
        0,
        PositionSide.LONG,
        "0.000000012345678901",
        "123456789.123456789",
        sym="PEPE/USDT:USDT",
    )
    store.write_events([ev])
    (r,) = store.query_liquidations(symbol="PEPE/USDT:USDT")
    assert (r["price"], r["size"], r["notional"]) == (
        "0.000000012345678901",
        "123456789.123456789",
        "1.524157876666666764",
    )


def test_other_tables_health_stats_and_trades_opt_out(store: Store) -> None:
    evs = [
        Trade(
            exchange="okx",
            symbol=SYM,
            price=Decimal("60000"),
            size=Decimal("0.5"),
            side=Side.BUY,
            trade_id="t1",
            ts_exchange=T0,
        ),
        BookSnapshot(
            exchange="okx",
            symbol=SYM,
            bids=(("59999.9", "1"),),
            asks=(("60000.1", "2"),),
            ts_exchange=T0,
        ),
        Ticker(
            exchange="okx",
            symbol=SYM,
            bid_price=Decimal("59999.8"),
            bid_size=Decimal("1"),
            ask_price=Decimal("60000.2"),
            ask_size=Decimal("1"),
            ts_exchange=T0 + 1,
        ),
        FundingRate(
            exchange="okx",
            symbol=SYM,
            rate=Decimal("0.000125"),
            next_funding_ts=T0 + 8,
            ts_exchange=T0,
        ),
        MarkPrice(
            exchange="okx",
            symbol=SYM,
            mark_price=Decimal("60000.05"),
            open_interest=Decimal("1234.5"),
            ts_exchange=T0,
        ),
        ExchangeHealth(exchange="okx", connected=True, healthy=True, msgs_per_s=10.5, ts_local=T0),
        ExchangeHealth(
            exchange="okx",
            connected=False,
            healthy=False,
            reconnects=2,
            detail="reconnecting",
            ts_local=T0 + 10,
        ),
        ExchangeHealth(
            exchange="binance",
            connected=True,
            healthy=True,
            last_message_age_s=0.25,
            books_live=3,
            books_total=4,
            ts_local=T0 + 5,
        ),
    ]
    assert store.write_events(evs, trades=False) == {
        "top_of_book": 2,
        "funding": 2,
        "exchange_health": 3,
    }
    health = store.latest_health()
    assert [(h.exchange, h.connected, h.reconnects, h.detail, h.ts_local) for h in health] == [
        ("binance", True, 0, "", T0 + 5),
        ("okx", False, 2, "reconnecting", T0 + 10),
    ]
    assert health[0].last_message_age_s == 0.25 and health[0].books_live == 3
    cur = store.cursor()
    assert cur.execute("SELECT bid_price, ask_size FROM top_of_book ORDER BY ts_ns").fetchall() == [
        (Decimal("59999.9"), Decimal("2")),
        (Decimal("59999.8"), Decimal("1")),
    ]
    assert cur.execute(
        "SELECT kind, rate, mark_price, open_interest FROM funding ORDER BY kind"
    ).fetchall() == [
        ("funding", Decimal("0.000125"), None, None),
        ("mark", None, Decimal("60000.05"), Decimal("1234.5")),
    ]
    st = store.stats()
    assert st["schema_version"] == 3
    assert st["tables"]["trades"]["rows"] == 0
    assert st["tables"]["exchange_health"] == {
        "rows": 3,
        "first_ts_ns": T0,
        "last_ts_ns": T0 + 10,
        "by_exchange": {"binance": 1, "okx": 2},
    }
    assert store.write_events(evs[:1]) == {"trades": 1}


def test_export_parquet_partitions_by_exchange_and_date(store: Store, tmp_path: Path) -> None:
    day2 = T0 + 86_400 * 1_000_000_000
    store.write_events(
        [
            *sample(),
            Liquidation(
                exchange="okx",
                symbol=SYM,
                side=PositionSide.LONG,
                price=Decimal("61000"),
                size=Decimal("1"),
                ts_exchange=day2,
            ),
        ]
    )
    out = tmp_path / "lake"
    files = store.export_parquet(out)
    rel = sorted(str(f.relative_to(out)) for f in files)
    assert rel == [
        "liquidations/exchange=binance/date=2025-11-13/data_0.parquet",
        "liquidations/exchange=bybit/date=2025-11-13/data_0.parquet",
        "liquidations/exchange=okx/date=2025-11-13/data_0.parquet",
        "liquidations/exchange=okx/date=2025-11-14/data_0.parquet",
    ]
    assert not any(p.name.startswith(".tmp") for p in out.iterdir())
    con = duckdb.connect()
    got = con.execute(
        "SELECT exchange, date, price FROM read_parquet($1, hive_partitioning = true)"
        " ORDER BY ts_ns",
        [str(out / "liquidations" / "**" / "*.parquet")],
    ).fetchall()
    assert [(e, str(d), p) for e, d, p in got][-2:] == [
        ("binance", "2025-11-13", Decimal("3000.1")),
        ("okx", "2025-11-14", Decimal("61000")),
    ]
    assert len(got) == 6
    # a second export replaces the partitions in place
    store.write_events([liq("bybit", 7, PositionSide.SHORT, "60500", "1")])
    store.export_parquet(out)
    (n,) = con.execute(
        "SELECT count(*) FROM read_parquet($1)",
        [str(out / "liquidations" / "exchange=bybit" / "**" / "*.parquet")],
    ).fetchone()  # type: ignore[misc]
    assert n == 2
