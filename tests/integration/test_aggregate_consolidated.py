"""Consolidated book and health over the simulator (Binance + OKX over loopback).

Expected values are computed here from the simulator's ground truth with ``Fraction``
arithmetic and a plain reference walk, independently of ``ConsolidatedBook``.
"""

from __future__ import annotations

import time
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest

from connex.aggregate import ConsolidatedBook, HealthTracker
from connex.exchanges.base import Channel
from connex.model import BookReset, BookSnapshot
from connex.runtime import Runner
from connex.sim import Fault, SimServer
from tests.helpers import book_vs_truth, wait_for

pytestmark = pytest.mark.timeout(60)

SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"
SYMBOLS = {"binance": [SPOT, PERP], "okx": [SPOT]}
FEES = {"binance": Decimal("0.0004"), "okx": Decimal("0.0005")}


def bps(num: Fraction, den: Fraction) -> Decimal:
    v = num * 10_000 / den
    return (Decimal(v.numerator) / Decimal(v.denominator)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_EVEN
    )


def reference_walk(asks, bids, fa: Fraction, fb: Fraction) -> tuple[Fraction, Fraction]:
    """Fill unit by unit of the smallest lot: (size, net profit) while profitable."""
    asks = [[Fraction(p), Fraction(q)] for p, q in asks]
    bids = [[Fraction(p), Fraction(q)] for p, q in bids]
    size = profit = Fraction(0)
    while asks and bids:
        (ap, aq), (bp, bq) = asks[0], bids[0]
        unit = bp * (1 - fb) - ap * (1 + fa)
        if unit <= 0:
            break
        q = min(aq, bq)
        size += q
        profit += q * unit
        asks[0][1] -= q
        bids[0][1] -= q
        if asks[0][1] == 0:
            asks.pop(0)
        if bids[0][1] == 0:
            bids.pop(0)
    return size, profit


def truth_sorted(sim, ex, sym, depth=50):
    b, a = sim.truth(ex, sym, depth)
    return sorted(b.items(), reverse=True), sorted(a.items())


@pytest.fixture
async def env():
    async with SimServer(SYMBOLS, rate=100, seed=21) as sim:
        runner = Runner(backoff_initial=0.05)
        for ex, syms in SYMBOLS.items():
            runner.add(ex, syms, [Channel.BOOK], endpoints=sim.endpoints()[ex])
        cb = ConsolidatedBook(taker_fees=FEES, max_age_ns=5_000_000_000)
        health = HealthTracker(stale_after_s=5)
        cb0 = ConsolidatedBook(
            default_taker_fee=Decimal(0),
            max_age_ns=5_000_000_000,
            # this view reads the runtime's own verified books instead of keeping copies
            book_provider=lambda ex, sym: (
                runner.book(ex, sym).book if runner.book(ex, sym).is_live else None
            ),
        )
        runner.on_event(cb.on_event)
        runner.on_event(cb0.on_event)
        runner.on_event(health.on_event)
        async with runner:
            assert await wait_for(lambda: all(s.is_live for s in runner.books().values()), 10)
            yield sim, runner, cb, health, cb0


async def drained(sim, runner) -> None:
    """Pause the market and wait until every client book equals the truth."""
    sim.pause()
    ok = await wait_for(
        lambda: all(book_vs_truth(runner, sim, ex, s, 50) is None for ex, s in runner.books()), 10
    )
    assert ok, [book_vs_truth(runner, sim, ex, s, 50) for ex, s in runner.books()]


async def test_cross_venue_quote_arbitrage_and_basis_match_truth(env) -> None:
    sim, runner, cb, _, cb0 = env
    # Lift OKX's fair value 60 ticks (6 USDT) above Binance's until the venues cross.
    sim.model("okx", SPOT).offset += 60

    def crossed() -> bool:
        return sim.model("okx", SPOT).best_bid() > sim.model("binance", SPOT).best_ask()

    assert await wait_for(crossed, 10)
    await drained(sim, runner)
    now = time.time_ns()
    tb = {ex: truth_sorted(sim, ex, SPOT) for ex in ("binance", "okx")}
    best_bid_ex = max(tb, key=lambda ex: tb[ex][0][0][0])
    best_ask_ex = min(tb, key=lambda ex: tb[ex][1][0][0])
    bid, ask = tb[best_bid_ex][0][0][0], tb[best_ask_ex][1][0][0]
    assert best_bid_ex == "okx" and best_ask_ex == "binance" and bid > ask  # crossed

    q = cb.quote(SPOT, now)
    assert (q.bid_exchange, q.bid_price, q.bid_size) == ("okx", bid, tb["okx"][0][0][1])
    assert (q.ask_exchange, q.ask_price, q.ask_size) == ("binance", ask, tb["binance"][1][0][1])
    mid = (Fraction(bid) + Fraction(ask)) / 2
    assert q.spread == ask - bid and q.crossed
    assert q.spread_bps == bps(Fraction(ask) - Fraction(bid), mid)

    q0 = cb0.quote(SPOT, now)  # the provider-backed view agrees with the own-books view
    assert (q0.bid_exchange, q0.bid_price, q0.ask_exchange, q0.ask_price) == (
        "okx",
        bid,
        "binance",
        ask,
    )
    # ~1 bp of cross is eaten by 9 bp of taker fees: no opportunity is reported...
    fa, fb = Fraction(FEES["binance"]), Fraction(FEES["okx"])
    assert Fraction(bid) * (1 - fb) - Fraction(ask) * (1 + fa) < 0
    assert cb.arbitrage(SPOT, now) == []
    # ... and without fees (a second view fed by the same events) there is one
    fa = fb = Fraction(0)
    unit = Fraction(bid) - Fraction(ask)
    (o,) = cb0.arbitrage(SPOT, now, max_levels=50)
    assert (o.buy_exchange, o.sell_exchange) == ("binance", "okx")
    assert Fraction(o.net_per_unit) == unit
    assert o.net_bps == bps(unit, Fraction(ask))
    assert o.top_size == min(tb["binance"][1][0][1], tb["okx"][0][0][1])
    size, profit = reference_walk(tb["binance"][1], tb["okx"][0], fa, fb)
    assert (Fraction(o.size), Fraction(o.net_profit)) == (size, profit)
    assert o.size >= o.top_size
    assert 0 <= o.buy_age_ns < 5_000_000_000 and 0 <= o.sell_age_ns < 5_000_000_000

    # consolidated depth: every level's size is the sum over the venues' truth at that price
    d = cb.top(SPOT, now, depth=10)
    truth_bids: dict[Decimal, Decimal] = {}
    for ex in tb:
        for p, s in tb[ex][0][:10]:
            truth_bids[p] = truth_bids.get(p, Decimal(0)) + s
    want = sorted(truth_bids.items(), reverse=True)[:10]
    assert [(lv.price, lv.size) for lv in d.bids] == want

    # spot (both venues) vs Binance's perpetual
    perp_b, perp_a = truth_sorted(sim, "binance", PERP)
    basis = {b.spot_exchange: b for b in cb.basis("BTC", now)}
    assert set(basis) == {"binance", "okx"}
    for ex in basis:
        s_mid = (Fraction(tb[ex][0][0][0]) + Fraction(tb[ex][1][0][0])) / 2
        p_mid = (Fraction(perp_b[0][0]) + Fraction(perp_a[0][0])) / 2
        assert basis[ex].basis_bps == bps(p_mid - s_mid, s_mid)
        assert basis[ex].carry_bps == bps(
            Fraction(perp_b[0][0]) - Fraction(tb[ex][1][0][0]), Fraction(tb[ex][1][0][0])
        )

    # with the market paused, every venue goes stale after max_age: nothing consolidated
    later = now + 6_000_000_000
    q = cb.quote(SPOT, later)
    assert q.bid_price is None and q.ask_price is None
    assert all(v.stale and not v.usable for v in q.venues)
    assert cb.arbitrage(SPOT, later) == []
    sim.resume()


async def test_reset_excludes_venue_until_resnapshot_and_health_counts_it(env) -> None:
    sim, runner, cb, health, _ = env
    seen: list[tuple[str, bool, str | None]] = []

    def probe(ev: object) -> None:  # runs right after cb.on_event for the same event
        if type(ev) in (BookReset, BookSnapshot) and ev.exchange == "okx":  # type: ignore[attr-defined]
            okx = next(v for v in cb.venue_quotes(SPOT, time.time_ns()) if v.exchange == "okx")
            q = cb.quote(SPOT, time.time_ns())
            seen.append((type(ev).__name__, okx.usable, q.bid_exchange if q else None))

    runner.on_event(probe)
    sim.inject("okx", SPOT, Fault.DROP)
    assert await wait_for(lambda: any(s[0] == "BookSnapshot" for s in seen), 10), seen
    reset_i = next(i for i, s in enumerate(seen) if s[0] == "BookReset")
    assert seen[reset_i][1] is False  # excluded at once
    assert seen[reset_i][2] in ("binance", None)  # the consolidated bid no longer from okx
    snap_i = next(i for i, s in enumerate(seen) if s[0] == "BookSnapshot" and i > reset_i)
    assert seen[snap_i][1] is True  # back after the fresh snapshot
    await drained(sim, runner)
    now = time.time_ns()
    okx_top = truth_sorted(sim, "okx", SPOT)[0][0]
    v = next(v for v in cb.venue_quotes(SPOT, now) if v.exchange == "okx")
    assert (v.bid_price, v.bid_size) == okx_top and v.usable
    h = health.health("okx", now)
    assert h.gaps >= 1 and h.resyncs >= 1 and h.connected and h.books_live == h.books_total == 1
    assert h.healthy, h.detail
    # the same figures read from the runner's metrics instead of its events
    hm = HealthTracker(stale_after_s=5)
    hm.observe_runner(runner)
    m = hm.health("okx", now)
    okx_sync = runner.book("okx", SPOT)
    assert (m.gaps, m.resyncs) == (okx_sync.counters.gaps, okx_sync.counters.resyncs)
    assert m.gaps >= 1 and m.connected and (m.books_live, m.books_total) == (1, 1)
    assert m.last_message_age_s is not None and m.last_message_age_s < 5
    sim.resume()
