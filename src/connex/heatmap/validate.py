"""Validation of the estimated heatmap against realized liquidations.

Method (walk-forward)
---------------------
Time from ``start_ns`` to ``end_ns`` is split at ``split_ns`` (default: half way); the
part after the split is cut into ``windows`` equal evaluation windows. For each window:

1. Estimate liquidation levels from the trades between ``start_ns`` and the window's
   start (``estimated_levels_db``; the survival filter runs up to that moment).
2. The *universe* is the price bins within ``horizon_pct`` of the reference price (the
   median of the last ``REF_TRADES`` trades before the window): the zones a trader
   would look at.
3. Rank the universe's bins and keep the top ``k`` as the predicted zones. The rank is
   the *expected* liquidation notional: estimated notional (all exchanges and both
   sides together) times the chance that the price reaches the bin's middle during the
   window, ``erfc(d / (sigma * sqrt(2)))`` for a driftless random walk (reflection
   principle), ``d`` the log distance from the reference price and ``sigma`` the
   volatility over the window, extrapolated from the trades before it (1.4826 x the
   median absolute return of ``VOL_SAMPLES`` closes, times sqrt(time)).
   ``rank="notional"`` ranks by estimated notional alone.
4. Count the realized liquidations in the window whose price falls in a predicted zone
   (liquidations outside the universe are misses).

Results over all windows: ``hit_rate`` = hits / realized liquidations (and
``hit_rate_notional``, weighted by notional). Baseline: ``trials`` times, draw the same
number of zones uniformly at random from each window's universe (same bin size,
``random.Random(seed)``) and compute the same overall hit rate; report the mean, the
95th percentile and ``p_value`` (share of random draws at least as good as the
estimate). ``lift = hit_rate / baseline mean``; ``beats_baseline`` is true when the
estimate's hit rate is above the baseline's 95th percentile.
"""

from __future__ import annotations

import decimal
import itertools
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connex.store.rows import canonical

from .estimate import EstimateParams, LevelBin, estimated_levels_db
from .realized import MAX_PRICE_BINS, check_price_bin

if TYPE_CHECKING:
    import duckdb

    from connex.store import Store

__all__ = ["REF_TRADES", "VOL_SAMPLES", "validate", "validate_levels"]

_CTX = decimal.Context(prec=80)

VOL_SAMPLES = 200
"""Price samples before a window used to estimate the volatility."""

REF_TRADES = 50
"""The reference price is the median of this many last trades before a window."""


def _bin(p: Decimal, pbin: Decimal) -> Decimal:
    return p - _CTX.remainder(p, pbin)


@dataclass(slots=True)
class _Score:
    zones: list[Decimal]
    zone_notional: list[Decimal]
    n_universe: int
    total: int
    total_notional: Decimal
    hits: int
    hits_notional: Decimal
    in_universe: int
    baseline_hits: list[int]


def _score(
    levels: Sequence[LevelBin],
    realized: Sequence[tuple[Decimal, int, Decimal]],
    ref_price: Decimal,
    pbin: Decimal,
    k: int,
    h: Decimal,
    rnd: random.Random,
    trials: int,
    sigma_horizon: float | None,
) -> _Score:
    lo = _bin(_CTX.multiply(ref_price, 1 - h), pbin)
    hi = _bin(_CTX.multiply(ref_price, 1 + h), pbin)
    n_universe = int(_CTX.divide_int(hi - lo, pbin)) + 1
    if n_universe > MAX_PRICE_BINS:
        raise ValueError("too many bins in the horizon; choose a larger price_bin")
    universe = [lo + i * pbin for i in range(n_universe)]
    score: dict[Decimal, Decimal] = {}
    for lv in levels:
        if lo <= lv.price <= hi:
            score[lv.price] = score.get(lv.price, Decimal(0)) + lv.notional
    half = pbin / 2
    rank: dict[Decimal, float] = {}
    for b, v in score.items():
        if v <= 0:
            continue
        reach = 1.0
        if sigma_horizon is not None:
            d = abs(math.log(float(b + half) / float(ref_price)))
            reach = math.erfc(d / (sigma_horizon * math.sqrt(2))) if sigma_horizon > 0 else 0.0
        rank[b] = float(v) * reach
    zones = sorted((b for b, r in rank.items() if r > 0), key=lambda b: (-rank[b], b))[:k]
    counts: dict[Decimal, int] = {}
    notionals: dict[Decimal, Decimal] = {}
    for price, n, notional in realized:
        b = _bin(price, pbin)
        counts[b] = counts.get(b, 0) + int(n)
        notionals[b] = notionals.get(b, Decimal(0)) + notional
    base = (
        [sum(counts.get(z, 0) for z in rnd.sample(universe, len(zones))) for _ in range(trials)]
        if zones
        else [0] * trials
    )
    return _Score(
        zones=zones,
        zone_notional=[score[z] for z in zones],
        n_universe=n_universe,
        total=sum(counts.values()),
        total_notional=sum(notionals.values(), Decimal(0)),
        hits=sum(counts.get(z, 0) for z in zones),
        hits_notional=sum((notionals.get(z, Decimal(0)) for z in zones), Decimal(0)),
        in_universe=sum(c for b, c in counts.items() if lo <= b <= hi),
        baseline_hits=base,
    )


def _summary(
    total: int,
    hits: int,
    hits_notional: Decimal,
    total_notional: Decimal,
    base_hits: list[int],
    seed: int,
    trials: int,
    k: int,
) -> dict[str, Any]:
    hit = hits / total if total else 0.0
    base = [b / total if total else 0.0 for b in base_hits]
    ordered = sorted(base)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    mean = statistics.fmean(base)
    return {
        "realized_count": total,
        "realized_notional": canonical(total_notional),
        "hits": hits,
        "hit_rate": hit,
        "hit_rate_notional": float(hits_notional / total_notional) if total_notional else 0.0,
        "baseline": {
            "method": "uniform-random zones",
            "k": k,
            "seed": seed,
            "trials": trials,
            "mean": mean,
            "p95": p95,
            "stdev": statistics.pstdev(base),
        },
        "p_value": sum(1 for b in base if b >= hit) / len(base),
        "lift": (hit / mean) if mean > 0 else None,
        "beats_baseline": total > 0 and hit > p95,
    }


def validate_levels(
    levels: Sequence[LevelBin],
    realized: Sequence[tuple[Decimal, int, Decimal]],
    ref_price: Decimal,
    price_bin: Decimal | int | str,
    *,
    k: int = 10,
    horizon_pct: Decimal | str = Decimal("0.05"),
    seed: int = 0,
    trials: int = 1000,
    sigma_horizon: float | None = None,
) -> dict[str, Any]:
    """Score ``levels`` against ``realized`` ``(price, count, notional)`` (pure, one window).

    ``realized`` prices are binned here; ``sigma_horizon`` is the log-price volatility
    over the window (``None``: rank zones by notional alone).
    """
    pbin = check_price_bin(price_bin)
    h = Decimal(str(horizon_pct))
    if k < 1 or trials < 1 or not (0 < h < 1):
        raise ValueError("k and trials must be >= 1 and 0 < horizon_pct < 1")
    sc = _score(levels, realized, ref_price, pbin, k, h, random.Random(seed), trials, sigma_horizon)
    return {
        "kind": "estimate-validation",
        "price_bin": canonical(pbin),
        "k": k,
        "horizon_pct": canonical(h),
        "rank": "notional" if sigma_horizon is None else "expected",
        "ref_price": canonical(ref_price),
        "sigma_horizon": sigma_horizon,
        "universe_bins": sc.n_universe,
        "zones": [canonical(z) for z in sc.zones],
        "zone_notional": [canonical(v) for v in sc.zone_notional],
        "realized_in_universe": sc.in_universe,
        **_summary(
            sc.total,
            sc.hits,
            sc.hits_notional,
            sc.total_notional,
            sc.baseline_hits,
            seed,
            trials,
            len(sc.zones),
        ),
    }


def _window_inputs(
    cur: duckdb.DuckDBPyConnection,
    q: list[Any],
    ex_filter: str,
    pbin: Decimal,
    start: int,
    split: int,
    end: int,
    rank: str,
) -> tuple[Decimal | None, list[tuple[Decimal, int, Decimal]], float | None]:
    n = len(q)
    last = cur.execute(
        f"SELECT price FROM trades WHERE symbol = $1{ex_filter}"
        f" AND ts_ns >= ${n + 1} AND ts_ns < ${n + 2}"
        f" ORDER BY ts_ns DESC, trade_id DESC LIMIT {REF_TRADES}",
        [*q, start, split],
    ).fetchall()
    if not last:
        return None, [], None
    ref = statistics.median_low(r[0] for r in last)
    realized = [
        (p, int(c), nt)
        for p, c, nt in cur.execute(
            f"SELECT price, count(*), sum(notional) FROM liquidations"
            f" WHERE symbol = $1{ex_filter} AND ts_ns >= ${n + 1} AND ts_ns < ${n + 2} GROUP BY 1",
            [*q, split, end],
        ).fetchall()
    ]
    sigma = None
    if rank == "expected":
        step = max(1, (split - start) // VOL_SAMPLES)
        closes = [
            float(r[1])
            for r in cur.execute(
                f"SELECT ts_ns // ${n + 3}, arg_max(price, ts_ns) FROM trades"
                f" WHERE symbol = $1{ex_filter} AND ts_ns >= ${n + 1} AND ts_ns < ${n + 2}"
                " GROUP BY 1 ORDER BY 1",
                [*q, start, split, step],
            ).fetchall()
        ]
        rets = [math.log(b / a) for a, b in itertools.pairwise(closes) if a > 0 and b > 0]
        # robust scale (median absolute return): one stale print must not blow it up
        sigma_step = 1.4826 * statistics.median(abs(r) for r in rets) if rets else 0.0
        sigma = sigma_step * math.sqrt(max(1.0, (end - split) / step))
    return ref, realized, sigma


def validate(
    store: Store,
    symbol: str,
    *,
    exchanges: list[str] | None = None,
    start_ns: int | None = None,
    split_ns: int | None = None,
    end_ns: int | None = None,
    price_bin: Decimal | int | str = 50,
    k: int = 10,
    horizon_pct: Decimal | str = Decimal("0.05"),
    params: EstimateParams | None = None,
    seed: int = 0,
    trials: int = 1000,
    train_fraction: float = 0.5,
    windows: int = 4,
    rank: str = "expected",
) -> dict[str, Any]:
    """Walk-forward validation of the trade-based estimate on stored data (module docstring).

    Missing ``start_ns``/``end_ns`` come from the stored trades and liquidations;
    ``split_ns`` defaults to ``train_fraction`` of the way from start to end. Returns a
    JSON-able dict with the overall result and one entry per window. Raises
    ``LookupError`` when nothing is stored for ``symbol``.
    """
    pbin = check_price_bin(price_bin)
    params = params or EstimateParams()
    h = Decimal(str(horizon_pct))
    if rank not in ("expected", "notional"):
        raise ValueError("rank must be 'expected' or 'notional'")
    if k < 1 or trials < 1 or windows < 1 or not (0 < h < 1) or not (0 < train_fraction < 1):
        raise ValueError("k, trials, windows >= 1; 0 < horizon_pct < 1; 0 < train_fraction < 1")
    q: list[Any] = [symbol]
    ex_filter = ""
    if exchanges is not None:
        q.append([str(x) for x in exchanges])
        ex_filter = " AND list_contains($2::VARCHAR[], exchange)"
    rnd = random.Random(seed)
    per: list[dict[str, Any]] = []
    total = hits = 0
    total_notional = hits_notional = Decimal(0)
    base_hits = [0] * trials
    cur = store.cursor()
    try:
        lo_hi = cur.execute(
            "SELECT min(lo), max(hi) FROM ("
            f" SELECT min(ts_ns) AS lo, max(ts_ns) AS hi FROM trades WHERE symbol = $1{ex_filter}"
            " UNION ALL SELECT min(ts_ns), max(ts_ns) FROM liquidations"
            f" WHERE symbol = $1{ex_filter})",
            q,
        ).fetchone()
        if lo_hi is None or lo_hi[0] is None:
            raise LookupError(f"no trades or liquidations stored for {symbol}")
        start = int(start_ns) if start_ns is not None else int(lo_hi[0])
        end = int(end_ns) if end_ns is not None else int(lo_hi[1]) + 1
        split = (
            int(split_ns) if split_ns is not None else start + int((end - start) * train_fraction)
        )
        if not start < split < end:
            raise ValueError("need start_ns < split_ns < end_ns")
        width = (end - split) // windows
        for w in range(windows):
            w_start = split + w * width
            w_end = end if w == windows - 1 else w_start + width
            ref, realized, sigma = _window_inputs(
                cur, q, ex_filter, pbin, start, w_start, w_end, rank
            )
            if ref is None:
                continue
            levels = estimated_levels_db(
                store, symbol, pbin, params, exchanges=exchanges, start_ns=start, end_ns=w_start
            )
            sc = _score(levels, realized, ref, pbin, k, h, rnd, trials, sigma)
            total += sc.total
            hits += sc.hits
            total_notional += sc.total_notional
            hits_notional += sc.hits_notional
            base_hits = [a + b for a, b in zip(base_hits, sc.baseline_hits, strict=True)]
            per.append(
                {
                    "start_ns": w_start,
                    "end_ns": w_end,
                    "ref_price": canonical(ref),
                    "sigma_horizon": sigma,
                    "universe_bins": sc.n_universe,
                    "zones": [canonical(z) for z in sc.zones],
                    "zone_notional": [canonical(v) for v in sc.zone_notional],
                    "realized_count": sc.total,
                    "realized_in_universe": sc.in_universe,
                    "hits": sc.hits,
                    "hit_rate": sc.hits / sc.total if sc.total else 0.0,
                    "baseline_mean": statistics.fmean(sc.baseline_hits) / sc.total
                    if sc.total
                    else 0.0,
                }
            )
    finally:
        cur.close()
    if not per:
        raise LookupError(f"no trades of {symbol} before the split")
    return {
        "kind": "estimate-validation",
        "symbol": symbol,
        "exchanges": exchanges,
        "start_ns": start,
        "split_ns": split,
        "end_ns": end,
        "price_bin": canonical(pbin),
        "k": k,
        "horizon_pct": canonical(h),
        "rank": rank,
        "assumptions": params.assumptions(),
        **_summary(total, hits, hits_notional, total_notional, base_hits, seed, trials, k),
        "windows": per,
    }
