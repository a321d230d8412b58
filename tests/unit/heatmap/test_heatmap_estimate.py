"""Estimated liquidation levels: the pure model, its DuckDB twin and the time series."""

from decimal import Decimal
from pathlib import Path

import pytest

from connex.heatmap import (
    Entry,
    EstimateParams,
    entries_from_open_interest,
    entries_from_trades,
    estimate_levels,
    estimated_levels_db,
    heatmap_timeseries,
    liquidation_price,
)
from connex.model import MarkPrice, Side, Trade
from connex.store import Store

from .simdata import sim_events

NS = 1_000_000_000
B = 1_763_000_040
SYM = "BTC/USDT:USDT"


def trade(
    i: int, price: str, size: str = "1", t_s: float = 0, ex: str = "binance", side: Side = Side.BUY
) -> Trade:
    return Trade(
        exchange=ex,
        symbol=SYM,
        price=Decimal(price),
        size=Decimal(size),
        side=side,
        trade_id=f"{i:06d}",
        ts_exchange=int((B + t_s) * NS),
    )


def test_liquidation_price_formula() -> None:
    p = Decimal(60000)
    assert liquidation_price(p, 100, long=True) == Decimal(59640)  # 60000 * (1 - 0.01 + 0.004)
    assert liquidation_price(p, 100, long=False) == Decimal(60360)
    assert liquidation_price(p, 5, long=True) == Decimal(48240)  # 60000 * 0.804
    assert liquidation_price(p, 25, Decimal("0.005"), long=False) == Decimal(62100)  # 60000 * 1.035


def test_one_entry_projects_to_ten_levels() -> None:
    levels = estimate_levels([Entry("binance", Decimal(60000), Decimal(1000), 1)], 100)
    got = [(lv.side, lv.to_json()["price"], lv.notional, dict(lv.by_tier)) for lv in levels]
    hundred = Decimal(100)  # 1000 * weight 0.2 * long share 0.5
    assert got == [
        ("long", "48200", hundred, {5: hundred}),  # 48240
        ("long", "54200", hundred, {10: hundred}),  # 54240
        ("long", "57800", hundred, {25: hundred}),  # 57840
        ("long", "59000", hundred, {50: hundred}),  # 59040
        ("long", "59600", hundred, {100: hundred}),  # 59640
        ("short", "60300", hundred, {100: hundred}),  # 60360
        ("short", "60900", hundred, {50: hundred}),  # 60960
        ("short", "62100", hundred, {25: hundred}),  # 62160
        ("short", "65700", hundred, {10: hundred}),  # 65760
        ("short", "71700", hundred, {5: hundred}),  # 71760
    ]
    assert all(lv.to_json()["exchange"] == "binance" for lv in levels)


def test_survival_removes_levels_the_price_already_reached() -> None:
    entries = entries_from_trades([trade(1, "60000", t_s=0), trade(2, "59600", t_s=1)])
    levels = {(lv.side, lv.price): lv.notional for lv in estimate_levels(entries, 10)}
    # trade 1's 100x long level 59640 was reached by the 59600 print: gone
    assert ("long", Decimal(59640)) not in levels
    # trade 1's 50x long level 59040 was not reached: still there with 60000 * 0.2 * 0.5
    assert levels[("long", Decimal(59040))] == Decimal(6000)
    # trade 2's own levels survive (nothing after it): 100x long at 59600 * 0.994 = 59242.4
    assert levels[("long", Decimal(59240))] == Decimal(5960)
    without = {
        (lv.side, lv.price) for lv in estimate_levels(entries, 10, EstimateParams(survival=False))
    }
    assert ("long", Decimal(59640)) in without
    # an explicit path (e.g. mark prices) is used instead of the entries themselves
    path = [(int((B + 2) * NS), Decimal(60400))]
    by_path = {(lv.side, lv.price) for lv in estimate_levels(entries, 10, path=path)}
    assert ("short", Decimal(60360)) not in by_path and ("long", Decimal(59640)) in by_path


def test_taker_share_and_params_validation() -> None:
    ents = entries_from_trades(
        [trade(1, "1000", "2", side=Side.SELL)], taker_long_share=Decimal("0.8")
    )
    assert ents[0].notional == Decimal(2000) and ents[0].long_share == Decimal("0.2")
    lv = estimate_levels(ents, 1, EstimateParams(tiers=(10,), weights=(Decimal(1),)))
    assert [(x.side, x.price, x.notional) for x in lv] == [
        ("long", Decimal(904), Decimal(400)),
        ("short", Decimal(1096), Decimal(1600)),
    ]
    with pytest.raises(ValueError):
        EstimateParams(tiers=(5, 10), weights=(Decimal("0.5"),))
    with pytest.raises(ValueError):
        EstimateParams(weights=tuple(Decimal("0.3") for _ in range(5)))


def test_entries_from_open_interest() -> None:
    def mark(t: int, price: str, oi: str | None) -> MarkPrice:
        return MarkPrice(
            exchange="okx",
            symbol=SYM,
            mark_price=Decimal(price),
            open_interest=None if oi is None else Decimal(oi),
            ts_exchange=t,
        )

    ents = entries_from_open_interest(
        [
            mark(3, "60200", "9"),
            mark(1, "60000", "10"),
            mark(2, "60100", "12"),
            mark(4, "60300", "10"),
            mark(5, "1", None),
        ]
    )
    # +2 at 60100 = 120200, then OI 12 -> 9 closes 1/4 of it (90150); +1 at 60300
    assert [(e.ts_ns, e.price, e.notional) for e in ents] == [
        (2, Decimal(60100), Decimal(90150)),
        (4, Decimal(60300), Decimal(60300)),
    ]


def test_duckdb_estimate_equals_pure_estimate(tmp_path: Path) -> None:
    trades = [e for e in sim_events(steps=1500, seed=5, vol_ticks=40.0) if isinstance(e, Trade)]
    other = [
        Trade(
            exchange="okx",
            symbol=SYM,
            price=t.price + 3,
            size=t.size,
            side=t.side,
            trade_id=t.trade_id,
            ts_exchange=t.ts_exchange,
        )
        for t in trades[::3]
    ]
    assert len(trades) > 500
    with Store.open(tmp_path / "e.duckdb") as store:
        store.write_events(trades + other)
        for params in (EstimateParams(), EstimateParams(survival=False, long_share=Decimal("0.7"))):
            db = estimated_levels_db(store, SYM, "25", params)
            pure = estimate_levels(entries_from_trades(trades + other), "25", params)
            assert db == pure
            assert [lv.by_tier for lv in db] == [lv.by_tier for lv in pure]
        only_okx = estimated_levels_db(
            store, SYM, "25", exchanges=["okx"], end_ns=trades[300].ts_exchange
        )
        assert only_okx == estimate_levels(
            [e for e in entries_from_trades(other) if e.ts_ns < trades[300].ts_exchange], "25"
        )
        assert {lv.exchange for lv in only_okx} == {"okx"}


def test_timeseries_estimated_layer_tracks_survival(tmp_path: Path) -> None:
    with Store.open(tmp_path / "t.duckdb") as store:
        store.write_events([trade(1, "60000", t_s=5), trade(2, "59600", t_s=65)])
        ts = heatmap_timeseries(store, SYM, None, 60, "50", B * NS, (B + 120) * NS)
    est = ts["estimated"]
    assert est["kind"] == "estimate" and est["source"] == "trades"
    cells = {(c["t"] // NS - B, c["price"], c["side"]): c["notional"] for c in est["cells"]}
    # bucket 0: trade 1's ten levels, e.g. 100x long 59640 -> bin 59600, 60000 * 0.2 * 0.5
    assert cells[(0, "59600", "long")] == "6000"
    assert cells[(0, "60350", "short")] == "6000"
    assert len([k for k in cells if k[0] == 0]) == 10
    # bucket 60: the 59600 low reached the middle of bin 59600 (59625): that level is gone,
    # trade 1's short levels stay, trade 2's levels appear (100x long 59242.4 -> 59200)
    assert (60, "59600", "long") not in cells
    assert cells[(60, "60350", "short")] == "6000"
    assert cells[(60, "59200", "long")] == "5960"
    assert est["by_exchange"]["binance"]["long_notional"] == str(6000 * 4 + 5960 * 5)
    assert ts["realized"]["cells"] == []
