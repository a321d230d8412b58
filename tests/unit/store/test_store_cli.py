"""connex db migrate | stats | export functions (exit codes and output)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from connex.model import Liquidation, PositionSide
from connex.store import Store
from connex.store.cli import db_export, db_migrate, db_stats


def test_migrate_stats_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cli.duckdb"
    assert db_migrate(db) == 0
    assert "schema 0 -> 3 (applied 0001, 0002, 0003)" in capsys.readouterr().out
    assert db_migrate(db) == 0
    assert "schema 3, up to date" in capsys.readouterr().out
    with Store(db) as s:
        s.write_events(
            [
                Liquidation(
                    exchange="okx",
                    symbol="ETH/USDT:USDT",
                    side=PositionSide.LONG,
                    price=Decimal("3000"),
                    size=Decimal("2"),
                    ts_exchange=1_763_000_000_000_000_000,
                )
            ]
        )
    assert db_stats(db, as_json=True) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["schema_version"] == 3 and st["tables"]["liquidations"]["by_exchange"] == {"okx": 1}
    assert db_stats(db) == 0
    assert "liquidations" in capsys.readouterr().out
    assert db_export(db, tmp_path / "out") == 0
    assert (
        tmp_path / "out" / "liquidations" / "exchange=okx" / "date=2025-11-13" / "data_0.parquet"
    ).exists()


def test_missing_database_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert db_stats(tmp_path / "nope.duckdb") == 2
    assert db_export(tmp_path / "nope.duckdb", tmp_path / "o") == 2
    assert "no database" in capsys.readouterr().err
