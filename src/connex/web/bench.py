"""HTTP load benchmark of ``GET /liquidations/heatmap-timeseries``.

A real uvicorn server on 127.0.0.1 (in a child process) serves
:func:`connex.web.create_web_app` over a DuckDB file holding ``n_rows`` synthetic
liquidations (seeded; three exchanges, one symbol, one day). ``clients`` concurrent
httpx clients (one connection each) send the heatmap request with a varying exchange
subset and time window for ``duration_s`` seconds; latencies are measured per request
on the client side.

It is a benchmark, not a test: ``python -m connex.web.bench --rows 1000000 --clients 100``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from connex.model import Liquidation, PositionSide

from .app import create_web_app
from .server import LoopbackServer

__all__ = ["fill_store", "run_http_load_bench"]

EXCHANGES = ["binance", "bybit", "okx"]
SYMBOL = "BTC/USDT:USDT"
_S = 1_000_000_000
_DAY = 86_400 * _S


def fill_store(
    store: Any, n_rows: int, *, start_ns: int, seed: int = 1, chunk: int = 50_000
) -> int:
    """Write ``n_rows`` seeded liquidations spread over one day; returns rows inserted."""
    rng = random.Random(seed)
    price = 60_000.0
    step = _DAY // max(1, n_rows)
    inserted = 0
    for lo in range(0, n_rows, chunk):
        batch = []
        for i in range(lo, min(n_rows, lo + chunk)):
            price = min(90_000.0, max(30_000.0, price + rng.gauss(0, 8)))
            batch.append(
                Liquidation(
                    exchange=EXCHANGES[i % 3],
                    symbol=SYMBOL,
                    side=PositionSide.LONG if rng.random() < 0.5 else PositionSide.SHORT,
                    price=Decimal(f"{price + rng.gauss(0, 30):.1f}"),
                    size=Decimal(f"{rng.uniform(0.001, 2):.3f}"),
                    ts_exchange=start_ns + i * step,
                    liquidation_id=f"b{i}",
                )
            )
        inserted += store.write_events(batch).get("liquidations", 0)
    return inserted


def _pct(data: list[float], p: float) -> float:
    if not data:
        return float("nan")
    s = sorted(data)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


async def _drive(
    url: str, clients: int, duration_s: float, start_ns: int, seed: int
) -> tuple[list[float], int, dict[int, int]]:
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + duration_s
    subsets = ["binance,bybit", "binance,bybit,okx", "okx", "bybit,okx", "binance"]

    async def one(i: int) -> None:
        nonlocal errors
        rng = random.Random(seed + i)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as c:
            while time.perf_counter() < deadline:
                hours = rng.choice([1, 4, 24])
                lo = start_ns + rng.randrange(0, 24 - hours + 1) * 3600 * _S
                params = {
                    "symbol": SYMBOL,
                    "exchanges": rng.choice(subsets),
                    "interval": "5m" if hours > 1 else "1m",
                    "price_bin": "50",
                    "start": str(lo),
                    "end": str(lo + hours * 3600 * _S),
                    "estimated": "false",
                }
                t0 = time.perf_counter()
                try:
                    r = await c.get("/liquidations/heatmap-timeseries", params=params)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code != 200:
                        errors += 1
                        continue
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(one(i) for i in range(clients)))
    return latencies, errors, statuses


def _serve(db_path: str, cache_ttl_s: float, max_concurrent: int) -> None:
    """Child process: open the database, serve the web app, print ``PORT <n>``."""
    from connex.store import Store

    store = Store.open(db_path)
    app = create_web_app(
        lambda: store,
        lambda: dict.fromkeys(EXCHANGES, True),
        None,
        EXCHANGES,
        heatmap_cache_ttl_s=cache_ttl_s,
        max_concurrent_heatmaps=max_concurrent,
    )
    srv = LoopbackServer(app).start()
    print(f"PORT {srv.port}", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin (or kills us)
    finally:
        srv.stop()
        store.close()


def run_http_load_bench(
    n_rows: int = 1_000_000,
    clients: int = 100,
    *,
    duration_s: float = 20.0,
    db_path: str | Path | None = None,
    seed: int = 1,
    cache_ttl_s: float = 0.0,
    max_concurrent: int = 4,
) -> dict[str, Any]:
    """Fill a DuckDB file, serve it with uvicorn on loopback and load the heatmap endpoint.

    The server runs in a child process (its own interpreter, so the 100 clients do not
    share its GIL); it owns the database file, as ``connex serve`` would. A ``db_path``
    that already holds ``n_rows`` liquidations is reused without refilling.
    ``cache_ttl_s=0`` (default) measures computing every request (concurrent identical
    requests still share one computation); the API's default is 2 s.

    Returns a dict: rows, fill seconds, requests, errors, throughput and p50/p90/p99/max
    latency in milliseconds.
    """
    from connex.store import Store

    start_ns = 1_790_000_000 * _S - (1_790_000_000 * _S) % _DAY
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(db_path) if db_path is not None else Path(tmp) / "bench.duckdb"
        store = Store.open(path)
        try:
            have = store.stats()["tables"]["liquidations"]["rows"] if path.exists() else 0
        except (KeyError, TypeError):
            have = 0
        t0 = time.perf_counter()
        rows = have if have == n_rows else fill_store(store, n_rows, start_ns=start_ns, seed=seed)
        fill_s = time.perf_counter() - t0
        store.close()
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "connex.web.bench",
                "--serve",
                str(path),
                "--cache-ttl",
                str(cache_ttl_s),
                "--max-concurrent",
                str(max_concurrent),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            if not line.startswith("PORT "):
                raise RuntimeError(f"bench server did not start: {line!r}")
            url = f"http://127.0.0.1:{int(line.split()[1])}"
            t1 = time.perf_counter()
            lat, errors, statuses = asyncio.run(_drive(url, clients, duration_s, start_ns, seed))
            wall = time.perf_counter() - t1
        finally:
            if child.stdin is not None:
                child.stdin.close()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    ms = [x * 1000 for x in lat]
    return {
        "rows": rows,
        "fill_s": round(fill_s, 2),
        "clients": clients,
        "cache_ttl_s": cache_ttl_s,
        "max_concurrent": max_concurrent,
        "duration_s": round(wall, 1),
        "requests": len(ms),
        "errors": errors,
        "statuses": statuses,
        "req_per_s": round(len(ms) / wall, 1) if wall else 0.0,
        "p50_ms": round(_pct(ms, 50), 1),
        "p90_ms": round(_pct(ms, 90), 1),
        "p99_ms": round(_pct(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
    }


def main() -> None:  # pragma: no cover - CLI
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--db", default=None, help="database file to fill (or reuse)")
    ap.add_argument("--cache-ttl", type=float, default=0.0)
    ap.add_argument("--max-concurrent", type=int, default=4)
    ap.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        _serve(args.serve, args.cache_ttl, args.max_concurrent)
        return
    result = run_http_load_bench(
        args.rows,
        args.clients,
        duration_s=args.duration,
        db_path=args.db,
        cache_ttl_s=args.cache_ttl,
        max_concurrent=args.max_concurrent,
    )
    print(json.dumps(result))


if __name__ == "__main__":  # pragma: no cover
    main()
