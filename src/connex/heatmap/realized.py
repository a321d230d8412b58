"""Realized liquidation heatmap: stored liquidations binned by time x price, per exchange
and position side, computed in DuckDB.

Binning (both in SQL, parameters bound, never spliced):

- time: ``time_bucket(INTERVAL interval_s, ts, TIMESTAMP '1970-01-01')``: buckets start
  at multiples of ``interval_s`` since the Unix epoch; ``t`` is the bucket start in ns.
- price: the bin's lower edge ``floor(price / bin) * bin``, computed exactly as
  ``price - price % bin`` on DECIMAL(38,18). (DuckDB divides DECIMALs in binary floating
  point, so ``floor(0.3 / 0.1)`` would give 2; the modulo form has no such error.)
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from connex.store.rows import canonical

if TYPE_CHECKING:
    from connex.store import Store

__all__ = [
    "ALLOWED_INTERVALS_S",
    "MAX_PRICE_BINS",
    "MAX_TIME_BUCKETS",
    "check_interval",
    "check_price_bin",
    "realized_heatmap",
    "resolve_range",
]

ALLOWED_INTERVALS_S: tuple[int, ...] = (
    1,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    14400,
    21600,
    43200,
    86400,
)
"""Whitelisted time-bin sizes in seconds."""

MAX_PRICE_BINS = 20_000
"""Most price bins a heatmap may span (``(max - min) / price_bin``)."""

MAX_TIME_BUCKETS = 20_000
"""Most time buckets a heatmap may span (``(end - start) / interval``)."""

_INT64_MAX = 2**63 - 1


def check_interval(interval_s: Any) -> int:
    """Return ``interval_s`` as an int if whitelisted, else raise ``ValueError``."""
    v: int | None = None
    if isinstance(interval_s, int) and not isinstance(interval_s, bool):
        v = interval_s
    elif isinstance(interval_s, str) and interval_s.strip().isdigit():
        v = int(interval_s.strip())
    if v is None or v not in ALLOWED_INTERVALS_S:
        raise ValueError(f"interval_s must be one of {ALLOWED_INTERVALS_S}")
    return v


def check_price_bin(price_bin: Any) -> Decimal:
    """``price_bin`` as a positive ``Decimal`` (<= 18 decimals), else raise ``ValueError``."""
    if isinstance(price_bin, float | bool):
        raise ValueError("price_bin must be a Decimal, int or decimal string, not a float")
    try:
        d = Decimal(str(price_bin).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"price_bin is not a number: {price_bin!r}") from None
    if not d.is_finite() or d <= 0 or d >= Decimal("1e15"):
        raise ValueError("price_bin must be a positive number below 1e15")
    exp = d.normalize().as_tuple().exponent
    if isinstance(exp, int) and exp < -18:
        raise ValueError("price_bin has more than 18 decimals")
    return d


def _filters(symbol: str, exchanges: list[str] | None, first: int) -> tuple[str, list[Any]]:
    where = [f"symbol = ${first}"]
    params: list[Any] = [str(symbol)]
    if exchanges is not None:
        params.append([str(x) for x in exchanges])
        where.append(f"list_contains(${first + 1}::VARCHAR[], exchange)")
    return " AND ".join(where), params


def resolve_range(
    store: Store,
    table: str,
    symbol: str,
    exchanges: list[str] | None,
    start_ns: int | None,
    end_ns: int | None,
) -> tuple[int, int] | None:
    """Fill a missing ``start_ns``/``end_ns`` from the data in ``table`` (end exclusive)."""
    if start_ns is not None and end_ns is not None:
        return int(start_ns), int(end_ns)
    if table not in ("liquidations", "trades", "funding"):
        raise ValueError(table)
    where, params = _filters(symbol, exchanges, 1)
    cur = store.cursor()
    try:
        row = cur.execute(
            f"SELECT min(ts_ns), max(ts_ns) FROM {table} WHERE {where}", params
        ).fetchone()
    finally:
        cur.close()
    if row is None or row[0] is None:
        return None
    lo = int(start_ns) if start_ns is not None else int(row[0])
    hi = int(end_ns) if end_ns is not None else int(row[1]) + 1
    return lo, hi


def time_axis(start_ns: int, end_ns: int, interval_s: int) -> list[int]:
    """Bucket starts (ns) covering ``[start_ns, end_ns)``; at most ``MAX_TIME_BUCKETS``."""
    step = interval_s * 1_000_000_000
    first = (start_ns // step) * step
    n = max(0, -(-(end_ns - first) // step))
    if n > MAX_TIME_BUCKETS:
        raise ValueError(f"{n} time buckets; choose a larger interval (max {MAX_TIME_BUCKETS})")
    return [first + i * step for i in range(n)]


def price_axis(lo: Decimal, hi: Decimal, price_bin: Decimal) -> list[str]:
    """Bin lower edges from ``lo`` to ``hi`` (both bin edges) as exact strings."""
    n = int((hi - lo) / price_bin) + 1
    if n > MAX_PRICE_BINS:
        raise ValueError(f"{n} price bins; choose a larger price_bin (max {MAX_PRICE_BINS})")
    return [canonical(lo + i * price_bin) for i in range(n)]


def realized_heatmap(
    store: Store,
    symbol: str,
    exchanges: list[str] | None = None,
    interval_s: int = 300,
    price_bin: Decimal | int | str = 50,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> dict[str, Any]:
    """The realized layer of ``heatmap_timeseries`` (see the package docstring)."""
    interval = check_interval(interval_s)
    pbin = check_price_bin(price_bin)
    empty: dict[str, Any] = {
        "kind": "realized",
        "times": [],
        "prices": [],
        "cells": [],
        "by_exchange": {},
        "total": {"count": 0, "notional": "0"},
    }
    rng = resolve_range(store, "liquidations", symbol, exchanges, start_ns, end_ns)
    if rng is None:
        return empty
    lo_ns, hi_ns = rng
    times = time_axis(lo_ns, hi_ns, interval)
    where, fparams = _filters(symbol, exchanges, 5)
    params: list[Any] = [interval * 1_000_000, pbin, lo_ns, hi_ns, *fparams]
    sql = (
        "SELECT epoch_us(time_bucket(to_microseconds($1::BIGINT), ts,"
        " TIMESTAMP '1970-01-01')) * 1000 AS t,"
        " price - price % $2::DECIMAL(38,18) AS pbin, exchange, side,"
        " count(*) AS n, sum(size) AS size, sum(notional) AS notional"
        f" FROM liquidations WHERE ts_ns >= $3 AND ts_ns < $4 AND {where}"
        " GROUP BY ALL ORDER BY t, pbin, exchange, side"
    )
    cur = store.cursor()
    try:
        rows = cur.execute(sql, params).fetchall()
    finally:
        cur.close()
    if not rows:
        return {**empty, "times": times}
    prices = price_axis(min(r[1] for r in rows), max(r[1] for r in rows), pbin)
    cells: list[dict[str, Any]] = []
    by_ex: dict[str, dict[str, Any]] = {}
    total_n, total_notional = 0, Decimal(0)
    for t, pb, ex, side, n, size, notional in rows:
        cells.append(
            {
                "t": int(t),
                "price": canonical(pb),
                "exchange": ex,
                "side": side,
                "count": int(n),
                "size": canonical(size),
                "notional": canonical(notional),
            }
        )
        agg = by_ex.setdefault(
            ex,
            {
                "count": 0,
                "notional": Decimal(0),
                "long_notional": Decimal(0),
                "short_notional": Decimal(0),
            },
        )
        agg["count"] += int(n)
        agg["notional"] += notional
        agg[f"{side}_notional"] += notional
        total_n += int(n)
        total_notional += notional
    return {
        "kind": "realized",
        "times": times,
        "prices": prices,
        "cells": cells,
        "by_exchange": {
            ex: {k: (canonical(v) if isinstance(v, Decimal) else v) for k, v in agg.items()}
            for ex, agg in sorted(by_ex.items())
        },
        "total": {"count": total_n, "notional": canonical(total_notional)},
    }
