"""Realized liquidation heatmap: stored liquidations binned by time x price, per exchange
and position side, computed in DuckDB.

Binning (both in SQL, parameters bound, never spliced):

- time: ``time_bucket(INTERVAL interval_s, ts, TIMESTAMP '1970-01-01')``: buckets start
  at multiples of ``interval_s`` since the Unix epoch; ``t`` is the bucket start in ns.
- price: the bin's lower edge ``floor(price / bin) * bin``, computed exactly as
  ``price - price % bin`` on DECIMAL(38,18). (DuckDB divides DECIMALs in binary floating
  point, so ``floor(0.3 / 0.1)`` would give 2; the modulo form has no such error.)

Fast path (the common case): when ``interval_s`` is a multiple of 60 and ``price_bin``
a multiple of every price cell in range, the whole minutes of the range are summed from
``liquidations_rollup`` (``connex.store.rollup``: 1-minute x 5-significant-digit price
cells with exact DECIMAL sums) and only the partial minutes at the two ends are read
from ``liquidations``. The bin of a cell is ``pidx // (bin / 10**gexp)`` in integers,
which equals ``floor(price / bin)`` exactly because the bin is a multiple of the cell.
The numbers are identical to the direct query (tests compare both on random data);
the direct query is used for finer bins or sub-minute intervals. Sums come back from
DuckDB as VARCHAR and are trimmed to the canonical form, instead of being built as
Python ``Decimal`` objects one by one.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from connex.store.rollup import GEXP_SQL, PIDX_SQL, minute_sql
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


def _dec_str(s: str) -> str:
    """A DuckDB DECIMAL rendered as VARCHAR, in ``canonical`` form (no trailing zeros)."""
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


_GEXP_MIN, _GEXP_MAX = -18, 20
_CAP = 10**6  # above every pidx (< 10**5): pidx // anything >= _CAP is 0 either way


def _divisors(pbin: Decimal) -> list[int | None]:
    """Per cell exponent ``g`` (index ``g + 19``): ``pbin / 10**g`` if an integer, else None."""
    _sign, digits, exp = pbin.normalize().as_tuple()
    assert isinstance(exp, int)
    mant = int("".join(map(str, digits)))
    return [
        min(mant * 10 ** (exp - g), _CAP) if exp >= g else None
        for g in range(_GEXP_MIN, _GEXP_MAX + 1)
    ]


def _query_rollup(
    cur: Any,
    symbol: str,
    exchanges: list[str] | None,
    interval: int,
    pbin: Decimal,
    lo_ns: int,
    hi_ns: int,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]] | None:
    """Cells ``(t, price str, exchange, side, n, size str, notional str)`` and per
    (exchange, side) totals from the rollup, or ``None`` if the bin is too fine."""
    m = 60_000_000_000
    lo_c = -(-lo_ns // m) * m  # first whole minute
    hi_f = (hi_ns // m) * m  # end of the last whole minute
    where, fparams = _filters(symbol, exchanges, 8)
    step = interval * 1_000_000_000
    params: list[Any] = [lo_c, hi_f, lo_ns, hi_ns, step, _divisors(pbin), _GEXP_MIN - 1]
    params += fparams
    sql = (
        "WITH src AS ("
        " SELECT bucket_ns, gexp, pidx, exchange, side, n, size, notional"
        f" FROM liquidations_rollup WHERE bucket_ns >= $1 AND bucket_ns < $2 AND {where}"
        " UNION ALL"
        f" SELECT {minute_sql()}, {GEXP_SQL}, {PIDX_SQL}, exchange, side, 1, size, notional"
        f" FROM liquidations WHERE ts_ns >= $3 AND ts_ns < $4 AND (ts_ns < $1 OR ts_ns >= $2)"
        f" AND {where}"
        "), c AS ("
        " SELECT bucket_ns - ((bucket_ns % $5) + $5) % $5 AS t,"
        " pidx // list_extract($6::BIGINT[], gexp - $7) AS k, exchange, side, n, size, notional"
        " FROM src"
        ")"
        " SELECT grouping(t) AS g, t, k, exchange, side, sum(n)::BIGINT,"
        " CAST(sum(size) AS VARCHAR), CAST(sum(notional) AS VARCHAR)"
        " FROM c GROUP BY GROUPING SETS ((t, k, exchange, side), (exchange, side))"
        " ORDER BY g, t, k, exchange, side"
    )
    rows = cur.execute(sql, params).fetchall()
    labels: dict[int, str] = {}
    cells: list[tuple[Any, ...]] = []
    totals: list[tuple[Any, ...]] = []
    for g, t, k, ex, side, n, size, notional in rows:
        if g:
            totals.append((ex, side, n, notional))
            continue
        if k is None:
            return None  # a cell finer than the bin (or a non-positive price)
        label = labels.get(k)
        if label is None:
            label = labels[k] = canonical(k * pbin)
        cells.append((t, label, ex, side, n, _dec_str(size), _dec_str(notional)))
    return cells, totals


def _query_raw(
    cur: Any,
    symbol: str,
    exchanges: list[str] | None,
    interval: int,
    pbin: Decimal,
    lo_ns: int,
    hi_ns: int,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The same as ``_query_rollup``, straight from ``liquidations`` (any bin/interval)."""
    where, fparams = _filters(symbol, exchanges, 5)
    params: list[Any] = [interval * 1_000_000, pbin, lo_ns, hi_ns, *fparams]
    sql = (
        "WITH c AS ("
        "SELECT epoch_us(time_bucket(to_microseconds($1::BIGINT), ts,"
        " TIMESTAMP '1970-01-01')) * 1000 AS t,"
        " price - price % $2::DECIMAL(38,18) AS pbin, exchange, side, size, notional"
        f" FROM liquidations WHERE ts_ns >= $3 AND ts_ns < $4 AND {where})"
        " SELECT grouping(t) AS g, t, CAST(pbin AS VARCHAR), exchange, side,"
        " count(*)::BIGINT, CAST(sum(size) AS VARCHAR), CAST(sum(notional) AS VARCHAR)"
        " FROM c GROUP BY GROUPING SETS ((t, pbin, exchange, side), (exchange, side))"
        " ORDER BY g, t, pbin, exchange, side"
    )
    cells: list[tuple[Any, ...]] = []
    totals: list[tuple[Any, ...]] = []
    for g, t, pb, ex, side, n, size, notional in cur.execute(sql, params).fetchall():
        if g:
            totals.append((ex, side, n, notional))
        else:
            cells.append((t, _dec_str(pb), ex, side, n, _dec_str(size), _dec_str(notional)))
    return cells, totals


def realized_heatmap(
    store: Store,
    symbol: str,
    exchanges: list[str] | None = None,
    interval_s: int = 300,
    price_bin: Decimal | int | str = 50,
    start_ns: int | None = None,
    end_ns: int | None = None,
    *,
    use_rollup: bool = True,
) -> dict[str, Any]:
    """The realized layer of ``heatmap_timeseries`` (see the package docstring).

    ``use_rollup=False`` forces the direct query over ``liquidations`` (the reference
    the rollup path is tested against; the numbers are the same).
    """
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
    exch = None if exchanges is None else [str(x) for x in exchanges]
    cur = store.cursor()
    try:
        got = None
        if use_rollup and interval % 60 == 0:
            got = _query_rollup(cur, str(symbol), exch, interval, pbin, lo_ns, hi_ns)
        if got is None:
            got = _query_raw(cur, str(symbol), exch, interval, pbin, lo_ns, hi_ns)
    finally:
        cur.close()
    rows, totals = got
    if not rows:
        return {**empty, "times": times}
    dec = [Decimal(e) for e in {r[1] for r in rows}]
    prices = price_axis(min(dec), max(dec), pbin)
    cells = [
        {
            "t": int(t),
            "price": pb,
            "exchange": ex,
            "side": side,
            "count": int(n),
            "size": size,
            "notional": notional,
        }
        for t, pb, ex, side, n, size, notional in rows
    ]
    by_ex: dict[str, dict[str, Any]] = {}
    total_n, total_notional = 0, Decimal(0)
    for ex, side, n, notional_s in totals:
        notional = Decimal(notional_s)
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
        agg[f"{side}_notional"] = agg.get(f"{side}_notional", Decimal(0)) + notional
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
