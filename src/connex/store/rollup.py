"""``liquidations_rollup``: pre-aggregates of liquidations (migration 0003).

One row per (symbol, exchange, side, span, bucket, price cell) with ``n`` (count), ``size``
and ``notional`` (exact DECIMAL sums) and ``pmin``/``pmax`` (the exact lowest and highest
price, for the dashboard's automatic bin width). The price cell is the price truncated to five
significant digits: ``pidx`` holds those digits, ``gexp`` the power of ten of the last
one, so the cell is ``[pidx * 10**gexp, (pidx + 1) * 10**gexp)``. Every liquidation
is counted once per level in ``LEVELS`` (1 minute with 5-digit cells; 5 minutes and
1 hour with cells of 5 x 10**gexp), in the bucket of that span holding it. Because
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
    "GEXP_SQL",
    "LEVELS",
    "NOT_ROLLED",
    "PIDX_SQL",
    "REBUILD_SQL",
    "minute_sql",
    "upsert_sql",
]

BUCKET_NS = 60_000_000_000
"""The rollup's time bucket: one minute, in ns."""

LEVELS: tuple[tuple[int, int], ...] = ((60, 1), (300, 5), (3600, 5))
"""``(span_s, gm)`` kept by the rollup: bucket width in seconds (each divides the next)
and the price cell multiplier. A cell is ``gm * 10**gexp`` wide: ``gm = 1`` keeps five
significant digits, ``gm = 5`` half of the fourth digit's unit (5 for prices
10,000-99,999), coarse enough to shrink the table and fine enough for every round bin
width (1, 2, 2.5, 5 x a power of ten) of that size and above."""

NOT_ROLLED = 99
"""``gexp`` of rows no price bin may take from the rollup (non-positive prices)."""

_DIGITS = "ltrim(replace(CAST(price AS VARCHAR), '.', ''), '0')"

GEXP_SQL = f"CASE WHEN price <= 0 THEN {NOT_ROLLED} ELSE greatest(length({_DIGITS}) - 23, -18) END"
"""SQL: the power of ten of a price's cell (``price`` is a DECIMAL(38,18) column)."""

PIDX_SQL = f"CASE WHEN price <= 0 THEN 0 ELSE CAST(left({_DIGITS}, 5) AS BIGINT) END"
"""SQL: the price's first five significant digits (its cell index for ``gm = 1``)."""


def minute_sql(col: str = "ts_ns") -> str:
    """SQL: the start (ns) of the minute holding ``col`` (floor, also for negatives)."""
    m = BUCKET_NS
    return f"({col} - (({col} % {m}) + {m}) % {m})"


def _select(source: str) -> str:
    levels = ", ".join(f"({s}::BIGINT, {g}::BIGINT)" for s, g in LEVELS)
    return (
        "SELECT symbol, exchange, side, span_s,"
        " ts_ns - ((ts_ns % (span_s * 1000000000)) + span_s * 1000000000)"
        " % (span_s * 1000000000) AS bucket_ns,"
        f" gm, {GEXP_SQL} AS gexp, ({PIDX_SQL}) // gm AS pidx,"
        " count(*) AS n, sum(size) AS size, sum(notional) AS notional,"
        " min(price) AS pmin, max(price) AS pmax"
        f" FROM {source} CROSS JOIN (VALUES {levels}) AS levels(span_s, gm) GROUP BY ALL"
    )


def upsert_sql(source: str) -> str:
    """SQL adding the liquidations in ``source`` (a FROM clause) to the rollup."""
    return (
        f"INSERT INTO liquidations_rollup {_select(source)} "
        "ON CONFLICT DO UPDATE SET n = n + excluded.n, size = size + excluded.size,"
        " notional = notional + excluded.notional, pmin = least(pmin, excluded.pmin),"
        " pmax = greatest(pmax, excluded.pmax)"
    )


REBUILD_SQL = (
    "DELETE FROM liquidations_rollup; "
    f"INSERT INTO liquidations_rollup {_select('liquidations')} ORDER BY span_s, bucket_ns"
)
"""SQL recomputing the whole rollup from ``liquidations`` (run in one transaction).

Rows are written sorted by (span, bucket) so DuckDB's per-row-group min/max skip
everything but the span and time range a query asks for."""
