"""``heatmap_timeseries``: realized and estimated layers on one time x price grid.

The estimated layer over time
-----------------------------
For each time bucket the estimated layer shows the liquidation levels still open at the
bucket's end. Per exchange and bucket, the entries (stored trades; or, when no trades
are stored, open-interest growth from stored mark samples) are grouped by price bin at
their volume-weighted price, projected to the leverage tiers (``estimate.py``), and
kept until a later bucket's low (for longs) or high (for shorts) reaches the middle of
the level's bin. Crossing inside the entry's own bucket is not checked (the order of
events inside a bucket is not kept at this resolution).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connex.model import MarkPrice
from connex.store.rows import canonical

from .estimate import EstimateParams, entries_from_open_interest, liquidation_price
from .realized import (
    check_interval,
    check_price_bin,
    price_axis,
    realized_heatmap,
    resolve_range,
    time_axis,
)

if TYPE_CHECKING:
    from connex.store import Store

__all__ = ["heatmap_timeseries"]

_CTX = decimal.Context(prec=80)
_Q18 = Decimal(1).scaleb(-18)

# exchange -> bucket start -> [(price, notional)] / (low, high)
_Groups = dict[str, dict[int, list[tuple[Decimal, Decimal]]]]
_Ranges = dict[str, dict[int, tuple[Decimal, Decimal]]]


def heatmap_timeseries(
    store: Store,
    symbol: str,
    exchanges: list[str] | None = None,
    interval_s: int = 300,
    price_bin: Decimal | int | str = 50,
    start_ns: int | None = None,
    end_ns: int | None = None,
    *,
    estimated: bool = True,
    params: EstimateParams | None = None,
) -> dict[str, Any]:
    """Realized + estimated liquidation heatmap (the API contract; see the package docstring).

    Raises:
        ValueError: ``interval_s`` not whitelisted, bad ``price_bin``, or the grid would
            exceed ``MAX_TIME_BUCKETS``/``MAX_PRICE_BINS``.
    """
    interval = check_interval(interval_s)
    pbin = check_price_bin(price_bin)
    params = params or EstimateParams()
    exch = None if exchanges is None else sorted({str(x) for x in exchanges})
    rng = resolve_range(store, "liquidations", symbol, exch, start_ns, end_ns)
    if estimated and (start_ns is None or end_ns is None):
        rt = resolve_range(store, "trades", symbol, exch, start_ns, end_ns)
        if rt is not None:
            rng = rt if rng is None else (min(rng[0], rt[0]), max(rng[1], rt[1]))
    if rng is None:
        lo_ns, hi_ns = (int(start_ns or 0), int(end_ns or 0))
    else:
        lo_ns, hi_ns = rng
    realized = realized_heatmap(store, symbol, exch, interval, pbin, lo_ns, hi_ns)
    est = (
        _estimated_layer(store, symbol, exch, interval, pbin, lo_ns, hi_ns, params)
        if estimated
        else _empty_estimate(params, "disabled")
    )
    present = sorted(set(realized["by_exchange"]) | set(est["by_exchange"]))
    return {
        "symbol": symbol,
        "exchanges": exch if exch is not None else present,
        "interval_s": interval,
        "price_bin": canonical(pbin),
        "start_ns": lo_ns,
        "end_ns": hi_ns,
        "realized": realized,
        "estimated": est,
    }


def _empty_estimate(params: EstimateParams, source: str) -> dict[str, Any]:
    return {
        "kind": "estimate",
        "source": source,
        "assumptions": params.assumptions(),
        "times": [],
        "prices": [],
        "cells": [],
        "by_exchange": {},
    }


def _where(symbol: str, exchanges: list[str] | None, first: int) -> tuple[str, list[Any]]:
    w = [f"symbol = ${first}"]
    p: list[Any] = [symbol]
    if exchanges is not None:
        p.append(exchanges)
        w.append(f"list_contains(${first + 1}::VARCHAR[], exchange)")
    return " AND ".join(w), p


def _estimated_layer(
    store: Store,
    symbol: str,
    exchanges: list[str] | None,
    interval: int,
    pbin: Decimal,
    lo_ns: int,
    hi_ns: int,
    params: EstimateParams,
) -> dict[str, Any]:
    if hi_ns <= lo_ns:
        return _empty_estimate(params, "none")
    times = time_axis(lo_ns, hi_ns, interval)
    where, fp = _where(symbol, exchanges, 5)
    base = [interval * 1_000_000, pbin, lo_ns, hi_ns, *fp]
    bucket = "epoch_us(time_bucket(to_microseconds($1::BIGINT), ts, TIMESTAMP '1970-01-01')) * 1000"
    cur = store.cursor()
    try:
        rows = cur.execute(
            f"SELECT exchange, {bucket} AS t, price - price % $2::DECIMAL(38,18) AS pb,"
            " sum(notional), sum(size), min(price), max(price)"
            f" FROM trades WHERE ts_ns >= $3 AND ts_ns < $4 AND {where} GROUP BY ALL",
            base,
        ).fetchall()
        source = "trades"
        groups: _Groups = {}
        ranges: _Ranges = {}
        if rows:
            for ex, t, _pb, notional, size, pmin, pmax in rows:
                vwap = _CTX.divide(notional, size) if size else pmin
                groups.setdefault(ex, {}).setdefault(int(t), []).append((vwap, notional))
                _widen(ranges, ex, int(t), pmin, pmax)
        else:
            mwhere, mfp = _where(symbol, exchanges, 4)
            marks = cur.execute(
                f"SELECT exchange, ts_ns, {bucket} AS t, mark_price, open_interest FROM funding"
                " WHERE kind = 'mark' AND mark_price IS NOT NULL"
                f" AND ts_ns >= $2 AND ts_ns < $3 AND {mwhere}"
                " ORDER BY ts_ns",
                [interval * 1_000_000, lo_ns, hi_ns, *mfp],
            ).fetchall()
            source = "open_interest" if any(m[4] is not None for m in marks) else "none"
            bucket_of: dict[tuple[str, int], int] = {}
            for ex, ts, t, mark, _oi in marks:
                bucket_of[(ex, int(ts))] = int(t)
                _widen(ranges, ex, int(t), mark, mark)
            for e in entries_from_open_interest(_marks(symbol, marks)):
                t = bucket_of[(e.exchange, e.ts_ns)]
                groups.setdefault(e.exchange, {}).setdefault(t, []).append((e.price, e.notional))
    finally:
        cur.close()
    if not groups:
        return {**_empty_estimate(params, source), "times": times}
    return _project(groups, ranges, times, pbin, params, source)


def _marks(symbol: str, rows: Iterable[tuple[Any, ...]]) -> Iterable[MarkPrice]:
    for ex, ts, _t, mark, oi in rows:
        yield MarkPrice(
            exchange=ex, symbol=symbol, mark_price=mark, open_interest=oi, ts_exchange=int(ts)
        )


def _widen(ranges: _Ranges, ex: str, t: int, lo: Decimal, hi: Decimal) -> None:
    cur = ranges.setdefault(ex, {}).get(t)
    ranges[ex][t] = (lo, hi) if cur is None else (min(cur[0], lo), max(cur[1], hi))


def _project(
    groups: _Groups,
    ranges: _Ranges,
    times: list[int],
    pbin: Decimal,
    params: EstimateParams,
    source: str,
) -> dict[str, Any]:
    half = pbin / 2
    # per (side, tier) multiplier of an entry's notional, and the level factor
    legs = []
    for lev, w in zip(params.tiers, params.weights, strict=True):
        for long in (True, False):
            share = params.long_share if long else 1 - params.long_share
            if w and share:
                legs.append((long, lev, _CTX.multiply(w, share)))
    cells: list[dict[str, Any]] = []
    by_ex: dict[str, dict[str, Decimal]] = {}
    pmin: Decimal | None = None
    pmax: Decimal | None = None
    for ex in sorted(groups):
        active: dict[tuple[str, Decimal], Decimal] = {}
        g, r = groups[ex], ranges.get(ex, {})
        for t in times:
            lo_hi = r.get(t)
            if lo_hi is not None and active:
                lo, hi = lo_hi
                for key in [
                    k
                    for k in active
                    if (k[0] == "long" and lo <= k[1] + half)
                    or (k[0] == "short" and hi >= k[1] + half)
                ]:
                    del active[key]
            for price, notional in g.get(t, ()):
                for long, lev, mult in legs:
                    level = liquidation_price(price, lev, params.mmr, long=long)
                    b = level - _CTX.remainder(level, pbin)
                    key = ("long" if long else "short", b)
                    active[key] = _CTX.add(
                        active.get(key, Decimal(0)), _CTX.multiply(notional, mult)
                    )
            for (side, b), v in sorted(active.items(), key=lambda kv: (kv[0][1], kv[0][0])):
                cells.append(
                    {
                        "t": t,
                        "price": canonical(b),
                        "exchange": ex,
                        "side": side,
                        "notional": canonical(v.quantize(_Q18, context=_CTX)),
                    }
                )
                pmin = b if pmin is None or b < pmin else pmin
                pmax = b if pmax is None or b > pmax else pmax
        agg = {"notional": Decimal(0), "long_notional": Decimal(0), "short_notional": Decimal(0)}
        for (side, _b), v in active.items():
            agg["notional"] += v
            agg[f"{side}_notional"] += v
        by_ex[ex] = agg
    cells.sort(key=lambda c: (c["t"], Decimal(c["price"]), c["exchange"], c["side"]))
    prices = price_axis(pmin, pmax, pbin) if pmin is not None and pmax is not None else []
    return {
        "kind": "estimate",
        "source": source,
        "assumptions": params.assumptions(),
        "times": times,
        "prices": prices,
        "cells": cells,
        "by_exchange": {
            ex: {k: canonical(v.quantize(_Q18, context=_CTX)) for k, v in a.items()}
            for ex, a in by_ex.items()
        },
    }
