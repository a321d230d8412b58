"""DuckDB storage: one embedded database file, versioned migrations, a batched writer.

Stable contract (used by the gateway / HTTP API)
------------------------------------------------
``Store(path)`` opens (or creates) the database file and ``Store.migrate()`` brings the
schema up to date (``Store.open(path)`` does both). The query methods are the API's
contract and only ever take numbers and whitelisted values; user strings are bound as
parameters, never spliced into SQL:

- ``Store.query_liquidations(exchange: list[str] | None = None, symbol: str | None = None,
  start_ns: int | None = None, end_ns: int | None = None, limit: int = 1000) -> list[dict]``
  newest first; each dict is JSON-able: ``exchange, symbol, side ("long"|"short"),
  price, size, notional`` (exact decimal *strings*), ``ts_ns`` (event time, int ns),
  ``ts_local_ns``, ``liquidation_id``. ``limit`` is clamped to ``1..MAX_QUERY_LIMIT``.
- ``Store.latest_health() -> list[ExchangeHealth]``: the newest stored health row per
  exchange, sorted by exchange.
- ``Store.stats() -> dict``: schema version, file size, row counts and time range per
  table (JSON-able).
- ``Store.export_parquet(out_dir) -> list[Path]``: Parquet files partitioned
  ``<table>/exchange=<x>/date=<YYYY-MM-DD>/data.parquet``; each file is written to a
  temporary name and renamed, so a reader never sees half a file.
- ``Store.cursor()``: a new cursor of the one connection, for a reader thread or task.

Processes (see DESIGN.md "Storage and processes" and docs/storage.md): one process owns
the file (DuckDB takes a file lock; a second process cannot open it, not even
read-only). The writer and the API therefore live in one process; readers call
``store.cursor()`` (one cursor per thread/task). Other processes read exported Parquet.

Writing
-------
``StoreWriter(store, ...)`` batches normalized model events (``Liquidation``, ``Trade``
(opt-in), ``BookSnapshot``/``Ticker`` (sampled top of book), ``FundingRate``,
``MarkPrice``, ``ExchangeHealth``) and inserts them with ``INSERT ... SELECT
unnest($1::...[]) ...`` in one transaction per flush. Memory is bounded: at most
``max_pending`` rows wait; when full, ``await put(ev)`` waits until a flush frees room
(policy ``BLOCK``: backpressure onto the producer, nothing is dropped) and
``put_nowait`` raises ``StoreFull``. ``stored`` counts rows that were newly inserted and
only grows after the COMMIT that made them durable; duplicates (same natural key) are
ignored and counted in ``duplicates``.
"""

from .db import MAX_QUERY_LIMIT, Store
from .migrate import MIGRATIONS_DIR, Migration, load_migrations
from .writer import StoreFull, StoreWriter, WriterStats

__all__ = [
    "MAX_QUERY_LIMIT",
    "MIGRATIONS_DIR",
    "Migration",
    "Store",
    "StoreFull",
    "StoreWriter",
    "WriterStats",
    "load_migrations",
]
