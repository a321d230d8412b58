"""Migrating a database that was created at schema version 1, with data in it."""

from decimal import Decimal
from pathlib import Path

import duckdb

from connex.model import Liquidation, PositionSide
from connex.store import Store
from connex.store.cli import db_migrate

T0 = 1_763_000_000_000_000_000
V1_COLS = "symbol, side, price, size, notional, ts_ns, ts, ts_local_ns, liquidation_id, dedupe_key"
SELECT_OLD = (
    "SELECT symbol, side, price, size, notional, ts_ns, liquidation_id FROM liquidations"
    " ORDER BY ts_ns"
)


def make_v1(path: Path) -> None:
    """A database as Connex at schema 1 left it: liquidations without an exchange column."""
    with Store(path) as store:
        assert store.migrate(target=1) == [1]
        con = store.cursor()
        cols = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'liquidations'"
            ).fetchall()
        ]
        assert "exchange" not in cols
        con.execute(
            f"INSERT INTO liquidations ({V1_COLS}) VALUES"
            " ('BTC/USDT:USDT', 'long', 60000.5, 0.25, 15000.125, $1, make_timestamp($1 // 1000),"
            "  $1, '', 'fp:long|60000.5|0.25|' || $1),"
            " ('BTC/USDT:USDT', 'short', 61000, 2, 122000, $2, make_timestamp($2 // 1000),"
            "  $2, 'b-1', 'id:b-1'),"
            " ('ETH/USDT:USDT', 'long', 3000.1, 10, 30001, $3, make_timestamp($3 // 1000),"
            "  $3, 'b-2', 'id:b-2')",
            [T0, T0 + 1_000_000_000, T0 + 2_000_000_000],
        )


def test_v1_database_migrates_without_losing_rows(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    make_v1(db)
    con = duckdb.connect(str(db))
    before = con.execute(SELECT_OLD).fetchall()
    con.close()
    assert len(before) == 3

    assert db_migrate(db) == 0  # what `connex db migrate` runs

    with Store(db) as store:
        assert store.schema_version() == 3
        cur = store.cursor()
        after = cur.execute(SELECT_OLD).fetchall()
        assert after == before  # nothing lost or changed
        assert cur.execute("SELECT DISTINCT exchange FROM liquidations").fetchall() == [
            ("binance",)
        ]  # backfilled
        idx = {
            r[0]
            for r in cur.execute(
                "SELECT index_name FROM duckdb_indexes() WHERE table_name = 'liquidations'"
            ).fetchall()
        }
        assert idx == {"liquidations_key", "liquidations_symbol_ts"}
        # old rows are found through the API query with their backfilled exchange
        got = store.query_liquidations(exchange=["binance"], symbol="BTC/USDT:USDT")
        assert [(r["liquidation_id"], r["price"], r["notional"]) for r in got] == [
            ("b-1", "61000", "122000"),
            ("", "60000.5", "15000.125"),
        ]
        # the same natural key is now per exchange: a replay of an old row is ignored,
        # the same id on another exchange is stored
        replay = Liquidation(
            exchange="binance",
            symbol="BTC/USDT:USDT",
            side=PositionSide.SHORT,
            price=Decimal(61000),
            size=Decimal(2),
            ts_exchange=T0 + 1_000_000_000,
            liquidation_id="b-1",
        )
        other = Liquidation(
            exchange="okx",
            symbol="BTC/USDT:USDT",
            side=PositionSide.SHORT,
            price=Decimal(61000),
            size=Decimal(2),
            ts_exchange=T0 + 1_000_000_000,
            liquidation_id="b-1",
        )
        assert store.write_events([replay, other]) == {"liquidations": 1}
        # a row inserted without an exchange gets the column default
        cur.execute(
            f"INSERT INTO liquidations ({V1_COLS})"
            " VALUES ('X/Y', 'long', 1, 1, 1, 0, make_timestamp(0), 0, '', 'fp:x')"
        )
        assert cur.execute("SELECT exchange FROM liquidations WHERE symbol = 'X/Y'").fetchone() == (
            "unknown",
        )
        assert store.stats()["tables"]["liquidations"]["by_exchange"] == {
            "binance": 3,
            "okx": 1,
            "unknown": 1,
        }
