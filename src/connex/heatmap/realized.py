"""Realized liquidation heatmap: stored liquidations binned by time x price, per exchange
and position side, computed in DuckDB.

Binning (both in SQL, parameters bound, never spliced):

- time: ``time_bucket(INTERVAL interval_s, ts, TIMESTAMP '1970-01-01')``: buckets start
  at multiples of ``interval_s`` since the Unix epoch; ``t`` is the bucket start in ns.
- price: the bin's lower edge ``floor(price / bin) * bin``, computed exactly as
  ``price - price % bin`` on DECIMAL(38,18). (DuckDB divides DECIMALs in binary floating
  point, so ``floor(0.3 / 0.1)`` would give 2; the modulo form has no such error.)

Fast path (the common case): when ``interval_s`` is a multiple of 60 and ``price_bin``
a multiple of every price cell in range, the range is summed from
``liquidations_rollup`` (``connex.store.rollup``: 1-minute, 5-minute and 1-hour buckets
x price cells of ``gm * 10**gexp``, exact DECIMAL sums): whole buckets of the coarsest
level dividing the interval, finer levels at the edges, and only the partial minutes at
the two ends from ``liquidations``. The bin of a cell is
``pidx // (bin / (gm * 10**gexp))`` in integers, which equals ``floor(price / bin)``
exactly because the bin is a multiple of the cell. The numbers are identical to the
direct query (tests compare both on random data); the direct query is used for finer
bins or sub-minute intervals. Sums come back from DuckDB as strings already trimmed to
the canonical form, instead of being built as Python ``Decimal`` objects one by one.
Finished hour blocks are cached per ``Store`` until a write lands in them (see
``realized_heatmap``).
"""

from __future__ import annotations

import decimal
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from connex.store.rollup import GEXP_SQL, LEVELS, PIDX_SQL
from connex.store.rows import canonical

if TYPE_CHECKING:
    from connex.store import Store

__all__ = [
    "ALLOWED_INTERVALS_S",
    "MAX_PRICE_BINS",
    "MAX_TIME_BUCKETS",
    "check_interval",
    "check_price_bin",
    "price_range",
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
        if table == "liquidations":
            row = _liquidations_range(cur, where, params)
        else:
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


def _liquidations_range(cur: Any, where: str, params: list[Any]) -> tuple[Any, Any] | None:
    """``(min ts_ns, max ts_ns)``: the first and last hour from the rollup, then the
    exact times from the raw rows of those two hours only."""
    span, _gm = max(LEVELS)
    row = cur.execute(
        f"SELECT min(bucket_ns), max(bucket_ns) FROM liquidations_rollup"
        f" WHERE span_s = {int(span)} AND {where}",
        params,
    ).fetchone()
    if row is None or row[0] is None:
        return None
    k = len(params)
    width = span * 1_000_000_000
    lo, hi = cur.execute(
        f"SELECT (SELECT min(ts_ns) FROM liquidations WHERE ts_ns >= ${k + 1}"
        f" AND ts_ns < ${k + 2} AND {where}),"
        f" (SELECT max(ts_ns) FROM liquidations WHERE ts_ns >= ${k + 3}"
        f" AND ts_ns < ${k + 4} AND {where})",
        [*params, row[0], row[0] + width, row[1], row[1] + width],
    ).fetchone()  # type: ignore[misc]
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


def _trim_sql(expr: str) -> str:
    """SQL: a DECIMAL(38,18) expression as its canonical string (``_dec_str`` in SQL)."""
    return (
        f"CASE WHEN ({expr}) = 0 THEN '0' ELSE rtrim(rtrim(CAST({expr} AS VARCHAR), '0'), '.') END"
    )


def _dec_str(s: str) -> str:
    """A DuckDB DECIMAL rendered as VARCHAR, in ``canonical`` form (no trailing zeros)."""
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


_GEXP_MIN, _GEXP_MAX = -18, 20
_CAP = 10**6  # above every pidx (< 10**5): pidx // anything >= _CAP is 0 either way


def _divisors(pbin: Decimal, gm: int) -> list[int | None]:
    """Per cell exponent ``g`` (index ``g + 19``): ``pbin / (gm * 10**g)`` if an integer."""
    ctx = decimal.Context(prec=80)
    out: list[int | None] = []
    for g in range(_GEXP_MIN, _GEXP_MAX + 1):
        q = ctx.divide(pbin.scaleb(-g, ctx), Decimal(gm))
        out.append(min(int(q), _CAP) if q == q.to_integral_value(context=ctx) else None)
    return out


def _segments(
    lo: int, hi: int, levels: list[tuple[int, int]]
) -> list[tuple[tuple[int, int] | None, int, int]]:
    """Cover ``[lo, hi)`` with whole buckets of the coarsest level, finer levels at the
    edges, and raw rows (level ``None``) for the partial minutes at the very ends."""
    if hi <= lo:
        return []
    if not levels:
        return [(None, lo, hi)]
    m = levels[0][0] * 1_000_000_000
    a, b = -(-lo // m) * m, (hi // m) * m
    if a >= b:
        return _segments(lo, hi, levels[1:])
    return [*_segments(lo, a, levels[1:]), (levels[0], a, b), *_segments(b, hi, levels[1:])]


def _query_rollup(
    cur: Any,
    symbol: str,
    exchanges: list[str] | None,
    interval: int,
    pbin: Decimal,
    ranges: list[tuple[int, int]],
    levels: list[tuple[int, int]],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]] | None:
    """Cells ``(t, price str, exchange, side, n, size str, notional str)`` and per
    (exchange, side) totals from the rollup ``levels``, or ``None`` if the bin is finer
    than a cell in range."""
    where, params = _filters(symbol, exchanges, 1)
    step = interval * 1_000_000_000
    params += [step, _divisors(pbin, 1), _divisors(pbin, 5), _GEXP_MIN - 1]
    k0 = len(params)
    branches = []
    segments = [
        seg
        for lo_ns, hi_ns in ranges
        for seg in _segments(lo_ns, hi_ns, sorted(levels, reverse=True))
    ]
    for level, a, b in segments:
        params += [a, b]
        lo_p, hi_p = f"${len(params) - 1}", f"${len(params)}"
        if level is None:
            branches.append(
                f"SELECT ts_ns AS b, 1 AS gm, {GEXP_SQL} AS gexp, {PIDX_SQL} AS pidx,"
                " exchange, side, 1 AS n, size, notional FROM liquidations"
                f" WHERE ts_ns >= {lo_p} AND ts_ns < {hi_p} AND {where}"
            )
        else:  # span: a constant from LEVELS, never user input
            branches.append(
                "SELECT bucket_ns AS b, gm, gexp, pidx, exchange, side, n, size, notional"
                f" FROM liquidations_rollup WHERE span_s = {int(level[0])}"
                f" AND bucket_ns >= {lo_p} AND bucket_ns < {hi_p} AND {where}"
            )
    if not branches:  # empty range
        return [], []
    st, d1, d5, off = (f"${k0 - 3}", f"${k0 - 2}", f"${k0 - 1}", f"${k0}")
    sql = (
        f"WITH src AS ({' UNION ALL '.join(branches)}), c AS ("
        f" SELECT b - ((b % {st}) + {st}) % {st} AS t,"
        f" pidx // list_extract(CASE WHEN gm = 1 THEN {d1}::BIGINT[] ELSE {d5}::BIGINT[] END,"
        f" gexp - {off}) AS k, exchange, side, n, size, notional FROM src"
        ")"
        " SELECT grouping(t) AS g, t, k, exchange, side, sum(n)::BIGINT,"
        f" {_trim_sql('sum(size)')}, {_trim_sql('sum(notional)')}"
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
        cells.append((t, label, ex, side, n, size, notional))
    return cells, totals


def _query_raw(
    cur: Any,
    symbol: str,
    exchanges: list[str] | None,
    interval: int,
    pbin: Decimal,
    ranges: list[tuple[int, int]],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The same as ``_query_rollup``, straight from ``liquidations`` (any bin/interval)."""
    where, fparams = _filters(symbol, exchanges, 3)
    params: list[Any] = [interval * 1_000_000, pbin, *fparams]
    conds = []
    for lo_ns, hi_ns in ranges:
        params += [lo_ns, hi_ns]
        conds.append(f"(ts_ns >= ${len(params) - 1} AND ts_ns < ${len(params)})")
    time_cond = " OR ".join(conds) or "false"
    sql = (
        "WITH c AS ("
        "SELECT epoch_us(time_bucket(to_microseconds($1::BIGINT), ts,"
        " TIMESTAMP '1970-01-01')) * 1000 AS t,"
        " price - price % $2::DECIMAL(38,18) AS pbin, exchange, side, size, notional"
        f" FROM liquidations WHERE ({time_cond}) AND {where})"
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


def price_range(
    store: Store,
    symbol: str,
    exchanges: list[str] | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> tuple[Decimal, Decimal] | None:
    """Exact lowest and highest liquidation price in ``[start_ns, end_ns)`` (``None``: no rows).

    Read from the rollup's ``pmin``/``pmax`` (whole hours, then minutes) and the raw rows
    of the partial minutes at the ends.
    """
    exch = None if exchanges is None else [str(x) for x in exchanges]
    where, params = _filters(str(symbol), exch, 1)
    if start_ns is None and end_ns is None:
        sql = (
            "SELECT min(pmin), max(pmax) FROM liquidations_rollup"
            f" WHERE span_s = {max(LEVELS)[0]} AND {where}"
        )
    else:
        lo = int(start_ns) if start_ns is not None else -_INT64_MAX
        hi = int(end_ns) if end_ns is not None else _INT64_MAX
        branches = []
        for level, a, b in _segments(lo, hi, sorted(LEVELS, reverse=True)):
            params += [a, b]
            lo_p, hi_p = f"${len(params) - 1}", f"${len(params)}"
            if level is None:
                branches.append(
                    "SELECT min(price) AS lo, max(price) AS hi FROM liquidations"
                    f" WHERE ts_ns >= {lo_p} AND ts_ns < {hi_p} AND {where}"
                )
            else:
                branches.append(
                    "SELECT min(pmin) AS lo, max(pmax) AS hi FROM liquidations_rollup"
                    f" WHERE span_s = {int(level[0])} AND bucket_ns >= {lo_p}"
                    f" AND bucket_ns < {hi_p} AND {where}"
                )
        if not branches:
            return None
        sql = f"SELECT min(lo), max(hi) FROM ({' UNION ALL '.join(branches)})"
    cur = store.cursor()
    try:
        row = cur.execute(sql, params).fetchone()
    finally:
        cur.close()
    if row is None or row[0] is None:
        return None
    return Decimal(row[0]), Decimal(row[1])


@dataclass(slots=True)
class _Part:
    """Cells and (exchange, side) totals of one time span of a heatmap."""

    cells: list[dict[str, Any]]
    totals: list[tuple[str, str, int, str]]
    pmin: Decimal | None
    pmax: Decimal | None


BLOCK_CACHE_SIZE = 2048
"""Most finished blocks (one hour, or one bucket if longer) kept per ``Store``."""

_blocks: weakref.WeakKeyDictionary[Any, OrderedDict[tuple[Any, ...], tuple[int, _Part]]]
_blocks = weakref.WeakKeyDictionary()
_blocks_lock = threading.Lock()


def _compute(
    cur: Any,
    symbol: str,
    exch: list[str] | None,
    interval: int,
    pbin: Decimal,
    ranges: list[tuple[int, int]],
    use_rollup: bool,
) -> _Part:
    """Cells and totals of ``ranges`` (disjoint, ascending) as one part."""
    ranges = [(lo, hi) for lo, hi in ranges if lo < hi]
    got = None
    usable = [lv for lv in LEVELS if interval % lv[0] == 0] if use_rollup else []
    # first every usable level; if the bin is finer than a coarse cell, the 5-digit ones
    fine = [lv for lv in usable if lv[1] == 1]
    for levels in (usable, fine) if fine != usable else (usable,):
        if levels and got is None:
            got = _query_rollup(cur, symbol, exch, interval, pbin, ranges, levels)
    if got is None:
        got = _query_raw(cur, symbol, exch, interval, pbin, ranges)
    rows, totals = got
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
    dec = [Decimal(e) for e in {r[1] for r in rows}]
    return _Part(cells, totals, min(dec, default=None), max(dec, default=None))


def _split(part: _Part, starts: list[int], width: int) -> list[_Part]:
    """Split the cells of ``part`` into the blocks ``[x, x + width)`` for x in ``starts``."""
    out = {x: _Part([], [], None, None) for x in starts}
    sums: dict[int, dict[tuple[str, str], list[Any]]] = {x: {} for x in starts}
    first = starts[0]
    for c in part.cells:
        x = first + (c["t"] - first) // width * width
        blk = out[x]
        blk.cells.append(c)
        acc = sums[x].setdefault((c["exchange"], c["side"]), [0, Decimal(0)])
        acc[0] += c["count"]
        acc[1] += Decimal(c["notional"])
        pb = Decimal(c["price"])
        blk.pmin = pb if blk.pmin is None or pb < blk.pmin else blk.pmin
        blk.pmax = pb if blk.pmax is None or pb > blk.pmax else blk.pmax
    for x, blk in out.items():
        blk.totals = [(ex, side, n, canonical(v)) for (ex, side), (n, v) in sorted(sums[x].items())]
    return [out[x] for x in starts]


def _blocks_of(
    store: Any,
    cur: Any,
    symbol: str,
    exch: list[str] | None,
    interval: int,
    pbin: Decimal,
    starts: list[int],
    width: int,
) -> list[_Part]:
    """Whole blocks ``[x, x + width)``: from the per-Store cache while no write touched
    them since; the others computed together in one query and cached."""
    ex_key = None if exch is None else tuple(sorted(exch))
    keys = [(symbol, ex_key, interval, pbin, x, width) for x in starts]
    found: dict[int, _Part] = {}
    with _blocks_lock:
        cache = _blocks.get(store)
        if cache is None:
            cache = _blocks[store] = OrderedDict()
        hits = {x: cache.get(k) for x, k in zip(starts, keys, strict=True)}
        for k in keys:
            if k in cache:
                cache.move_to_end(k)
    for x, hit in hits.items():
        if hit is not None and not store.liquidations_changed(hit[0], symbol, x, x + width):
            found[x] = hit[1]
    missing = [x for x in starts if x not in found]
    if missing:
        gen = store.liquidations_generation()  # before the query: a later write invalidates
        lo, hi = missing[0], missing[-1] + width
        span = list(range(lo, hi, width))
        whole = _compute(cur, symbol, exch, interval, pbin, [(lo, hi)], True)
        fresh = dict(zip(span, _split(whole, span, width), strict=True))
        with _blocks_lock:
            for x in missing:
                found[x] = fresh[x]
                k = (symbol, ex_key, interval, pbin, x, width)
                cache[k] = (gen, fresh[x])
                cache.move_to_end(k)
            while len(cache) > BLOCK_CACHE_SIZE:
                cache.popitem(last=False)
    return [found[x] for x in starts]


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
    use_cache: bool = True,
) -> dict[str, Any]:
    """The realized layer of ``heatmap_timeseries`` (see the package docstring).

    ``use_rollup=False`` forces the direct query over ``liquidations`` (the reference
    the rollup path is tested against; the numbers are the same). With ``use_cache``
    (and the rollup), whole blocks of the range (one hour, or one bucket when buckets
    are longer) are kept per ``Store`` and reused until ``Store.liquidations_changed``
    reports a write inside them; the partial blocks at the ends are always computed.
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
    sym = str(symbol)
    width = max(interval, 3600) * 1_000_000_000  # a multiple of every bucket <= 1 h
    a, b = -(-lo_ns // width) * width, (hi_ns // width) * width
    cached = (
        use_cache
        and use_rollup
        and interval % 60 == 0
        and a < b
        and hasattr(store, "liquidations_changed")
    )
    cur = store.cursor()
    try:
        if not cached:
            parts = [_compute(cur, sym, exch, interval, pbin, [(lo_ns, hi_ns)], use_rollup)]
        else:
            # the partial blocks at both ends in one query, the whole ones from the cache
            edges = _compute(cur, sym, exch, interval, pbin, [(lo_ns, a), (b, hi_ns)], True)
            head = _Part([c for c in edges.cells if c["t"] < a], [], None, None)
            tail = _Part([c for c in edges.cells if c["t"] >= a], [], None, None)
            edges.cells = []
            starts = list(range(a, b, width))
            blocks = _blocks_of(store, cur, sym, exch, interval, pbin, starts, width)
            head.pmin, head.pmax, head.totals = edges.pmin, edges.pmax, edges.totals
            parts = [head, *blocks, tail]
    finally:
        cur.close()
    cells = [c for p in parts for c in p.cells]
    if not cells:
        return {**empty, "times": times}
    lo_p = min(p.pmin for p in parts if p.pmin is not None)
    hi_p = max(p.pmax for p in parts if p.pmax is not None)
    prices = price_axis(lo_p, hi_p, pbin)
    by_ex: dict[str, dict[str, Any]] = {}
    total_n, total_notional = 0, Decimal(0)
    for ex, side, n, notional_s in (t for p in parts for t in p.totals):
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
