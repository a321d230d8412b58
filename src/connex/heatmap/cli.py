"""Function behind ``connex heatmap validate`` (the CLI module wires it)."""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal, InvalidOperation

import duckdb

from connex.store import Store

from .validate import validate

__all__ = ["heatmap_validate"]


def heatmap_validate(
    db_path: str | os.PathLike[str],
    symbol: str,
    exchanges: list[str] | None = None,
    start_ns: int | None = None,
    split_ns: int | None = None,
    end_ns: int | None = None,
    price_bin: str = "50",
    k: int = 10,
    horizon_pct: str = "0.05",
    seed: int = 0,
    trials: int = 1000,
    as_json: bool = False,
    windows: int = 4,
) -> int:
    """Print the validation of the estimated heatmap.

    Exit code 0 ok, 1 database error, 2 bad input or no data.
    """
    if not os.path.exists(db_path):
        print(f"error: no database at {db_path}", file=sys.stderr)
        return 2
    try:
        with Store(db_path) as store:
            res = validate(
                store,
                symbol,
                exchanges=exchanges,
                start_ns=start_ns,
                split_ns=split_ns,
                end_ns=end_ns,
                price_bin=price_bin,
                k=k,
                horizon_pct=Decimal(horizon_pct),
                seed=seed,
                trials=trials,
                windows=windows,
            )
    except (ValueError, LookupError, InvalidOperation) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except duckdb.Error as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(res, sort_keys=True))
        return 0
    b = res["baseline"]
    print(
        f"{symbol}: {res['realized_count']} realized liquidations after the split,"
        f" top-{res['k']} zones of {res['price_bin']}"
    )
    print(
        f"  estimate hit rate   {res['hit_rate']:.3f}"
        f"  (notional-weighted {res['hit_rate_notional']:.3f})"
    )
    print(
        f"  random baseline     mean {b['mean']:.3f}, p95 {b['p95']:.3f}"
        f"  ({b['trials']} draws, seed {b['seed']})"
    )
    lift = res["lift"]
    print(
        f"  lift {lift:.2f}x, p={res['p_value']:.3f}, beats baseline: {res['beats_baseline']}"
        if lift is not None
        else "  lift n/a"
    )
    return 0
