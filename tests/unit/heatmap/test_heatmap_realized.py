"""Realized heatmap numbers against bins computed by hand (real DuckDB file)."""

from decimal import Decimal
from pathlib import Path

import pytest

from connex.heatmap import check_interval, check_price_bin, heatmap_timeseries, realized_heatmap
from connex.model import Liquidation, PositionSide
from connex.store import Store

B = 1_763_000_040  # seconds; a multiple of 60
NS = 1_000_000_000
SYM = "BTC/USDT:USDT"


def liq(
    ex: str, side: PositionSide, price: str, size: str, t_s: float, sym: str = SYM
) -> Liquidation:
    return Liquidation(
        exchange=ex,
        symbol=sym,
        side=side,
        price=Decimal(price),
        size=Decimal(size),
        ts_exchange=int(B * NS + t_s * NS),
    )


L, S = PositionSide.LONG, PositionSide.SHORT
DATA = [
    liq("binance", L, "60010", "1", 5),  # t=B, bin 60000
    liq("binance", L, "60049.99", "2", 59),  # t=B, bin 60000
    liq("binance", L, "60050", "1", 30),  # t=B, bin 60050 (a bin edge belongs to the upper bin)
    liq("okx", L, "60020", "0.5", 10),  # t=B, bin 60000
    liq("okx", S, "60120.5", "0.1", 60),  # t=B+60, bin 60100
    liq("binance", S, "59999.9", "3", 119.999),  # t=B+60, bin 59950
    liq("bybit", L, "60000", "1", 120),  # t=B+120: outside [B, B+120)
    liq("binance", L, "3000", "1", 1, sym="ETH/USDT:USDT"),  # another symbol
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    s = Store.open(Path(tmp_path_factory.mktemp("hm")) / "hm.duckdb")
    s.write_events(DATA)
    yield s
    s.close()


def test_realized_cells_match_hand_computed_bins(store: Store) -> None:
    hm = realized_heatmap(store, SYM, None, 60, "50", B * NS, (B + 120) * NS)
    assert hm["kind"] == "realized"
    assert hm["times"] == [B * NS, (B + 60) * NS]
    assert hm["prices"] == ["59950", "60000", "60050", "60100"]
    assert hm["cells"] == [
        {
            "t": B * NS,
            "price": "60000",
            "exchange": "binance",
            "side": "long",
            "count": 2,
            "size": "3",
            "notional": "180109.98",
        },
        {
            "t": B * NS,
            "price": "60000",
            "exchange": "okx",
            "side": "long",
            "count": 1,
            "size": "0.5",
            "notional": "30010",
        },
        {
            "t": B * NS,
            "price": "60050",
            "exchange": "binance",
            "side": "long",
            "count": 1,
            "size": "1",
            "notional": "60050",
        },
        {
            "t": (B + 60) * NS,
            "price": "59950",
            "exchange": "binance",
            "side": "short",
            "count": 1,
            "size": "3",
            "notional": "179999.7",
        },
        {
            "t": (B + 60) * NS,
            "price": "60100",
            "exchange": "okx",
            "side": "short",
            "count": 1,
            "size": "0.1",
            "notional": "6012.05",
        },
    ]
    assert hm["by_exchange"] == {
        "binance": {
            "count": 4,
            "notional": "420159.68",
            "long_notional": "240159.98",
            "short_notional": "179999.7",
        },
        "okx": {
            "count": 2,
            "notional": "36022.05",
            "long_notional": "30010",
            "short_notional": "6012.05",
        },
    }
    assert hm["total"] == {"count": 6, "notional": "456181.73"}


def test_exchange_filter_bigger_bins_and_default_range(store: Store) -> None:
    hm = realized_heatmap(store, SYM, ["okx", "bybit"], 120, 100)
    # range defaults to the data: B+5 .. B+120 inclusive -> buckets B and B+120
    assert hm["times"] == [B * NS, (B + 120) * NS]
    assert [(c["t"], c["price"], c["exchange"], c["side"], c["count"]) for c in hm["cells"]] == [
        (B * NS, "60000", "okx", "long", 1),
        (B * NS, "60100", "okx", "short", 1),
        ((B + 120) * NS, "60000", "bybit", "long", 1),
    ]


def test_decimal_bins_are_exact(tmp_path: Path) -> None:
    with Store.open(tmp_path / "d.duckdb") as s:
        s.write_events(
            [
                liq("binance", L, "0.3", "10", 1, sym="PEPE/USDT:USDT"),
                liq("binance", L, "0.29", "10", 2, sym="PEPE/USDT:USDT"),
            ]
        )
        hm = realized_heatmap(s, "PEPE/USDT:USDT", None, 60, "0.1")
    # floor(0.3 / 0.1) in binary floating point is 2; the bins must be 0.3 and 0.2
    assert [(c["price"], c["notional"]) for c in hm["cells"]] == [("0.2", "2.9"), ("0.3", "3")]


def test_inputs_are_whitelisted(store: Store) -> None:
    for bad in (7, 0, -60, "60; DROP TABLE liquidations", 60.5, True, None):
        with pytest.raises(ValueError):
            check_interval(bad)
    assert check_interval("300") == 300
    for bad_bin in ("0", "-5", "abc", 0.5, "NaN", "Infinity", "1e-19", "1e20"):
        with pytest.raises(ValueError):
            check_price_bin(bad_bin)
    assert check_price_bin("0.5") == Decimal("0.5")
    with pytest.raises(ValueError, match="price bins"):
        heatmap_timeseries(store, SYM, None, 60, "0.0001", B * NS, (B + 120) * NS)
    with pytest.raises(ValueError, match="time buckets"):
        realized_heatmap(store, SYM, None, 1, 50, 0, B * NS)


def test_timeseries_contract_without_trades(store: Store) -> None:
    ts = heatmap_timeseries(store, SYM, ["binance", "okx"], 60, "50", B * NS, (B + 120) * NS)
    assert (
        ts["symbol"] == SYM
        and ts["exchanges"] == ["binance", "okx"]
        and ts["interval_s"] == 60
        and ts["price_bin"] == "50"
    )
    assert ts["realized"]["total"] == {"count": 6, "notional": "456181.73"}
    est = ts["estimated"]
    assert est["kind"] == "estimate" and est["source"] == "none" and est["cells"] == []
    assert est["assumptions"]["leverage_tiers"] == [5, 10, 25, 50, 100]
    empty = heatmap_timeseries(store, "NOPE/USDT", None, 60, "50")
    assert empty["realized"]["cells"] == [] and empty["estimated"]["cells"] == []
