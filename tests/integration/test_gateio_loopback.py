"""Gate connector against the simulated Gate venues over real loopback sockets.

Futures books are kept in contracts (as Gate sends them); the simulator's truth is in base
units, so futures books are compared after multiplying by the venue's ``quanto_multiplier``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connex.exchanges.base import Channel
from connex.exchanges.gateio.symbols import SymbolMap
from connex.model import (
    BookReset,
    BookSnapshot,
    FeedError,
    FundingRate,
    Liquidation,
    MarkPrice,
    PositionSide,
    ResetReason,
    Side,
    Trade,
)
from connex.runtime import Runner
from connex.sim import Fault, SimServer
from tests.helpers import assert_book_matches_truth, wait_for

SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"
SYMS = [SPOT, PERP]
DEPTH = 100  # the subscribed level: the client holds exactly the true top 100


def gate_book_vs_truth(
    runner: Runner, sim: SimServer, symbol: str, depth: int = DEPTH
) -> str | None:
    sync = runner.book("gateio", symbol)
    if not sync.is_live:
        return f"book not live ({sync.state.name})"
    mult = sim.venue("gateio", symbol).multiplier(symbol) if ":" in symbol else Decimal(1)
    tb, ta = sim.truth("gateio", symbol, depth)
    cb = {p: q * mult for p, q in sync.book.bids_decimal(depth)}
    ca = {p: q * mult for p, q in sync.book.asks_decimal(depth)}
    if (cb, ca) == (tb, ta):
        return None
    db = sorted((p, cb.get(p), tb.get(p)) for p in set(cb) | set(tb) if cb.get(p) != tb.get(p))
    da = sorted((p, ca.get(p), ta.get(p)) for p in set(ca) | set(ta) if ca.get(p) != ta.get(p))
    return f"bids differ {db[:4]}, asks differ {da[:4]}"


async def assert_matches_truth(
    runner: Runner, sim: SimServer, symbol: str, depth: int = DEPTH
) -> None:
    sim.pause()
    try:
        ok = await wait_for(lambda: gate_book_vs_truth(runner, sim, symbol, depth) is None, 10)
        assert ok, f"{symbol}: {gate_book_vs_truth(runner, sim, symbol, depth)}"
    finally:
        sim.resume()


async def contract_map(sim: SimServer) -> SymbolMap:
    """Load the venue's contract listing, as a deployment would, for base-unit sizes."""
    symbols = SymbolMap()
    if ("gateio", "linear") not in sim.ports:
        return symbols
    async with httpx.AsyncClient() as client:
        r = await client.get(sim.base_url("gateio", "linear") + "/api/v4/futures/usdt/contracts")
    symbols.load_contracts(r.json())
    return symbols


async def _start(sim: SimServer, syms: list[str], channels: list[Channel], **opts: Any):  # type: ignore[no-untyped-def]
    runner = Runner(stale_after=2.0, backoff_initial=0.05)
    runner.add("gateio", syms, channels, endpoints=sim.endpoints()["gateio"], **opts)
    return runner


@pytest.fixture
async def env() -> AsyncIterator[tuple[SimServer, Runner, list[Any]]]:
    async with SimServer({"gateio": SYMS}, rate=300, seed=11) as sim:
        runner = await _start(
            sim, SYMS, [Channel.BOOK, Channel.TRADES], symbol_map=await contract_map(sim)
        )
        events: list[Any] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(lambda: all(runner.book("gateio", s).is_live for s in SYMS), 10)
            yield sim, runner, events


@pytest.mark.parametrize("symbol", SYMS)
async def test_books_equal_truth_after_10000_updates(symbol: str) -> None:
    # The market is stepped by the test (no clock), in batches the client can keep up with
    # on a loaded machine; the book is compared with the truth along the way.
    async with SimServer({"gateio": [symbol]}, autostart=False, seed=5) as sim:
        runner = await _start(
            sim, [symbol], [Channel.BOOK, Channel.TRADES], symbol_map=await contract_map(sim)
        )
        events: list[Any] = []
        runner.on_event(events.append)
        async with runner:
            sync = runner.book("gateio", symbol)
            for _ in range(500):
                if sync.is_live:
                    break
                sim.step_all()
                await asyncio.sleep(0.005)
            assert sync.is_live
            steps = 0
            while steps < 10_200:
                for _ in range(20):
                    sim.step_all()
                steps += 20
                await asyncio.sleep(0)
                target = steps - 300
                assert await wait_for(lambda t=target: sync.counters.deltas_applied >= t, 10)
                if steps % 2_500 == 0:
                    await assert_matches_truth(runner, sim, symbol)
            assert await wait_for(lambda: sync.counters.deltas_applied >= 10_000, 10)
            await assert_matches_truth(runner, sim, symbol)
    c = sync.counters
    assert (c.gaps, c.crossed, c.resyncs, c.duplicates) == (0, 0, 0, 0)
    if ":" in symbol:  # futures book sizes are whole contracts
        assert all(q.isdigit() for _, q in sync.book.bids(20) + sync.book.asks(20))
    ids = [int(e.trade_id) for e in events if isinstance(e, Trade)]
    assert len(ids) > 100 and ids == list(range(ids[0], ids[0] + len(ids)))  # none lost, in order
    assert not [e for e in events if isinstance(e, (FeedError, BookReset))]


async def test_futures_trades_are_in_base_units_with_signed_sides(env) -> None:
    sim, _, events = env
    assert await wait_for(
        lambda: sum(isinstance(e, Trade) and e.symbol == PERP for e in events) > 20, 10
    )
    trades = [e for e in events if isinstance(e, Trade) and e.symbol == PERP]
    mult = sim.venue("gateio", PERP).multiplier(PERP)
    assert mult == Decimal("0.0001")
    # the model trades whole lots: a base size is a multiple of one contract
    assert all(t.size > 0 and (t.size / mult) == int(t.size / mult) for t in trades)
    assert {t.side for t in trades} == {Side.BUY, Side.SELL}


FAULTS = [Fault.DROP, Fault.DUPLICATE, Fault.REORDER, Fault.SEQ_GAP]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.value for f in FAULTS])
@pytest.mark.parametrize("symbol", SYMS)
async def test_sequence_faults_detected_and_recovered(env, fault: Fault, symbol: str) -> None:
    sim, runner, events = env
    sync = runner.book("gateio", symbol)
    before = sync.counters.as_dict()
    sim.inject("gateio", symbol, fault)
    if fault is Fault.DUPLICATE:
        assert await wait_for(lambda: sync.counters.duplicates > before["duplicates"], 5)
        assert sync.counters.gaps == before["gaps"]  # skipped as stale, not a gap
    else:
        assert await wait_for(lambda: sync.counters.resyncs > before["resyncs"], 10)
        assert sync.counters.gaps > before["gaps"]
        resets = [e for e in events if isinstance(e, BookReset) and e.symbol == symbol]
        assert resets and resets[-1].reason is ResetReason.GAP
    await assert_matches_truth(runner, sim, symbol)


async def test_malformed_frame_is_counted_and_feed_survives(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("gateio", PERP)
    sim.inject("gateio", PERP, Fault.MALFORMED)
    assert await wait_for(lambda: feed.core.counters.malformed >= 1, 5)
    err = next(e for e in events if isinstance(e, FeedError) and e.kind == "malformed")
    assert err.exchange == "gateio" and err.snippet.startswith('{"broken"')
    await assert_matches_truth(runner, sim, PERP)


async def test_unsolicited_full_push_replaces_the_book(env) -> None:
    sim, runner, events = env
    sync = runner.book("gateio", SPOT)
    snaps = sync.counters.snapshots
    sim.inject("gateio", SPOT, Fault.RESNAPSHOT)
    assert await wait_for(lambda: sync.counters.snapshots > snaps, 5)
    assert sync.counters.gaps == 0 and sync.is_live
    full = [e for e in events if isinstance(e, BookSnapshot) and e.symbol == SPOT][-1]
    assert len(full.bids) == DEPTH and len(full.asks) == DEPTH
    await assert_matches_truth(runner, sim, SPOT)


async def test_disconnect_reconnects_resubscribes_and_resyncs(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("gateio", PERP)
    sync = runner.book("gateio", PERP)
    resyncs = sync.counters.resyncs
    sim.inject("gateio", "linear", Fault.DISCONNECT)
    assert await wait_for(lambda: feed.core.counters.reconnects >= 1, 10)
    assert await wait_for(lambda: sync.counters.resyncs > resyncs and sync.is_live, 10)
    assert any(isinstance(e, BookReset) and e.reason is ResetReason.RECONNECT for e in events)
    await assert_matches_truth(runner, sim, PERP)


async def test_stall_is_detected_as_stale_and_recovered(env) -> None:
    sim, runner, events = env
    feed = runner.feed_for("gateio", SPOT)
    sim.inject("gateio", "spot", Fault.STALL, seconds=3.0)
    stale = lambda: any(isinstance(e, BookReset) and e.reason is ResetReason.STALE for e in events)  # noqa: E731
    assert await wait_for(stale, 10)
    assert await wait_for(lambda: feed.core.counters.reconnects >= 1, 10)
    assert await wait_for(lambda: runner.book("gateio", SPOT).is_live, 10)
    await assert_matches_truth(runner, sim, SPOT)


async def test_rest_429_is_honoured_and_snapshot_retried(env) -> None:
    sim, runner, _ = env
    sync = runner.book("gateio", SPOT)
    feed = runner.feed_for("gateio", SPOT)
    errors = feed.core.counters.errors
    resyncs = sync.counters.resyncs
    sim.inject("gateio", "spot", Fault.HTTP_429, count=2)
    sim.inject("gateio", SPOT, Fault.DROP)
    assert await wait_for(lambda: sync.counters.resyncs > resyncs, 15)
    assert feed.core.counters.errors >= errors + 2  # both 429 answers seen and counted
    assert sim.venue("gateio", "spot").faults.injected.get("http_429") == 2
    await assert_matches_truth(runner, sim, SPOT)


async def test_unknown_symbol_subscription_error_names_code_and_message() -> None:
    async with SimServer({"gateio": ["BTC/USDT"]}, rate=200, seed=3) as sim:
        runner = await _start(sim, ["BTC/USDT", "NOPE/USDT"], [Channel.TRADES])
        events: list[Any] = []
        runner.on_event(events.append)
        async with runner:

            def errs() -> list[FeedError]:
                return [
                    e for e in events if isinstance(e, FeedError) and e.kind == "exchange_error"
                ]

            assert await wait_for(lambda: bool(errs()), 5)
            msg = errs()[0].message
            assert (
                "code 2" in msg
                and "unknown currency pair: NOPE_USDT" in msg
                and "spot.trades" in msg
            )


async def test_liquidations_funding_and_mark_match_the_venue() -> None:
    sym = "XRP/USDT:USDT"  # cheap asset: leveraged positions get liquidated within seconds
    async with SimServer({"gateio": [sym]}, rate=500, seed=2) as sim:
        venue = sim.venue("gateio", sym)
        printed: list[tuple[bool, int, int]] = []
        on_step = venue.on_step

        def record(symbol: str, step: Any) -> None:  # observe what the venue is told
            printed.extend((liq.long, liq.price, liq.position.size) for liq in step.liquidations)
            on_step(symbol, step)

        venue.on_step = record  # type: ignore[method-assign]
        channels = [Channel.LIQUIDATIONS, Channel.FUNDING, Channel.MARK_PRICE]
        runner = await _start(sim, [sym], channels, symbol_map=await contract_map(sim))
        events: list[Any] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(lambda: sum(isinstance(e, Liquidation) for e in events) >= 3, 18)
            assert await wait_for(lambda: any(isinstance(e, FundingRate) for e in events), 5)
    model = sim.model("gateio", sym)
    mult = venue.multiplier(sym)
    assert mult == Decimal("0.1")
    liqs = [e for e in events if isinstance(e, Liquidation)]
    expected = [
        (
            PositionSide.LONG if long else PositionSide.SHORT,
            Decimal(model.price_str(px)),
            lots * mult,
        )
        for long, px, lots in printed
    ]
    got = [(e.side, e.price, e.size) for e in liqs]
    # every liquidation since the subscription, in order, with the right side and size
    starts = [i for i in range(len(expected)) if expected[i : i + len(got)] == got]
    assert starts, (got[:3], expected[:6])
    assert all(e.symbol == sym and e.ts_exchange > 0 for e in liqs)
    funding = next(e for e in events if isinstance(e, FundingRate))
    mark = next(e for e in events if isinstance(e, MarkPrice))
    assert funding.symbol == sym and abs(funding.rate) < Decimal("0.001")
    assert mark.mark_price == funding.mark_price and mark.open_interest is not None


async def test_obu_mode_books_equal_truth_and_gap_resubscribes() -> None:
    async with SimServer({"gateio": SYMS}, rate=300, seed=9) as sim:
        runner = await _start(sim, SYMS, [Channel.BOOK], book_mode="obu")
        events: list[Any] = []
        runner.on_event(events.append)
        async with runner:
            assert await wait_for(lambda: all(runner.book("gateio", s).is_live for s in SYMS), 10)
            await asyncio.sleep(0.5)
            for sym in SYMS:
                await assert_matches_truth(runner, sim, sym, depth=200)
            sync = runner.book("gateio", PERP)
            before = sync.counters.as_dict()
            sim.inject("gateio", PERP, Fault.SEQ_GAP)
            assert await wait_for(lambda: sync.counters.resyncs > before["resyncs"], 10)
            assert sync.counters.gaps == before["gaps"] + 1
            assert sync.counters.snapshots >= before["snapshots"] + 1  # a new full push
            await assert_matches_truth(runner, sim, PERP, depth=200)
    assert not [e for e in events if isinstance(e, FeedError)]


async def test_base_units_books_match_the_generic_truth_helper() -> None:
    # with the contract listing loaded, book_units="base" makes futures books comparable
    # with every other exchange (and with the simulator's truth) directly
    async with SimServer({"gateio": SYMS}, rate=300, seed=12) as sim:
        runner = await _start(
            sim, SYMS, [Channel.BOOK], symbol_map=await contract_map(sim), book_units="base"
        )
        async with runner:
            assert await wait_for(lambda: all(runner.book("gateio", s).is_live for s in SYMS), 10)
            await asyncio.sleep(0.5)
            for sym in SYMS:
                await assert_book_matches_truth(runner, sim, "gateio", sym, depth=DEPTH)
            best = runner.book("gateio", PERP).book.bids(1)[0][1]
            assert "." in best  # 0.0001-contract multiples, not whole contracts
