"""The heatmap's rollup / block-cache path gives exactly the numbers of the direct query.

Real DuckDB files. Every comparison is against ``realized_heatmap(..., use_rollup=False)``
(the direct GROUP BY over ``liquidations``, itself checked against hand-computed bins in
``test_heatmap_realized.py``), plus a few hand-computed rollup rows.
"""

import random
from decimal import Decimal
from pathlib import Path

import pytest

from connex.heatmap import price_range, realized_heatmap
from connex.model import Liquidation, PositionSide
from connex.store import Store

NS = 1_000_000_000
H = 3600 * NS
T0 = 1_763_000_000 * NS - (1_763_000_000 * NS) % (86_400 * NS)  # midnight UTC
SYM = "BTC/USDT:USDT"
EXS = ("binance", "bybit", "okx")


def _events(n: int, seed: int, t0: int = T0, hours: int = 6) -> list[Liquidation]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        # prices around 9,990-10,010 cross a power of ten (cells of 0.1 and of 1);
        # some with many decimals, a few tiny ones on another symbol
        base = rnd.choice(["9990", "9999.95", "10000", "10004.5"])
        price = Decimal(base) + Decimal(rnd.randint(-999, 999)).scaleb(-rnd.choice([1, 2, 3, 6]))
        sym = SYM if rnd.random() < 0.9 else "PEPE/USDT:USDT"
        if sym != SYM:
            price = Decimal(rnd.randint(1, 99999)).scaleb(-12)
        out.append(
            Liquidation(
                exchange=EXS[i % 3],
                symbol=sym,
                side=PositionSide.LONG if rnd.random() < 0.5 else PositionSide.SHORT,
                price=price,
                size=Decimal(rnd.randint(1, 5000)).scaleb(-3),
                ts_exchange=t0 + rnd.randrange(0, hours * H),
                liquidation_id=f"x{seed}-{i}",
            )
        )
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    s = Store.open(Path(tmp_path_factory.mktemp("rollup")) / "r.duckdb")
    evs = _events(3000, 1)
    for i in range(0, len(evs), 400):  # several batches, as the writer does
        s.write_events(evs[i : i + 400])
    assert s.write_events(evs[:500]) == {"liquidations": 0}  # duplicates are not re-added
    yield s
    s.close()


CASES = [
    # (interval, bin, start offset ns, end offset ns, exchanges)
    (60, "50", 0, 6 * H, None),
    (300, "10", 123_456_789, 5 * H + 7_654_321, ["okx", "binance"]),
    (3600, "25", 17 * 60 * NS + 1, 6 * H - 1, None),
    (900, "2.5", 59 * NS, 4 * H + 61 * NS, ["bybit"]),
    (120, "0.5", 0, 3 * H + 30 * NS, None),  # finer than the coarse cells
    (7200, "100", -H, 8 * H, None),
    (300, "0.05", 2 * H + 1, 2 * H + 5 * 60 * NS, None),  # finer than the 5-digit cells
    (30, "5", 10 * NS, H + 10 * NS, ["okx"]),  # sub-minute buckets: direct query
    (86400, "1", 0, 24 * H, None),
]


@pytest.mark.parametrize(("interval", "pbin", "lo", "hi", "exch"), CASES)
def test_rollup_and_block_cache_equal_direct_query(
    store: Store, interval: int, pbin: str, lo: int, hi: int, exch: list[str] | None
) -> None:
    direct = realized_heatmap(store, SYM, exch, interval, pbin, T0 + lo, T0 + hi, use_rollup=False)
    assert direct["cells"]  # the case has data
    fast = realized_heatmap(store, SYM, exch, interval, pbin, T0 + lo, T0 + hi, use_cache=False)
    assert fast == direct
    for _ in range(2):  # cold, then from the block cache
        assert realized_heatmap(store, SYM, exch, interval, pbin, T0 + lo, T0 + hi) == direct


def test_whole_range_and_other_symbol(store: Store) -> None:
    direct = realized_heatmap(store, SYM, None, 300, "5", use_rollup=False)
    assert realized_heatmap(store, SYM, None, 300, "5") == direct
    pepe = "PEPE/USDT:USDT"
    d2 = realized_heatmap(store, pepe, None, 3600, "0.000000001", use_rollup=False)
    assert d2["cells"] and realized_heatmap(store, pepe, None, 3600, "0.000000001") == d2


def test_price_range_is_exact(store: Store) -> None:
    cur = store.cursor()
    for lo, hi, exch in [(None, None, None), (T0 + 61 * NS + 5, T0 + 2 * H + 7, ["okx"])]:
        where = "symbol = $1" + (" AND exchange = 'okx'" if exch else "")
        params: list[object] = [SYM]
        if lo is not None:
            where += " AND ts_ns >= $2 AND ts_ns < $3"
            params += [lo, hi]
        want = cur.execute(
            f"SELECT min(price), max(price) FROM liquidations WHERE {where}", params
        ).fetchone()
        assert price_range(store, SYM, exch, lo, hi) == want
    cur.close()
    assert price_range(store, "NOPE/USDT", None, None, None) is None


def test_block_cache_sees_new_writes_and_rebuild_matches(tmp_path: Path) -> None:
    with Store.open(tmp_path / "w.duckdb") as s:
        s.write_events(_events(800, 2, hours=4))
        args = (SYM, None, 300, "10", T0 + 5, T0 + 4 * H - 5)
        before = realized_heatmap(s, *args)
        assert before == realized_heatmap(s, *args, use_rollup=False)
        # a late liquidation inside an already cached whole hour
        late = Liquidation(
            exchange="okx",
            symbol=SYM,
            side=PositionSide.SHORT,
            price=Decimal("10000.05"),
            size=Decimal("7"),
            ts_exchange=T0 + H + 30 * 60 * NS,
            liquidation_id="late-1",
        )
        s.write_events([late])
        after = realized_heatmap(s, *args)
        assert after == realized_heatmap(s, *args, use_rollup=False)
        assert after["total"]["count"] == before["total"]["count"] + 1

        def cell(hm: dict) -> tuple[int, Decimal]:
            for c in hm["cells"]:
                key = (c["t"], c["price"], c["exchange"], c["side"])
                if key == (T0 + H + 30 * 60 * NS, "10000", "okx", "short"):
                    return c["count"], Decimal(c["notional"])
            return 0, Decimal(0)

        n0, v0 = cell(before)
        assert cell(after) == (n0 + 1, v0 + Decimal("70000.35"))  # 10000.05 * 7
        # the incrementally kept rollup equals one recomputed from the table
        cur = s.cursor()
        q = "SELECT * FROM liquidations_rollup ORDER BY ALL"
        incremental = cur.execute(q).fetchall()
        s.rebuild_rollup()
        assert cur.execute(q).fetchall() == incremental
        cur.close()
        assert realized_heatmap(s, *args) == after


def test_rollup_rows_by_hand(tmp_path: Path) -> None:
    """Two liquidations in one minute: the 60 s row keeps 5 digits, the 300 s row 5-wide cells."""
    with Store.open(tmp_path / "h.duckdb") as s:
        t = T0 + 61 * NS
        s.write_events(
            [
                Liquidation(
                    exchange="okx",
                    symbol=SYM,
                    side=PositionSide.LONG,
                    price=Decimal(p),
                    size=Decimal(q),
                    ts_exchange=t + i,
                    liquidation_id=f"h{i}",
                )
                for i, (p, q) in enumerate([("60013.7", "2"), ("60011.2", "0.5")])
            ]
        )
        rows = (
            s.cursor()
            .execute(
                "SELECT span_s, bucket_ns, gm, gexp, pidx, n, size, notional, pmin, pmax"
                " FROM liquidations_rollup ORDER BY span_s, pidx"
            )
            .fetchall()
        )
    d = Decimal
    assert rows == [
        (60, T0 + 60 * NS, 1, 0, 60011, 1, d("0.5"), d("30005.6"), d("60011.2"), d("60011.2")),
        (60, T0 + 60 * NS, 1, 0, 60013, 1, d("2"), d("120027.4"), d("60013.7"), d("60013.7")),
        # 60010 <= both < 60015: one cell of width 5 (pidx 12002 * 5 = 60010)
        (300, T0, 5, 0, 12002, 2, d("2.5"), d("150033.0"), d("60011.2"), d("60013.7")),
        (3600, T0, 5, 0, 12002, 2, d("2.5"), d("150033.0"), d("60011.2"), d("60013.7")),
    ]
