"""Validation of the estimate: the scoring by hand, and a simulator run vs the random baseline."""

from decimal import Decimal
from pathlib import Path

import pytest

from connex.heatmap import LevelBin, validate
from connex.heatmap.cli import heatmap_validate
from connex.heatmap.validate import validate_levels
from connex.store import Store

from .simdata import sim_events

SYM = "BTC/USDT:USDT"


def test_scoring_by_hand() -> None:
    levels = [
        LevelBin("binance", "long", Decimal(100), Decimal(10)),
        LevelBin("okx", "short", Decimal(200), Decimal(5)),
        LevelBin("okx", "long", Decimal(300), Decimal(1)),
        LevelBin("okx", "long", Decimal(900), Decimal(99)),  # outside the +-50% horizon
    ]
    realized = [
        (Decimal(150), 3, Decimal(450)),
        (Decimal(250), 1, Decimal(250)),
        (Decimal(1000), 0, Decimal(0)),
    ]
    r = validate_levels(
        levels, realized, Decimal(200), 100, k=1, horizon_pct="0.5", trials=3000, seed=1
    )
    assert r["universe_bins"] == 3 and r["zones"] == ["100"] and r["zone_notional"] == ["10"]
    assert r["realized_count"] == 4 and r["hits"] == 3
    assert r["hit_rate"] == 0.75 and r["hit_rate_notional"] == 450 / 700
    # one random bin out of {100, 200, 300} hits 3/4, 1/4 or 0: mean 1/3
    assert r["baseline"]["mean"] == pytest.approx(1 / 3, abs=0.03)
    assert r["baseline"]["p95"] == 0.75 and r["beats_baseline"] is False
    assert r["p_value"] == pytest.approx(1 / 3, abs=0.03)
    assert r == validate_levels(
        levels, realized, Decimal(200), 100, k=1, horizon_pct="0.5", trials=3000, seed=1
    )  # seeded
    # ranking by expected notional: with a small volatility the nearest zone wins
    near = validate_levels(
        levels, realized, Decimal(200), 100, k=1, horizon_pct="0.5", sigma_horizon=0.05
    )
    assert near["zones"] == ["200"] and near["hit_rate"] == 0.25 and near["rank"] == "expected"


@pytest.fixture(scope="module")
def sim_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(tmp_path_factory.mktemp("val")) / "sim.duckdb"
    with Store.open(path) as store:
        store.write_events(sim_events(steps=12_000, seed=11, vol_ticks=40.0))
    return path


def test_estimate_beats_random_zones_on_simulated_market(sim_db: Path) -> None:
    with Store(sim_db) as store:
        n_liq = store.stats()["tables"]["liquidations"]["rows"]
        r = validate(store, SYM, price_bin="50", k=10, windows=4, trials=300, seed=3)
        again = validate(store, SYM, price_bin="50", k=10, windows=4, trials=300, seed=3)
    assert r == again  # deterministic
    assert n_liq > 150 and r["realized_count"] > 100
    b = r["baseline"]
    assert b["k"] == 10 and b["trials"] == 300
    # a clear margin: above the random baseline's 95th percentile and 3x its mean
    assert r["hit_rate"] > b["p95"] and r["beats_baseline"] is True
    assert r["lift"] > 3 and r["p_value"] < 0.01
    assert len(r["windows"]) == 4 and all(len(w["zones"]) == 10 for w in r["windows"])
    assert sum(w["realized_count"] for w in r["windows"]) == r["realized_count"]


def test_cli_json_and_errors(
    sim_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert heatmap_validate(sim_db, SYM, price_bin="100", k=5, trials=50, as_json=True) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "estimate-validation" and out["price_bin"] == "100" and out["k"] == 5
    assert heatmap_validate(sim_db, SYM, price_bin="100", k=5, trials=50) == 0
    assert "random baseline" in capsys.readouterr().out
    assert heatmap_validate(sim_db, "NOPE/USDT", as_json=True) == 2
    assert heatmap_validate(sim_db, SYM, price_bin="-1") == 2
    assert heatmap_validate(tmp_path / "missing.duckdb", SYM) == 2
