"""``Store``: the DuckDB database file, its schema, bulk inserts and the read queries.

One ``Store`` = one ``duckdb.connect(path)``. Every method works on its own
``cursor()`` of that connection, so reader threads/tasks and the writer can use one
``Store`` concurrently (DuckDB gives each cursor its own transaction; a reader never sees
half of a committed batch). Only one process can open the file (see the package
docstring and docs/storage.md).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from connex.model import ExchangeHealth

from . import rollup
from .migrate import apply_migrations, current_version, load_migrations
from .rows import COLUMNS, TABLES, canonical, row_for, row_key

__all__ = ["MAX_QUERY_LIMIT", "Store"]

MAX_QUERY_LIMIT = 10_000
"""Upper bound for ``limit`` in ``query_liquidations``."""

INSERT_CHUNK = 10_000
"""Rows per ``INSERT ... SELECT unnest(...)`` statement."""

_INT64_MAX = 2**63 - 1
_LOG_LEN = 4096


def _insert_sql(table: str) -> str:
    cols = COLUMNS[table]
    names = ", ".join(n for n, _ in cols)
    unnests = ", ".join(f"unnest(${i}::{t}[]) AS {n}" for i, (n, t) in enumerate(cols, start=1))
    # Built only from the constant COLUMNS table: no user input reaches the SQL text.
    return (
        f"INSERT OR IGNORE INTO {table} ({names}, ts) "
        f"SELECT {names}, make_timestamp(ts_ns // 1000) FROM (SELECT {unnests})"
    )


_INSERT_SQL = {t: _insert_sql(t) for t in TABLES}
# Liquidations also report which rows were new, to add exactly those to the rollup.
_INSERT_SQL["liquidations"] += " RETURNING exchange, symbol, dedupe_key"


def _unnest_source(table: str) -> str:
    cols = COLUMNS[table]
    unnests = ", ".join(f"unnest(${i}::{t}[]) AS {n}" for i, (n, t) in enumerate(cols, start=1))
    return f"(SELECT {unnests})"


_ROLLUP_UPSERT_SQL = rollup.upsert_sql(_unnest_source("liquidations"))


def _dec(v: Decimal | None) -> str | None:
    return None if v is None else canonical(v)


class Store:
    """A Connex DuckDB database file. See the package docstring for the contract.

    Args:
        path: database file (created if missing); ``":memory:"`` for a throw-away one.
        read_only: open without write access (fails while another process writes).
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._con = duckdb.connect(self.path, read_only=read_only)
        self._write_lock = threading.Lock()
        self._closed = False
        # Liquidation write log: (generation, symbol or None = all, min ts_ns, max ts_ns)
        self._gen_lock = threading.Lock()
        self._liq_gen = 0
        self._liq_log: deque[tuple[int, str | None, int, int]] = deque(maxlen=_LOG_LEN)
        self._liq_log_floor = 0

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Store:
        """Open ``path`` and apply pending migrations (what ``connex serve`` does at startup)."""
        store = cls(path)
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    # -- lifecycle ------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor of the one connection: use one per reader thread or task."""
        return self._con.cursor()

    def close(self) -> None:
        """Close the connection (checkpointing the WAL into the file)."""
        if not self._closed:
            self._closed = True
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------
    def migrate(self, target: int | None = None) -> list[int]:
        """Apply pending migrations (up to ``target``); return the versions applied."""
        with self._write_lock:
            cur = self.cursor()
            try:
                return apply_migrations(cur, target=target)
            finally:
                cur.close()

    def schema_version(self) -> int:
        """The current schema version (0 for an empty file)."""
        cur = self.cursor()
        try:
            return current_version(cur)
        finally:
            cur.close()

    @staticmethod
    def latest_version() -> int:
        """The version the migrations in this Connex bring a database to."""
        migs = load_migrations()
        return migs[-1].version if migs else 0

    # -- writing --------------------------------------------------------------------
    def insert_rows(self, rows: dict[str, Sequence[tuple[Any, ...]]]) -> dict[str, int]:
        """Insert rows (as built by ``rows.row_for``) in ONE transaction.

        Rows whose natural key already exists (in the table or earlier in the batch) are
        skipped. Returns the number of rows newly inserted per table; when this returns,
        they are committed.
        """
        inserted = dict.fromkeys(rows, 0)
        touched: dict[str, list[int]] = {}  # symbol -> [min ts_ns, max ts_ns] inserted
        with self._write_lock:
            cur = self.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                try:
                    for table, trows in rows.items():
                        if not trows:
                            continue
                        seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
                        for r in trows:
                            seen.setdefault(row_key(table, r), r)
                        uniq = list(seen.values())
                        sql = _INSERT_SQL[table]
                        for i in range(0, len(uniq), INSERT_CHUNK):
                            chunk = uniq[i : i + INSERT_CHUNK]
                            cols = [list(c) for c in zip(*chunk, strict=True)]
                            if table == "liquidations":
                                inserted[table] += self._insert_liquidations(
                                    cur, chunk, cols, touched
                                )
                                continue
                            res = cur.execute(sql, cols).fetchone()
                            inserted[table] += int(res[0]) if res else 0
                    cur.execute("COMMIT")
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
            finally:
                cur.close()
            for symbol, (lo, hi) in touched.items():
                self._log_liquidations(symbol, lo, hi)
        return inserted

    # -- change tracking (for caches of liquidation aggregates) ----------------------
    def _log_liquidations(self, symbol: str | None, lo: int, hi: int) -> None:
        with self._gen_lock:
            self._liq_gen += 1
            if len(self._liq_log) == self._liq_log.maxlen:
                self._liq_log_floor = self._liq_log[0][0]
            self._liq_log.append((self._liq_gen, symbol, lo, hi))

    def liquidations_generation(self) -> int:
        """A counter that grows after every committed write of liquidations.

        Read it *before* computing something from the liquidations; later,
        ``liquidations_changed(gen, ...)`` tells whether that result may be stale.
        """
        with self._gen_lock:
            return self._liq_gen

    def liquidations_changed(self, since: int, symbol: str, lo_ns: int, hi_ns: int) -> bool:
        """Whether liquidations of ``symbol`` with ``lo_ns <= ts_ns < hi_ns`` may have
        been written (through this ``Store``) after generation ``since``.

        Conservative: ``True`` when the log of recent writes no longer reaches back to
        ``since``. Writes made with raw SQL, or by another ``Store`` object, are not seen.
        """
        with self._gen_lock:
            if since < self._liq_log_floor:
                return True
            for gen, sym, lo, hi in reversed(self._liq_log):
                if gen <= since:
                    return False
                if (sym is None or sym == symbol) and lo < hi_ns and hi >= lo_ns:
                    return True
            return False

    @staticmethod
    def _insert_liquidations(
        cur: duckdb.DuckDBPyConnection,
        chunk: list[tuple[Any, ...]],
        cols: list[list[Any]],
        touched: dict[str, list[int]],
    ) -> int:
        """Insert one chunk of liquidation rows and add the new ones to the rollup."""
        new = cur.execute(_INSERT_SQL["liquidations"], cols).fetchall()
        if not new:
            return 0
        if len(new) != len(chunk):  # some were duplicates: roll up only the new ones
            keep = set(new)
            chunk = [r for r in chunk if (r[0], r[1], r[9]) in keep]
            cols = [list(c) for c in zip(*chunk, strict=True)]
        cur.execute(_ROLLUP_UPSERT_SQL, cols)
        for r in chunk:  # COLUMNS order: symbol at 1, ts_ns at 6
            span = touched.get(r[1])
            ts = int(r[6])
            if span is None:
                touched[r[1]] = [ts, ts]
            elif ts < span[0]:
                span[0] = ts
            elif ts > span[1]:
                span[1] = ts
        return len(new)

    def rebuild_rollup(self) -> None:
        """Recompute ``liquidations_rollup`` from ``liquidations`` (one transaction).

        Only needed after writing liquidations with raw SQL (bulk loads); rows written
        through ``insert_rows``/``write_events``/``StoreWriter`` keep it current.
        """
        with self._write_lock:
            cur = self.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                try:
                    for stmt in rollup.REBUILD_SQL.split("; "):
                        cur.execute(stmt)
                    cur.execute("COMMIT")
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
            finally:
                cur.close()
            self._log_liquidations(None, -_INT64_MAX, _INT64_MAX)

    def write_events(self, events: Iterable[Any], *, trades: bool = True) -> dict[str, int]:
        """Convert model events to rows and ``insert_rows`` them (one transaction).

        Events of other types are ignored; ``trades=False`` skips ``Trade``. A health
        event without ``ts_local`` is stamped with the current time.
        """
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for ev in events:
            tr = row_for(ev)
            if tr is None:
                continue
            table, row = tr
            if table == "trades" and not trades:
                continue
            if table == "exchange_health" and row[-1] == 0:
                row = (*row[:-1], time.time_ns())
            rows.setdefault(table, []).append(row)
        return self.insert_rows(rows)

    # -- queries (the API contract) -------------------------------------------------
    def query_liquidations(
        self,
        exchange: list[str] | None = None,
        symbol: str | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Stored liquidations, newest first (see the package docstring for the fields).

        ``exchange``: only these exchanges (``None`` = all); ``symbol``: one unified
        symbol; ``start_ns`` inclusive / ``end_ns`` exclusive event time in ns;
        ``limit`` is clamped to ``1..MAX_QUERY_LIMIT``.
        """
        limit = max(1, min(int(limit), MAX_QUERY_LIMIT))
        where = ["ts_ns >= $1", "ts_ns < $2"]
        params: list[Any] = [
            int(start_ns) if start_ns is not None else -_INT64_MAX,
            int(end_ns) if end_ns is not None else _INT64_MAX,
        ]
        if exchange is not None:
            params.append([str(x) for x in exchange])
            where.append(f"list_contains(${len(params)}::VARCHAR[], exchange)")
        if symbol is not None:
            params.append(str(symbol))
            where.append(f"symbol = ${len(params)}")
        params.append(limit)
        sql = (
            "SELECT exchange, symbol, side, price, size, notional, ts_ns, ts_local_ns, "
            "liquidation_id "
            f"FROM liquidations WHERE {' AND '.join(where)} "
            f"ORDER BY ts_ns DESC, exchange, symbol, dedupe_key LIMIT ${len(params)}"
        )
        cur = self.cursor()
        try:
            rows = cur.execute(sql, params).fetchall()
        finally:
            cur.close()
        return [
            {
                "exchange": r[0],
                "symbol": r[1],
                "side": r[2],
                "price": canonical(r[3]),
                "size": canonical(r[4]),
                "notional": canonical(r[5]),
                "ts_ns": r[6],
                "ts_local_ns": r[7],
                "liquidation_id": r[8],
            }
            for r in rows
        ]

    def latest_health(self) -> list[ExchangeHealth]:
        """The newest stored ``ExchangeHealth`` of each exchange, sorted by exchange."""
        sql = (
            "SELECT exchange, connected, healthy, last_message_age_s, msgs_per_s, reconnects,"
            " errors,"
            " gaps, resyncs, books_live, books_total, detail, ts_ns FROM exchange_health"
            " QUALIFY row_number() OVER (PARTITION BY exchange ORDER BY ts_ns DESC) = 1"
            " ORDER BY exchange"
        )
        cur = self.cursor()
        try:
            rows = cur.execute(sql).fetchall()
        finally:
            cur.close()
        return [
            ExchangeHealth(
                exchange=r[0],
                connected=bool(r[1]),
                healthy=bool(r[2]),
                last_message_age_s=r[3],
                msgs_per_s=float(r[4]),
                reconnects=int(r[5]),
                errors=int(r[6]),
                gaps=int(r[7]),
                resyncs=int(r[8]),
                books_live=int(r[9]),
                books_total=int(r[10]),
                detail=r[11],
                ts_local=int(r[12]),
            )
            for r in rows
        ]

    def stats(self) -> dict[str, Any]:
        """Schema version, file size and per-table row counts / event-time ranges."""
        cur = self.cursor()
        try:
            version = current_version(cur)
            tables: dict[str, Any] = {}
            present = {
                r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            }
            for t in TABLES:
                if t not in present:
                    continue
                n, lo, hi = cur.execute(
                    f"SELECT count(*), min(ts_ns), max(ts_ns) FROM {t}"
                ).fetchone()  # type: ignore[misc]
                entry: dict[str, Any] = {"rows": int(n), "first_ts_ns": lo, "last_ts_ns": hi}
                cols = {
                    r[0]
                    for r in cur.execute(
                        "SELECT column_name FROM duckdb_columns() WHERE table_name = $1", [t]
                    ).fetchall()
                }
                if "exchange" in cols:
                    entry["by_exchange"] = {
                        ex: int(c)
                        for ex, c in cur.execute(
                            f"SELECT exchange, count(*) FROM {t} "
                            "GROUP BY exchange ORDER BY exchange"
                        ).fetchall()
                    }
                tables[t] = entry
        finally:
            cur.close()
        size = 0
        if self.path != ":memory:":
            for p in (self.path, self.path + ".wal"):
                if os.path.exists(p):
                    size += os.path.getsize(p)
        return {
            "path": self.path,
            "schema_version": version,
            "latest_version": self.latest_version(),
            "file_bytes": size,
            "tables": tables,
        }

    # -- export ---------------------------------------------------------------------
    def export_parquet(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Export every table as Parquet, partitioned by exchange and date.

        Files land at ``out_dir/<table>/exchange=<x>/date=<YYYY-MM-DD>/data_<n>.parquet``
        (hive layout: read them with ``read_parquet('out/liquidations/**/*.parquet',
        hive_partitioning = true)``). Everything is first written under a temporary
        directory inside ``out_dir`` and then moved with ``os.replace`` (atomic on one
        file system), so a reader sees either the old or the new file, never part of
        one. A later export replaces the partitions it writes. Returns the final paths.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / f".tmp-export-{uuid.uuid4().hex}"
        tmp.mkdir()
        written: list[Path] = []
        cur = self.cursor()
        try:
            present = {
                r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            }
            for table in TABLES:
                if table not in present:
                    continue
                (n,) = cur.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[misc]
                if not n:
                    continue
                tdir = tmp / table
                target = str(tdir).replace("'", "''")
                cur.execute(
                    f"COPY (SELECT *, strftime(ts, '%Y-%m-%d') AS date FROM {table} "
                    "ORDER BY ts_ns) "
                    f"TO '{target}' (FORMAT parquet, PARTITION_BY (exchange, date))"
                )
                for f in sorted(tdir.rglob("*.parquet")):
                    rel = f.relative_to(tmp)
                    dest = out / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(f, dest)
                    written.append(dest)
                # drop stale files of partitions this export rewrote
                fresh = set(written)
                for part in {p.parent for p in written if p.is_relative_to(out / table)}:
                    for old in part.glob("*.parquet"):
                        if old not in fresh:
                            old.unlink()
        finally:
            cur.close()
            shutil.rmtree(tmp, ignore_errors=True)
        return written
