"""Load benchmark: many concurrent clients querying ``heatmap_timeseries`` on a big store.

``run_load_bench`` fills a DuckDB file with ``n_rows`` synthetic liquidations (a seeded
random walk per exchange over ``span_s`` seconds, written through ``Store.insert_rows``,
i.e. the same bulk ``INSERT ... SELECT unnest(...)`` path the writer uses), then runs
``clients`` threads at once, each with its own cursor of the one connection (the
in-process model of DESIGN.md "Storage and processes"), each issuing
``queries_per_client`` heatmap queries over random windows. It reports latency
percentiles. Not a test: run it with ``python -m connex.heatmap.bench``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

from connex.store import Store
from connex.store.rows import exact_product

from .timeseries import heatmap_timeseries

__all__ = ["run_load_bench"]

_EXCHANGES = ("binance", "okx", "bybit", "gateio", "hyperliquid")
_T0 = 1_763_000_000 * 1_000_000_000


def _fill(
    store: Store,
    n_rows: int,
    symbol: str,
    exchanges: tuple[str, ...],
    span_s: int,
    seed: int,
    chunk: int = 100_000,
) -> None:
    rnd = random.Random(seed)
    walk = dict.fromkeys(exchanges, 600_000)  # price in 0.1 units
    step_ns = max(1, span_s * 1_000_000_000 // max(1, n_rows))
    tenth = Decimal("0.1")
    milli = Decimal("0.001")
    for start in range(0, n_rows, chunk):
        rows = []
        for i in range(start, min(n_rows, start + chunk)):
            ex = exchanges[i % len(exchanges)]
            walk[ex] = max(10_000, walk[ex] + rnd.randint(-40, 40))
            price = walk[ex] * tenth
            size = rnd.randint(1, 5000) * milli
            ts = _T0 + i * step_ns
            side = "long" if rnd.random() < 0.5 else "short"
            rows.append(
                (
                    ex,
                    symbol,
                    side,
                    price,
                    size,
                    exact_product(price, size),
                    ts,
                    ts,
                    f"b{i}",
                    f"id:b{i}",
                )
            )
        store.insert_rows({"liquidations": rows})


def run_load_bench(
    n_rows: int = 1_000_000,
    clients: int = 100,
    *,
    queries_per_client: int = 3,
    symbol: str = "BTC/USDT:USDT",
    exchanges: tuple[str, ...] = _EXCHANGES,
    span_s: int = 86_400,
    window_s: int = 6 * 3600,
    interval_s: int = 300,
    price_bin: str = "50",
    estimated: bool = True,
    path: str | Path | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Fill a store and hammer ``heatmap_timeseries`` from ``clients`` threads.

    Returns a dict with ``rows``, ``fill_s``, ``fill_rows_per_s``, ``clients``,
    ``queries``, ``errors``, ``p50_ms``, ``p90_ms``, ``p99_ms``, ``max_ms``, ``qps``,
    ``mean_cells``. ``path``: the database file (default: a temporary one, removed).
    """
    tmp = None
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="connex-bench-")
        path = Path(tmp.name) / "bench.duckdb"
    try:
        with Store.open(path) as store:
            t0 = time.perf_counter()
            _fill(store, n_rows, symbol, exchanges, span_s, seed)
            fill_s = time.perf_counter() - t0
            (rows,) = store.cursor().execute("SELECT count(*) FROM liquidations").fetchone()  # type: ignore[misc]
            span_ns = span_s * 1_000_000_000
            win_ns = min(window_s * 1_000_000_000, span_ns)
            latencies: list[float] = []
            cells: list[int] = []
            errors: list[str] = []
            lock = threading.Lock()
            start_gate = threading.Barrier(clients)

            def client(cid: int) -> None:
                rnd = random.Random(seed * 1_000 + cid)
                start_gate.wait()
                for _ in range(queries_per_client):
                    lo = _T0 + rnd.randint(0, max(0, span_ns - win_ns))
                    q0 = time.perf_counter()
                    try:
                        res = heatmap_timeseries(
                            store,
                            symbol,
                            None,
                            interval_s,
                            price_bin,
                            lo,
                            lo + win_ns,
                            estimated=estimated,
                        )
                    except Exception as e:  # reported, not raised: a benchmark keeps going
                        with lock:
                            errors.append(repr(e))
                        continue
                    dt = time.perf_counter() - q0
                    with lock:
                        latencies.append(dt)
                        cells.append(len(res["realized"]["cells"]))

            w0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=clients) as pool:
                list(pool.map(client, range(clients)))
            wall = time.perf_counter() - w0
    finally:
        if tmp is not None:
            tmp.cleanup()
    ms = sorted(x * 1000 for x in latencies)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, int(p * len(ms)))] if ms else 0.0

    return {
        "rows": int(rows),
        "fill_s": round(fill_s, 3),
        "fill_rows_per_s": round(n_rows / fill_s) if fill_s > 0 else None,
        "clients": clients,
        "queries": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "p50_ms": round(pct(0.50), 2),
        "p90_ms": round(pct(0.90), 2),
        "p99_ms": round(pct(0.99), 2),
        "max_ms": round(ms[-1], 2) if ms else 0.0,
        "mean_ms": round(statistics.fmean(ms), 2) if ms else 0.0,
        "qps": round(len(latencies) / wall, 1) if wall > 0 else None,
        "mean_cells": round(statistics.fmean(cells), 1) if cells else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m connex.heatmap.bench [n_rows] [clients]``: print the result as JSON."""
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 1_000_000
    c = int(args[1]) if len(args) > 1 else 100
    print(json.dumps(run_load_bench(n, c), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
