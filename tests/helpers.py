"""Shared test helpers: compare client books with the simulator's ground truth."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from connex.runtime import Runner
from connex.sim import SimServer

__all__ = ["assert_book_matches_truth", "book_vs_truth", "wait_for"]


def book_vs_truth(
    runner: Runner, sim: SimServer, exchange: str, symbol: str, depth: int
) -> str | None:
    """``None`` when the client's top ``depth`` levels equal the truth, else a description."""
    sync = runner.book(exchange, symbol)
    if not sync.is_live:
        return f"book not live (state {sync.state.name})"
    tb, ta = sim.truth(exchange, symbol, depth)
    cb: dict[Decimal, Decimal] = dict(sync.book.bids_decimal(depth))
    ca: dict[Decimal, Decimal] = dict(sync.book.asks_decimal(depth))
    if cb == tb and ca == ta:
        return None
    diff_b = {p: (cb.get(p), tb.get(p)) for p in set(cb) | set(tb) if cb.get(p) != tb.get(p)}
    diff_a = {p: (ca.get(p), ta.get(p)) for p in set(ca) | set(ta) if ca.get(p) != ta.get(p)}
    return (
        f"bids differ at {sorted(diff_b.items())[:5]}, asks differ at {sorted(diff_a.items())[:5]}"
    )


async def wait_for(cond: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll ``cond`` until true or ``timeout``; returns the last value."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if cond():
            return True
        await asyncio.sleep(interval)
    return cond()


async def assert_book_matches_truth(
    runner: Runner,
    sim: SimServer,
    exchange: str,
    symbol: str,
    depth: int = 50,
    timeout: float = 10.0,
) -> None:
    """Pause the simulator, let the client drain, then require book == truth at ``depth``.

    The simulator is resumed afterwards. Fails with the differing levels.
    """
    sim.pause()
    try:
        ok = await wait_for(
            lambda: book_vs_truth(runner, sim, exchange, symbol, depth) is None, timeout
        )
        assert ok, f"{exchange} {symbol}: {book_vs_truth(runner, sim, exchange, symbol, depth)}"
    finally:
        sim.resume()
