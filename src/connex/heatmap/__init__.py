"""Liquidation heatmaps: *realized* (what was liquidated) and *estimated* (where
leveraged positions would be liquidated), and a validation of the estimate.

The two layers are never mixed: realized numbers come only from stored ``Liquidation``
events; estimated numbers are a model (leverage tiers and a maintenance margin applied
to the prices where trading or open-interest growth happened) and are always labelled
``"kind": "estimate"``. See docs/heatmap.md for the assumptions and the validation
method.

Stable contract (used by the gateway / HTTP API)
------------------------------------------------
``heatmap_timeseries(store, symbol, exchanges=None, interval_s=300, price_bin="50",
start_ns=None, end_ns=None, *, estimated=True) -> dict``

- ``interval_s`` must be one of ``ALLOWED_INTERVALS_S`` (seconds); ``price_bin`` a
  positive decimal number (``Decimal``, ``int`` or numeric string) with at most
  ``MAX_PRICE_BINS`` bins across the returned price range; anything else raises
  ``ValueError`` (the API maps it to 400). ``exchanges``/``symbol`` are bound as SQL
  parameters. ``start_ns``/``end_ns`` (int ns, end exclusive) default to the data's range.
- Returns a JSON-able dict (decimals as exact strings, times as int ns)::

    {
      "symbol": "BTC/USDT:USDT", "exchanges": ["binance", "okx"],
      "interval_s": 300, "price_bin": "50", "start_ns": ..., "end_ns": ...,
      "realized": {
        "kind": "realized",
        "times": [t0_ns, t1_ns, ...],            # bucket starts, ascending
        "prices": ["59950", "60000", ...],       # bin lower edges, ascending
        "cells": [{"t": ns, "price": "60000", "exchange": "binance", "side": "long",
                   "count": 3, "size": "0.5", "notional": "30000.25"}, ...],
        "by_exchange": {"binance": {"count": 3, "notional": "...",
                                    "long_notional": "...", "short_notional": "..."}},
        "total": {"count": 3, "notional": "..."},
      },
      "estimated": {
        "kind": "estimate", "source": "trades" | "open_interest" | "none",
        "assumptions": {"leverage_tiers": [5, 10, 25, 50, 100], "tier_weights": [...],
                        "maintenance_margin": "0.004", "long_share": "0.5"},
        "times": [...], "prices": [...],
        "cells": [{"t": ns, "price": "60300", "exchange": "binance", "side": "short",
                   "notional": "1234.5"}, ...],   # levels still open at the bucket's end
        "by_exchange": {"binance": {"notional": "...", "long_notional": "...",
                                    "short_notional": "..."}},   # as of end_ns
      },
    }

Other public functions: ``realized_heatmap`` (the realized layer alone),
``estimate_levels`` (pure function: entries -> projected liquidation levels),
``entries_from_trades`` / ``entries_from_open_interest`` (the two input models),
``estimated_levels_db`` (the same estimate computed in DuckDB from stored trades),
``validate`` (hit rate of the top-k estimated zones vs a seeded uniform-random
baseline) and ``run_load_bench`` in ``connex.heatmap.bench``.
"""

from .estimate import (
    DEFAULT_MMR,
    DEFAULT_TIER_WEIGHTS,
    LEVERAGE_TIERS,
    Entry,
    EstimateParams,
    LevelBin,
    entries_from_open_interest,
    entries_from_trades,
    estimate_levels,
    estimated_levels_db,
    liquidation_price,
)
from .realized import (
    ALLOWED_INTERVALS_S,
    MAX_PRICE_BINS,
    check_interval,
    check_price_bin,
    price_range,
    realized_heatmap,
)
from .timeseries import heatmap_timeseries
from .validate import validate

__all__ = [
    "ALLOWED_INTERVALS_S",
    "DEFAULT_MMR",
    "DEFAULT_TIER_WEIGHTS",
    "LEVERAGE_TIERS",
    "MAX_PRICE_BINS",
    "Entry",
    "EstimateParams",
    "LevelBin",
    "check_interval",
    "check_price_bin",
    "entries_from_open_interest",
    "entries_from_trades",
    "estimate_levels",
    "estimated_levels_db",
    "heatmap_timeseries",
    "liquidation_price",
    "price_range",
    "realized_heatmap",
    "validate",
]
