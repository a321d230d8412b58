"""``liquidations_rollup``: pre-aggregates of liquidations (migration 0003).

One row per (symbol, exchange, side, span, bucket, price cell) with ``n`` (count), ``size``
and ``notional`` (exact DECIMAL sums). The price cell is the price truncated to five
significant digits: ``pidx`` holds those digits, ``gexp`` the power of ten of the last
one, so the cell is ``[pidx * 10**gexp, (pidx + 1) * 10**gexp)``. Every liquidation
is counted once per span in ``SPANS_S`` (1 minute, 5 minutes, 1 hour; ``span_s``
column), in the bucket of that span holding it. Because
``floor(p / B) == floor(trunc(p) / B)`` whenever ``B`` is a multiple of the truncation
step, and sums of DECIMAL are exact, the heatmap sums any bucket that is a multiple of
60 s and any price bin that is a multiple of ``10**gexp`` from these rows with exactly
the numbers it would get from the raw rows (``connex.heatmap.realized``), taking the
coarsest span that divides the bucket and finer spans (then raw rows) at the edges.

``Store.insert_rows`` keeps the rollup current in the same transaction as the
liquidations it inserts (only rows newly inserted count; duplicates skipped by the
natural key are not added twice). The SQL expressions below are the same as in
``migrations/0003_liquidations_rollup.sql`` (a test checks that a backfilled rollup
equals an incrementally maintained one).
"""

from __future__ import annotations

__all__ = [
    "BUCKET_NS",
    "SPANS_S",
    "GEXP_SQL",
    "NOT_ROLLED",
    "PIDX_SQL",
    "REBUILD_SQL",
    "minute_sql",
    "upsert_sql",
]

BUCKET_NS = 60_000_000_000
"""The rollup's time bucket: one minute, in ns."""

SPANS_S: tuple[int, ...] = (60, 300, 3600)
"""Bucket widths (seconds) the rollup keeps; each divides the next."""

NOT_ROLLED = 99
"""``gexp`` of rows no price bin may take from the rollup (non-positive prices)."""

_DIGITS = "ltrim(replace(CAST(price AS VARCHAR), '.', ''), '0')"

GEXP_SQL = (
    f"CASE WHEN price <= 0 THEN {NOT_ROLLED} "
    f"ELSE greatest(length({_DIGITS}) - 23, -18) END"
)
"""SQL: the power of ten of a price's cell (``price`` is a DECIMAL(38,18) column)."""

PIDX_SQL = f"CASE WHEN price <= 0 THEN 0 ELSE CAST(left({_DIGITS}, 5) AS BIGINT) END"
"""SQL: the price's first five significant digits (its cell index)."""


def minute_sql(col: str = "ts_ns") -> str:
    """SQL: the start (ns) of the minute holding ``col`` (floor, also for negatives)."""
    m = BUCKET_NS
    return f"({col} - (({col} % {m}) + {m}) % {m})"


def _select(source: str) -> str:
    spans = ", ".join(f"({s}::BIGINT)" for s in SPANS_S)
    return (
        "SELECT symbol, exchange, side, span_s,"
        " ts_ns - ((ts_ns % (span_s * 1000000000)) + span_s * 1000000000)"
        " % (span_s * 1000000000) AS bucket_ns,"
        f" {GEXP_SQL} AS gexp, {PIDX_SQL} AS pidx,"
        " count(*) AS n, sum(size) AS size, sum(notional) AS notional"
        f" FROM {source} CROSS JOIN (VALUES {spans}) AS spans(span_s) GROUP BY ALL"
    )


def upsert_sql(source: str) -> str:
    """SQL adding the liquidations in ``source`` (a FROM clause) to the rollup."""
    return (
        f"INSERT INTO liquidations_rollup {_select(source)} "
        "ON CONFLICT DO UPDATE SET n = n + excluded.n, size = size + excluded.size,"
        " notional = notional + excluded.notional"
    )


REBUILD_SQL = (
    "DELETE FROM liquidations_rollup; "
    f"INSERT INTO liquidations_rollup {_select('liquidations')}"
)
"""SQL recomputing the whole rollup from ``liquidations`` (run in one transaction)."""
