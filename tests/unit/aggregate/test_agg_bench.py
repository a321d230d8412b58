"""The consolidated benchmark runs and its view agrees with bare books (not a timing test)."""

from __future__ import annotations

from decimal import Decimal

from connex.aggregate.bench import run_consolidated_bench


def test_bench_reports_and_stays_consistent():
    res = run_consolidated_bench(n_updates=3000, venues=3, depth=50, n_queries=5)
    assert res["n_updates"] == 3000 and res["venues"] == 3
    assert res["consistent"] is True
    assert 0 < res["top_changes"] <= 3000
    # prices stay on the 0.1 grid around 60,000 (exact strings, no float residue)
    for side in ("best_bid", "best_ask"):
        assert Decimal(res[side]).as_tuple().exponent == -1
        assert 59_000 < Decimal(res[side]) < 61_000
    for k in ("us_per_update", "us_per_update_book_only", "us_per_quote", "us_per_arbitrage"):
        assert res[k] > 0
