"""The simulator's liquidation knobs: more liquidations, same book, deterministic."""

import math

import pytest

from connex.sim.market import LEVERAGE_TIERS, MAINTENANCE_MARGIN, FairValue, MarketModel


def run(steps: int, *, seed_oi: int = 0, **kw: object):
    fair = FairValue(600_000, 11, vol_ticks=3.0)
    m = MarketModel(
        "BTC/USDT:USDT", fair, seed=12, price_decimals=1, size_decimals=3, derivative=True, **kw
    )  # type: ignore[arg-type]
    if seed_oi:
        m.seed_open_interest(seed_oi, 0.002)
    seeded = list(m.positions)
    books, liqs = [], []
    for i in range(steps):
        fair.step()
        st = m.step(i)
        books.append(
            (st.bids, st.asks, [(t.price, t.size, t.taker_buy) for t in st.trades], st.mark_ticks)
        )
        liqs += [(i, lq) for lq in st.liquidations]
    return books, liqs, seeded


def test_seeded_open_interest_liquidates_without_touching_the_book() -> None:
    books0, liqs0, _ = run(4000)
    books1, liqs1, seeded = run(4000, seed_oi=2000)
    assert books1 == books0  # the book, trades and mark evolve exactly as without it
    assert liqs0 == []  # a 3-tick walk cannot reach a fresh 100x position in 4,000 steps
    assert len(seeded) == 2000 and len(liqs1) > 20
    start = 600_000
    for p in seeded:  # liquidation prices within 0.2% of the start, on the right side
        assert (
            (start * 0.998 - 1 <= p.liq_price < start)
            if p.long
            else (start < p.liq_price <= start * 1.002 + 2)
        )
        assert p.leverage in LEVERAGE_TIERS
        factor = (
            1 - 1 / p.leverage + float(MAINTENANCE_MARGIN)
            if p.long
            else 1 + 1 / p.leverage - float(MAINTENANCE_MARGIN)
        )
        assert abs(p.entry * factor - p.liq_price) <= 2
    by_id = {p.position_id: p for p in seeded}
    for _, lq in liqs1:  # each liquidation is a crossing of a seeded position's level
        pos = by_id[lq.position.position_id]
        assert (lq.price <= pos.liq_price) if pos.long else (lq.price >= pos.liq_price)
    assert run(4000, seed_oi=2000)[1] == liqs1  # deterministic


def test_mark_source_fair_and_position_rate() -> None:
    fair = FairValue(600_000, 3, vol_ticks=40.0)
    m = MarketModel(
        "X",
        fair,
        seed=4,
        price_decimals=1,
        derivative=True,
        mark_source="fair",
        venue_offset_ticks=2,
        position_rate=1.0,
        position_lots=(5, 5),
    )
    for i in range(50):
        fair.step()
        st = m.step(i)
        assert st.mark_ticks == fair.ticks + 2
    assert m.position_id == 50 and all(p.size == 5 for p in m.positions)
    with pytest.raises(ValueError):
        MarketModel("X", fair, seed=4, mark_source="last")


def test_fair_value_swing() -> None:
    plain = FairValue(600_000, 9, vol_ticks=3.0)
    swung = FairValue(600_000, 9, vol_ticks=3.0, swing_ticks=1000, swing_period_steps=400)
    for n in range(1, 401):
        walk = plain.step()
        got = swung.step()
        assert got == walk + round(1000 * math.sin(2 * math.pi * n / 400))
