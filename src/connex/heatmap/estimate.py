"""Estimated liquidation levels: where leveraged positions *would* be liquidated.

This is a model, not data; everything it returns is labelled ``estimate``.

The model
---------
1. **Entries.** Positions are assumed to be opened where trading happened
   (``entries_from_trades``: each trade's notional opens that much position) or where
   open interest grew (``entries_from_open_interest``: an increase of OI between two mark
   samples opens ``delta_OI * mark`` at the mark; a decrease closes earlier entries
   pro rata).
2. **Leverage tiers.** Each entry's notional is split over the tiers
   ``5x, 10x, 25x, 50x, 100x`` by ``weights`` (equal by default) and between longs and
   shorts by ``long_share`` (0.5 by default: every trade has a buyer and a seller).
3. **Liquidation price** (isolated margin, linear contract, maintenance margin rate
   ``mmr``): a long opened at ``P`` with leverage ``L`` is liquidated at
   ``P * (1 - 1/L + mmr)``, a short at ``P * (1 + 1/L - mmr)`` (the same rule the
   simulator uses).
4. **Survival.** A level that the price has already reached after the entry (the
   running low for longs, the running high for shorts, per exchange) is removed: that
   position is gone. The price path is the entries' own prices unless one is given.
5. **Bins.** Levels are summed into price bins ``[floor(level / bin) * bin, + bin)`` per
   exchange and position side.

Not modelled: cross margin, funding payments, partial closes, tier-dependent
maintenance margins, positions opened before the data starts.
"""

from __future__ import annotations

import bisect
import decimal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connex.model import MarkPrice, Side, Trade
from connex.store.rows import canonical

from .realized import check_price_bin

if TYPE_CHECKING:
    from connex.store import Store

__all__ = [
    "DEFAULT_MMR",
    "DEFAULT_TIER_WEIGHTS",
    "LEVERAGE_TIERS",
    "Entry",
    "EstimateParams",
    "LevelBin",
    "entries_from_open_interest",
    "entries_from_trades",
    "estimate_levels",
    "estimated_levels_db",
    "liquidation_price",
]

LEVERAGE_TIERS: tuple[int, ...] = (5, 10, 25, 50, 100)
DEFAULT_TIER_WEIGHTS: tuple[Decimal, ...] = tuple(Decimal("0.2") for _ in LEVERAGE_TIERS)
DEFAULT_MMR = Decimal("0.004")

_CTX = decimal.Context(prec=80)
_Q18 = Decimal(1).scaleb(-18)


@dataclass(frozen=True, slots=True)
class EstimateParams:
    """Assumptions of the estimate (see the module docstring)."""

    tiers: tuple[int, ...] = LEVERAGE_TIERS
    weights: tuple[Decimal, ...] = DEFAULT_TIER_WEIGHTS
    mmr: Decimal = DEFAULT_MMR
    long_share: Decimal = Decimal("0.5")
    survival: bool = True

    def __post_init__(self) -> None:
        if len(self.tiers) != len(self.weights) or not self.tiers:
            raise ValueError("one weight per leverage tier")
        if any(t < 1 for t in self.tiers) or any(w < 0 for w in self.weights):
            raise ValueError("tiers must be >= 1 and weights >= 0")
        if sum(self.weights) != 1:
            raise ValueError("tier weights must sum to 1")
        if not (0 <= self.long_share <= 1) or not (0 <= self.mmr < 1):
            raise ValueError("long_share must be in [0, 1] and mmr in [0, 1)")

    def assumptions(self) -> dict[str, Any]:
        """JSON-able description (goes into every estimated layer)."""
        return {
            "leverage_tiers": list(self.tiers),
            "tier_weights": [canonical(w) for w in self.weights],
            "maintenance_margin": canonical(self.mmr),
            "long_share": canonical(self.long_share),
            "survival_filter": self.survival,
            "liquidation_price": "long: P*(1-1/L+mmr), short: P*(1+1/L-mmr)",
        }


def liquidation_price(
    entry: Decimal, leverage: int, mmr: Decimal = DEFAULT_MMR, *, long: bool
) -> Decimal:
    """Liquidation price of a position opened at ``entry`` (isolated, linear)."""
    inv = _CTX.divide(Decimal(1), Decimal(leverage))
    factor = (1 - inv + mmr) if long else (1 + inv - mmr)
    return _CTX.multiply(entry, factor)


@dataclass(frozen=True, slots=True)
class Entry:
    """Position notional assumed opened at ``price`` at ``ts_ns`` on ``exchange``.

    ``long_share`` overrides ``EstimateParams.long_share`` for this entry.
    """

    exchange: str
    price: Decimal
    notional: Decimal
    ts_ns: int
    long_share: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LevelBin:
    """Estimated notional resting at liquidation levels in ``[price, price + bin)``."""

    exchange: str
    side: str  # position side: "long" | "short"
    price: Decimal  # the bin's lower edge
    notional: Decimal
    by_tier: dict[int, Decimal] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "side": self.side,
            "price": canonical(self.price),
            "notional": canonical(self.notional),
            "by_tier": {str(k): canonical(v) for k, v in sorted(self.by_tier.items())},
        }


def entries_from_trades(
    trades: Iterable[Trade], *, taker_long_share: Decimal | None = None
) -> list[Entry]:
    """One entry per trade (notional = price * size), in the given order.

    ``taker_long_share``: when set, a taker buy puts that share of its notional on the
    long side (a taker sell on the short side) instead of the default split.
    """
    out = []
    for t in trades:
        share = None
        if taker_long_share is not None:
            share = taker_long_share if t.side is Side.BUY else 1 - taker_long_share
        out.append(
            Entry(
                t.exchange,
                t.price,
                _CTX.multiply(t.price, t.size),
                t.ts_exchange or t.ts_local,
                share,
            )
        )
    return out


def entries_from_open_interest(marks: Iterable[MarkPrice]) -> list[Entry]:
    """Entries from open-interest changes between successive mark samples.

    Per (exchange, symbol), in time order: an OI increase ``d`` (base units) opens
    ``d * mark`` at the mark; a decrease closes every earlier entry pro rata
    (notional scaled by ``new_oi / old_oi``). Samples without OI are skipped.
    """
    by_key: dict[tuple[str, str], list[MarkPrice]] = {}
    for m in marks:
        if m.open_interest is not None:
            by_key.setdefault((m.exchange, m.symbol), []).append(m)
    out: list[Entry] = []
    for samples in by_key.values():
        samples.sort(key=lambda m: m.ts_exchange or m.ts_local)
        raw: list[tuple[MarkPrice, Decimal, Decimal]] = []  # sample, notional, scale at creation
        scale = Decimal(1)
        prev: Decimal | None = None
        for m in samples:
            oi = m.open_interest
            assert oi is not None
            if prev is not None:
                if oi > prev:
                    raw.append((m, _CTX.multiply(oi - prev, m.mark_price), scale))
                elif oi < prev and prev > 0:
                    scale = _CTX.multiply(scale, _CTX.divide(oi, prev))
            prev = oi
        for m, notional, created in raw:
            n = (
                _CTX.divide(_CTX.multiply(notional, scale), created).quantize(_Q18, context=_CTX)
                if created
                else Decimal(0)
            )
            if n > 0:
                out.append(Entry(m.exchange, m.mark_price, n, m.ts_exchange or m.ts_local))
    out.sort(key=lambda e: e.ts_ns)
    return out


def _bin(price: Decimal, price_bin: Decimal) -> Decimal:
    return (
        price - _CTX.remainder(price, price_bin)
        if price >= 0
        else _CTX.multiply(_CTX.divide_int(price, price_bin) - 1, price_bin)
    )


def estimate_levels(
    entries: Sequence[Entry],
    price_bin: Decimal | int | str,
    params: EstimateParams | None = None,
    *,
    path: Sequence[tuple[int, Decimal]] | None = None,
    as_of_ns: int | None = None,
) -> list[LevelBin]:
    """Project ``entries`` to binned liquidation levels (pure function, exact decimals).

    Args:
        entries: assumed position openings (any order; sorted by time, stably).
        price_bin: bin size.
        params: the assumptions (defaults: tiers 5/10/25/50/100, equal weights, mmr 0.004).
        path: ``(ts_ns, price)`` points used by the survival filter for every exchange;
            default: each exchange's own entries (strictly later ones).
        as_of_ns: ignore entries and path points after this time.

    Returns:
        ``LevelBin``s sorted by (exchange, side, price); bins with zero notional omitted.
    """
    pbin = check_price_bin(price_bin)
    params = params or EstimateParams()
    ents = [e for e in entries if as_of_ns is None or e.ts_ns <= as_of_ns]
    ents = sorted(ents, key=lambda e: e.ts_ns)
    by_ex: dict[str, list[Entry]] = {}
    for e in ents:
        by_ex.setdefault(e.exchange, []).append(e)
    ext_path = None
    if path is not None:
        ext_path = sorted(p for p in path if as_of_ns is None or p[0] <= as_of_ns)
    acc: dict[tuple[str, str, Decimal], dict[int, Decimal]] = {}
    for ex, lst in by_ex.items():
        if ext_path is not None:
            ts_list = [t for t, _ in ext_path]
            suf_lo, suf_hi = _suffix([p for _, p in ext_path])
            nxt = [bisect.bisect_right(ts_list, e.ts_ns) for e in lst]
        else:  # the exchange's own strictly later entries
            suf_lo, suf_hi = _suffix([e.price for e in lst])
            nxt = list(range(1, len(lst) + 1))
        for i, e in enumerate(lst):
            lo, hi = (suf_lo[nxt[i]], suf_hi[nxt[i]]) if params.survival else (None, None)
            share_long = params.long_share if e.long_share is None else e.long_share
            for lev, w in zip(params.tiers, params.weights, strict=True):
                if not w:
                    continue
                for long, share in ((True, share_long), (False, 1 - share_long)):
                    if not share:
                        continue
                    level = liquidation_price(e.price, lev, params.mmr, long=long)
                    if long and lo is not None and lo <= level:
                        continue
                    if not long and hi is not None and hi >= level:
                        continue
                    key = (ex, "long" if long else "short", _bin(level, pbin))
                    tiers = acc.setdefault(key, {})
                    tiers[lev] = _CTX.add(
                        tiers.get(lev, Decimal(0)),
                        _CTX.multiply(_CTX.multiply(e.notional, w), share),
                    )
    out = []
    for (ex, side, p), tiers in sorted(acc.items()):
        total = sum(tiers.values(), Decimal(0))
        if total:
            out.append(LevelBin(ex, side, p, _q(total), {k: _q(v) for k, v in tiers.items()}))
    return out


def _q(d: Decimal) -> Decimal:
    return d.quantize(_Q18, context=_CTX)


def _suffix(prices: Sequence[Decimal]) -> tuple[list[Decimal | None], list[Decimal | None]]:
    """suffix min/max: index i covers prices[i:]; index len covers nothing (None)."""
    n = len(prices)
    lo: list[Decimal | None] = [None] * (n + 1)
    hi: list[Decimal | None] = [None] * (n + 1)
    for i in range(n - 1, -1, -1):
        p = prices[i]
        nxt_lo, nxt_hi = lo[i + 1], hi[i + 1]
        lo[i] = p if nxt_lo is None or p < nxt_lo else nxt_lo
        hi[i] = p if nxt_hi is None or p > nxt_hi else nxt_hi
    return lo, hi


def estimated_levels_db(
    store: Store,
    symbol: str,
    price_bin: Decimal | int | str,
    params: EstimateParams | None = None,
    *,
    exchanges: list[str] | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> list[LevelBin]:
    """``estimate_levels`` over stored trades, computed in DuckDB.

    Same model with trades as entries (constant ``long_share``) and each exchange's own
    later trades as the survival path; levels, survival and bins are computed in SQL
    (window ``min``/``max`` over the following trades), tier weights in exact Python
    decimals. Gives the same bins as ``estimate_levels(entries_from_trades(...))``.
    """
    pbin = check_price_bin(price_bin)
    params = params or EstimateParams()
    tiers, factors_long, factors_short = [], [], []
    for lev in params.tiers:
        tiers.append(int(lev))
        inv = _CTX.divide(Decimal(1), Decimal(lev))
        factors_long.append(1 - inv + params.mmr)
        factors_short.append(1 + inv - params.mmr)
    where = ["symbol = $1", "ts_ns >= $2", "ts_ns < $3"]
    q: list[Any] = [
        str(symbol),
        int(start_ns) if start_ns is not None else -(2**63) + 1,
        int(end_ns) if end_ns is not None else 2**63 - 1,
    ]
    if exchanges is not None:
        q.append([str(x) for x in exchanges])
        where.append(f"list_contains(${len(q)}::VARCHAR[], exchange)")
    base = len(q)
    q += [tiers, factors_long, factors_short, pbin, params.survival]
    t, fl, fs, b, surv = (f"${base + i}" for i in range(1, 6))
    sql = f"""
        WITH t AS (
            SELECT exchange, price, notional,
                   min(price) OVER w AS fut_lo, max(price) OVER w AS fut_hi
            FROM trades WHERE {" AND ".join(where)}
            WINDOW w AS (PARTITION BY exchange ORDER BY ts_ns, trade_id
                         ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
        ),
        tiers AS (
            SELECT unnest({t}::INTEGER[]) AS lev,
                   unnest({fl}::DECIMAL(18,12)[]) AS f_long,
                   unnest({fs}::DECIMAL(18,12)[]) AS f_short
        ),
        lv AS (
            SELECT exchange, 'long' AS side, lev, notional,
                   CAST(CAST(price AS DECIMAL(38,12)) * f_long AS DECIMAL(38,18)) AS level,
                   fut_lo AS lo, NULL::DECIMAL(38,18) AS hi
            FROM t, tiers
            UNION ALL
            SELECT exchange, 'short' AS side, lev, notional,
                   CAST(CAST(price AS DECIMAL(38,12)) * f_short AS DECIMAL(38,18)) AS level,
                   NULL::DECIMAL(38,18) AS lo, fut_hi AS hi
            FROM t, tiers
        )
        SELECT exchange, side, lev, level - level % {b}::DECIMAL(38,18) AS pbin, sum(notional)
        FROM lv
        WHERE NOT {surv}::BOOLEAN OR (side = 'long' AND (lo IS NULL OR lo > level))
                                 OR (side = 'short' AND (hi IS NULL OR hi < level))
        GROUP BY ALL
    """
    cur = store.cursor()
    try:
        rows = cur.execute(sql, q).fetchall()
    finally:
        cur.close()
    weight = dict(zip(params.tiers, params.weights, strict=True))
    acc: dict[tuple[str, str, Decimal], dict[int, Decimal]] = {}
    for ex, side, lev, pb, notional in rows:
        share = params.long_share if side == "long" else 1 - params.long_share
        v = _CTX.multiply(_CTX.multiply(notional, weight[lev]), share)
        if v:
            tiers_acc = acc.setdefault((ex, side, pb), {})
            tiers_acc[lev] = _CTX.add(tiers_acc.get(lev, Decimal(0)), v)
    out = []
    for (ex, side, p), tv in sorted(acc.items()):
        total = sum(tv.values(), Decimal(0))
        if total:
            out.append(LevelBin(ex, side, p, _q(total), {k: _q(v) for k, v in tv.items()}))
    return out
