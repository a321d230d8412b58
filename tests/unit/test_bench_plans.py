"""Bench plumbing: plans recorded from the simulator replay to the simulator's truth.

Not a timed test: tiny plans, and only the content is checked (final book levels equal
the truth recorded from the simulator, one book update per measured frame).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from connex.bench import _connex_run, _in_process, _run_args
from connex.bench_plans import BENCH_SYMBOLS, record_plan
from connex.sim.blast import BlastServer, load_plan, save_plan, unframe


@pytest.mark.parametrize("exchange", sorted(BENCH_SYMBOLS))
async def test_plan_replays_in_process_to_truth(exchange: str) -> None:
    plan = await record_plan(exchange, 60)
    assert plan.measured == 60
    assert len(plan.frames) == plan.prefix + 60
    assert plan.truth_bids and plan.truth_asks
    # the truth is a real, uncrossed book in exact strings
    assert Decimal(plan.truth_bids[0][0]) < Decimal(plan.truth_asks[0][0])
    # REST-seeded venues carry their snapshot body; in-stream ones none
    assert plan.wait_for_rest == (exchange in ("gateio", "mexc"))
    if exchange == "mexc":  # protobuf pushes stay binary frames
        assert isinstance(unframe(plan.frames[-1]), bytes)
    res = _in_process(exchange, 60, plan)
    assert res["messages"] == 60
    assert res["book_matches_truth"], exchange


@pytest.mark.parametrize("exchange", ["okx", "mexc"])
async def test_plan_replays_over_loopback(exchange: str, tmp_path) -> None:
    plan = await record_plan(exchange, 40)
    path = str(tmp_path / "plan.pkl")
    save_plan(plan, path)
    plan = load_plan(path)
    server = BlastServer(plan, "blast")
    port = await server.start()
    try:
        args = _run_args(plan)
        res = await asyncio.wait_for(_connex_run(port, plan.book_events, False, **args), timeout=15)
    finally:
        await server.close()
    assert res["delivered"] == 40
    assert res["live"]
    assert res["book_bids"] == plan.truth_bids
    assert res["book_asks"] == plan.truth_asks
