"""HTTP load benchmark of ``GET /liquidations/heatmap-timeseries``.

A real uvicorn server on 127.0.0.1 (in a child process) serves
:func:`connex.web.create_web_app` over a DuckDB file holding ``n_rows`` synthetic
liquidations (seeded; three exchanges, one symbol, the 24 hours before the data's
"now"). ``clients`` concurrent simulated dashboard users (one httpx connection each)
send the request mix below for ``duration_s`` seconds, each waiting a think time
(uniform in ``[0, 2 * think_s]``) between its requests; latencies are measured per
request on the client side, from send to the last body byte.

Request mix (per request, drawn from a seeded RNG; see docs/dashboard.md):

- 40 % the dashboard's default view: every exchange, 5-minute buckets, automatic price
  bin (no ``price_bin``), no ``start``/``end`` (all data), realized layer;
- 45 % a view a user changed: the last 1, 6 or 24 hours relative to "now" (the
  dashboard sends ``start``/``end`` in ms precision, so these never repeat), bucket
  1m/5m/15m/1h (1m only up to 6 hours), a random non-empty exchange subset, automatic
  bin (70 %) or an explicit one a user would type for that window (10/25 for 1 hour,
  25/50 for 4-6 hours, 50/100 for 24 hours), estimated layer on 20 % of them;
- 15 % a deep link to a past window: 1, 4 or 24 whole hours at a random hour of the
  day, with the same random bucket/bin/subset choices.

"Now" is the end of the stored day plus the time since the load started, so relative
windows move like the dashboard's. It is a benchmark, not a test:
``python -m connex.web.bench --rows 1000000 --clients 100`` prints one JSON object.
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
from pathlib import Path
from typing import Any

import httpx

from .app import create_web_app
from .server import LoopbackServer

__all__ = ["fill_store", "run_http_load_bench"]

EXCHANGES = ["binance", "bybit", "okx"]
SYMBOL = "BTC/USDT:USDT"
_S = 1_000_000_000
_DAY = 86_400 * _S


def fill_store(
    store: Any, n_rows: int, *, start_ns: int, seed: int = 1, chunk: int = 1_000_000
) -> int:
    """Write ``n_rows`` seeded liquidations spread over one day; returns rows inserted.

    The rows are generated inside DuckDB (``INSERT ... SELECT ... FROM range(n)``, about
    2-3 s per million rows instead of 40-80 s through ``write_events``), then the
    heatmap rollup is rebuilt from them (``Store.rebuild_rollup``). Prices: a random
    walk in 0.1 steps around 60,000 plus noise of up to +-30; sizes 0.001-2.000;
    ``notional`` the exact product, computed with DECIMAL arithmetic (no floats);
    pseudo-random numbers are ``hash(i, seed + k)``, so a seed gives the same rows.
    """
    step = _DAY // max(1, n_rows)
    exchanges = "[" + ", ".join(f"'{e}'" for e in EXCHANGES) + "]"
    s = int(seed) * 10
    inserted = 0
    cur = store.cursor()
    try:
        for lo in range(0, n_rows, chunk):
            hi = min(n_rows, lo + chunk)
            # only integers and constants are spliced; the symbol is bound
            res = cur.execute(
                "INSERT OR IGNORE INTO liquidations (exchange, symbol, side, price, size,"
                " notional, ts_ns, ts, ts_local_ns, liquidation_id, dedupe_key)"
                f" SELECT {exchanges}[i % {len(EXCHANGES)} + 1], $1,"
                f" CASE WHEN hash(i, {s + 2}) % 2 = 0 THEN 'long' ELSE 'short' END,"
                " pt::DECIMAL(18,0) * 0.1::DECIMAL(2,1),"
                " sm::DECIMAL(18,0) * 0.001::DECIMAL(4,3),"
                " (pt * sm)::DECIMAL(18,0) * 0.0001::DECIMAL(5,4),"
                " ts_ns, make_timestamp(ts_ns // 1000), ts_ns, 'b' || i, 'id:b' || i"
                " FROM (SELECT i, $2 + i * $3 AS ts_ns,"
                f" 600000 + sum((hash(i, {s + 1}) % 81)::BIGINT - 40) OVER (ORDER BY i)"
                f" + (hash(i, {s + 3}) % 601)::BIGINT - 300 AS pt,"
                f" 1 + (hash(i, {s + 4}) % 2000)::BIGINT AS sm"
                f" FROM range(0, {hi}) t(i)) WHERE i >= {lo} ORDER BY i",
                [SYMBOL, int(start_ns), int(step)],
            ).fetchone()
            inserted += int(res[0]) if res else 0
    finally:
        cur.close()
    store.rebuild_rollup()
    return inserted


def _pct(data: list[float], p: float) -> float:
    if not data:
        return float("nan")
    s = sorted(data)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


_INTERVALS = ("1m", "5m", "15m", "1h")
# explicit price bins a user types for a window of so many hours (about 10-100 bins
# across that window's price range; the automatic bin aims at 40)
_BINS = {1: ("10", "25"), 4: ("25", "50"), 6: ("25", "50"), 24: ("50", "100")}


def _request(rng: random.Random, now_ns: int, data_start_ns: int) -> tuple[str, dict[str, str]]:
    """One dashboard request: ``(kind, query parameters)`` (see the module docstring)."""
    q = {"symbol": SYMBOL}
    u = rng.random()
    if u < 0.40:
        q.update(exchanges=",".join(EXCHANGES), interval="5m", estimated="false")
        return "default", q
    subset = [e for e in EXCHANGES if rng.random() < 0.6] or [rng.choice(EXCHANGES)]
    q["exchanges"] = ",".join(subset)
    if u < 0.85:
        kind = "relative"
        hours = rng.choice((1, 6, 24))
        now_ms = now_ns // 1_000_000
        q["start"] = str((now_ms - hours * 3_600_000) * 1_000_000)
        q["end"] = str(now_ms * 1_000_000)
        q["estimated"] = "true" if rng.random() < 0.2 else "false"
    else:
        kind = "window"
        hours = rng.choice((1, 4, 24))
        lo = data_start_ns + rng.randrange(0, 24 - hours + 1) * 3600 * _S
        q["start"], q["end"] = str(lo), str(lo + hours * 3600 * _S)
        q["estimated"] = "false"
    q["interval"] = rng.choice(_INTERVALS if hours <= 6 else _INTERVALS[1:])
    if rng.random() < 0.3:
        q["price_bin"] = rng.choice(_BINS[hours])
    return kind, q


async def _drive(
    url: str,
    clients: int,
    duration_s: float,
    start_ns: int,
    seed: int,
    think_s: float,
    warmup_s: float = 0.0,
) -> tuple[list[float], int, dict[int, int], dict[str, list[float]], int]:
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors = 0
    body_bytes = 0
    statuses: dict[int, int] = {}
    t_start = time.perf_counter()
    measure_from = t_start + warmup_s
    deadline = measure_from + duration_s
    data_end_ns = start_ns + _DAY

    async def one(i: int) -> None:
        nonlocal errors, body_bytes
        rng = random.Random(seed * 1_000 + i)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as c:
            if think_s > 0:  # users do not all arrive in the same millisecond
                await asyncio.sleep(rng.uniform(0, 2 * think_s))
            while time.perf_counter() < deadline:
                now_ns = data_end_ns + int((time.perf_counter() - t_start) * 1e9)
                kind, params = _request(rng, now_ns, start_ns)
                t0 = time.perf_counter()
                try:
                    try:
                        r = await c.get("/liquidations/heatmap-timeseries", params=params)
                    except httpx.RemoteProtocolError:
                        # the server closed the idle keep-alive connection (uvicorn: 5 s)
                        # just as we reused it; a browser retries such a GET, so do we
                        # (the latency includes the retry)
                        r = await c.get("/liquidations/heatmap-timeseries", params=params)
                    dt = time.perf_counter() - t0
                    if t0 < measure_from:  # warm-up: same load, not counted
                        r.raise_for_status()
                    else:
                        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                        if r.status_code != 200:
                            errors += 1
                        else:
                            latencies.append(dt)
                            by_kind.setdefault(kind, []).append(dt)
                            body_bytes += len(r.content)
                except httpx.HTTPError:
                    if t0 < measure_from:
                        raise
                    errors += 1
                if think_s > 0:
                    left = deadline - time.perf_counter()
                    await asyncio.sleep(max(0.0, min(left, rng.uniform(0, 2 * think_s))))

    await asyncio.gather(*(one(i) for i in range(clients)))
    return latencies, errors, statuses, by_kind, body_bytes


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
    # no access log: nobody reads this process's stdout after the PORT line
    srv = LoopbackServer(app, access_log=False, log_level="warning").start()
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
    cache_ttl_s: float = 2.0,
    max_concurrent: int = 4,
    think_s: float = 1.0,
    warmup_s: float = 0.0,
) -> dict[str, Any]:
    """Fill a DuckDB file, serve it with uvicorn on loopback and load the heatmap endpoint.

    The server runs in a child process (its own interpreter, so the 100 clients do not
    share its GIL); it owns the database file, as ``connex serve`` would. A ``db_path``
    that already holds ``n_rows`` liquidations is reused without refilling.
    ``cache_ttl_s`` is the API's response cache (2 s, the API default; ``0`` computes
    every request, though concurrent identical ones still share one computation).
    ``think_s`` is each user's mean pause between requests (``0``: a closed loop, every
    client sends its next request as soon as the last one is answered). ``warmup_s``:
    the same load runs this long first, unmeasured (the server's caches fill as they
    would in a server that has been running).

    Returns a dict: rows, fill seconds, requests, errors, throughput, p50/p90/p99/max
    latency in milliseconds overall and per request kind, and mean body size.
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
            lat, errors, statuses, by_kind, nbytes = asyncio.run(
                _drive(url, clients, duration_s, start_ns, seed, think_s, warmup_s)
            )
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
        "think_s": think_s,
        "warmup_s": warmup_s,
        "duration_s": round(wall - warmup_s, 1),
        "requests": len(ms),
        "errors": errors,
        "statuses": statuses,
        "req_per_s": round(len(ms) / (wall - warmup_s), 1) if wall > warmup_s else 0.0,
        "p50_ms": round(_pct(ms, 50), 1),
        "p90_ms": round(_pct(ms, 90), 1),
        "p99_ms": round(_pct(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
        "mean_body_kb": round(nbytes / len(ms) / 1024, 1) if ms else 0.0,
        "by_kind": {
            k: {
                "requests": len(v),
                "p50_ms": round(_pct([x * 1000 for x in v], 50), 1),
                "p99_ms": round(_pct([x * 1000 for x in v], 99), 1),
            }
            for k, v in sorted(by_kind.items())
        },
    }


def main() -> None:  # pragma: no cover - CLI
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--db", default=None, help="database file to fill (or reuse)")
    ap.add_argument("--cache-ttl", type=float, default=2.0, help="API response cache (s)")
    ap.add_argument("--think", type=float, default=1.0, help="mean pause per user (s)")
    ap.add_argument("--warmup", type=float, default=0.0, help="unmeasured load first (s)")
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
        think_s=args.think,
        warmup_s=args.warmup,
    )
    print(json.dumps(result))


if __name__ == "__main__":  # pragma: no cover
    main()
