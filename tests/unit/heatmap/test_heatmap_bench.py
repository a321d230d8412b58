"""Smoke test of the load benchmark with tiny numbers (no timing assertions)."""

from pathlib import Path

from connex.heatmap.bench import run_load_bench
from connex.store import Store


def test_bench_returns_sane_numbers(tmp_path: Path) -> None:
    db = tmp_path / "b.duckdb"
    r = run_load_bench(
        n_rows=3000, clients=4, queries_per_client=2, span_s=3600, window_s=1800, path=db
    )
    assert r["rows"] == 3000 and r["clients"] == 4
    assert r["queries"] == 8 and r["errors"] == 0 and r["first_error"] is None
    assert 0 < r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["max_ms"]
    assert r["mean_cells"] > 0 and r["qps"] > 0
    with Store(db) as s:  # the data really is there, spread over the five exchanges
        assert s.stats()["tables"]["liquidations"]["by_exchange"] == {
            "binance": 600,
            "bybit": 600,
            "gateio": 600,
            "hyperliquid": 600,
            "okx": 600,
        }
