"""Schema migrations on real DuckDB files."""

from pathlib import Path

import duckdb
import pytest

from connex.store import Store, load_migrations
from connex.store.migrate import MIGRATIONS_DIR, apply_migrations, current_version


def test_migration_files_are_numbered_and_named() -> None:
    migs = load_migrations()
    assert [m.version for m in migs] == list(range(1, len(migs) + 1))
    assert migs[0].name == "initial" and migs[1].name == "liquidations_exchange"
    assert all(p.suffix == ".sql" for p in MIGRATIONS_DIR.glob("0*"))


def test_gap_in_numbering_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (x INT);")
    (tmp_path / "0003_c.sql").write_text("CREATE TABLE c (x INT);")
    with pytest.raises(ValueError, match="without gaps"):
        load_migrations(tmp_path)


def test_fresh_database_gets_all_versions_recorded(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    with Store(path) as store:
        assert store.schema_version() == 0
        assert store.migrate() == [1, 2, 3]
        assert store.migrate() == []  # idempotent
        cur = store.cursor()
        rows = cur.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
        cols = [
            r[0]
            for r in cur.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'liquidations'"
            ).fetchall()
        ]
    assert rows == [(1, "initial"), (2, "liquidations_exchange"), (3, "liquidations_rollup")]
    assert "exchange" in cols


def test_failed_migration_rolls_back_and_keeps_version(tmp_path: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "0001_ok.sql").write_text("CREATE TABLE a (x INT);")
    (d / "0002_bad.sql").write_text("CREATE TABLE b (x INT); SELECT * FROM no_such_table;")
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    with pytest.raises(duckdb.Error):
        apply_migrations(con, migrations=load_migrations(d))
    assert current_version(con) == 1
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "a" in tables and "b" not in tables  # 0002 left nothing behind
    con.close()


def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with Store(path) as store:
        store.migrate()
        store.cursor().execute("INSERT INTO schema_version (version, name) VALUES (99, 'future')")
    with Store(path) as store, pytest.raises(ValueError, match="newer"):
        store.migrate()
