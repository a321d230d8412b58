"""Benchmark of the consolidated book: cost of one book update, and of the queries.

``run_consolidated_bench`` builds synthetic, internally consistent books for several
venues of one symbol (prices around 60,000 with a 0.1 tick, exact decimal strings),
pre-generates ``n_updates`` ``BookDelta`` events (a few levels each, mostly near the top,
some moving the best price), then times ``ConsolidatedBook.on_event`` over all of them.
Event generation is outside the timed loop. Target: < 20 µs per update.

Run it with ``python -m connex.aggregate.bench`` (or ``connex bench`` once wired).
"""

from __future__ import annotations

import gc
import json
import random
import time
from typing import Any

from connex.model import BookDelta, BookSnapshot

from .consolidated import ConsolidatedBook

__all__ = ["run_consolidated_bench"]

_SYMBOL = "BTC/USDT"


def _px(ticks: int) -> str:
    return f"{ticks // 10}.{ticks % 10}"


def _make_events(
    n_updates: int, venues: list[str], depth: int, levels_per_update: int, seed: int
) -> tuple[list[BookSnapshot], list[BookDelta]]:
    rng = random.Random(seed)
    t0 = 1_700_000_000_000_000_000
    snaps: list[BookSnapshot] = []
    state: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
    for i, ex in enumerate(venues):
        mid = 600_000 + i  # ticks of 0.1
        bids = {mid - 1 - k: rng.randint(1, 50) for k in range(depth)}
        asks = {mid + 1 + k: rng.randint(1, 50) for k in range(depth)}
        state[ex] = (bids, asks)
        snaps.append(
            BookSnapshot(
                exchange=ex,
                symbol=_SYMBOL,
                bids=tuple(
                    (_px(p), f"{q / 1000:.3f}") for p, q in sorted(bids.items(), reverse=True)
                ),
                asks=tuple((_px(p), f"{q / 1000:.3f}") for p, q in sorted(asks.items())),
                sequence=1,
                ts_local=t0,
            )
        )
    deltas: list[BookDelta] = []
    seq = {ex: 1 for ex in venues}
    for n in range(n_updates):
        ex = venues[n % len(venues)]
        bids, asks = state[ex]
        bb, ba = max(bids), min(asks)
        bl: list[tuple[str, str]] = []
        al: list[tuple[str, str]] = []
        for _ in range(levels_per_update):
            side_bid = rng.random() < 0.5
            rank = min(int(rng.expovariate(1 / 8)), depth - 1)
            r = rng.random()
            if side_bid:
                p = bb - rank
                if r < 0.15 and p in bids and len(bids) > 5:
                    del bids[p]
                    bl.append((_px(p), "0"))
                elif r < 0.25 and bb + 1 < ba:
                    p = bb + 1  # improve the best bid
                    bids[p] = q = rng.randint(1, 50)
                    bl.append((_px(p), f"{q / 1000:.3f}"))
                    bb = p
                else:
                    bids[p] = q = rng.randint(1, 50)
                    bl.append((_px(p), f"{q / 1000:.3f}"))
            else:
                p = ba + rank
                if r < 0.15 and p in asks and len(asks) > 5:
                    del asks[p]
                    al.append((_px(p), "0"))
                elif r < 0.25 and ba - 1 > bb:
                    p = ba - 1
                    asks[p] = q = rng.randint(1, 50)
                    al.append((_px(p), f"{q / 1000:.3f}"))
                    ba = p
                else:
                    asks[p] = q = rng.randint(1, 50)
                    al.append((_px(p), f"{q / 1000:.3f}"))
            bb, ba = max(bids), min(asks)
        seq[ex] += 1
        deltas.append(
            BookDelta(
                exchange=ex,
                symbol=_SYMBOL,
                bids=tuple(bl),
                asks=tuple(al),
                sequence=seq[ex],
                ts_local=t0 + (n + 1) * 1000,
            )
        )
    return snaps, deltas


def run_consolidated_bench(
    n_updates: int = 100_000,
    *,
    venues: int = 4,
    depth: int = 500,
    levels_per_update: int = 4,
    n_queries: int = 2_000,
    seed: int = 1,
) -> dict[str, Any]:
    """Time the consolidated view: µs per book update, and per query.

    Returns a dict with ``us_per_update`` (apply to the venue's book + top refresh +
    cross-venue best), ``us_per_update_book_only`` (the same deltas on bare ``L2Book``s,
    to show what the consolidation adds), ``top_changes`` (updates that moved a venue's
    top), and ``us_per_quote`` / ``us_per_arbitrage`` / ``us_per_top10`` for the queries.
    ``consistent`` tells whether the final consolidated view equals the bare books' tops.
    """
    names = [f"venue{i}" for i in range(venues)]
    snaps, deltas = _make_events(n_updates, names, depth, levels_per_update, seed)
    cb = ConsolidatedBook(max_age_ns=10**18)
    for s in snaps:
        cb.on_event(s)
    on_event = cb.on_event
    gc_was = gc.isenabled()
    gc.disable()
    try:
        t = time.perf_counter_ns()
        changes = 0
        for ev in deltas:
            if on_event(ev):
                changes += 1
        update_ns = time.perf_counter_ns() - t

        # Reference: the same deltas on bare books (what any consumer pays anyway).
        from connex.book import L2Book

        books = {s.exchange: L2Book() for s in snaps}
        for s in snaps:
            books[s.exchange].load(s.bids, s.asks)
        t = time.perf_counter_ns()
        for ev in deltas:
            books[ev.exchange].apply(ev.bids, ev.asks)
        book_ns = time.perf_counter_ns() - t

        now = deltas[-1].ts_local if deltas else 0
        t = time.perf_counter_ns()
        for _ in range(n_queries):
            cb.quote(_SYMBOL, now)
        quote_ns = time.perf_counter_ns() - t
        t = time.perf_counter_ns()
        for _ in range(n_queries):
            cb.arbitrage(_SYMBOL, now)
        arb_ns = time.perf_counter_ns() - t
        t = time.perf_counter_ns()
        for _ in range(n_queries):
            cb.top(_SYMBOL, now, 10)
        top_ns = time.perf_counter_ns() - t
    finally:
        if gc_was:
            gc.enable()
    # The timed view must agree with the bare books fed the same deltas.
    view = cb.quote(_SYMBOL, now)
    bid_tops = [top for b in books.values() if (top := b.best_bid()) is not None]
    ask_tops = [top for b in books.values() if (top := b.best_ask()) is not None]
    best_bid = max((p for p, _ in bid_tops), default=None)
    best_ask = min((p for p, _ in ask_tops), default=None)
    consistent = (
        view is not None
        and view.bid_price == best_bid
        and view.ask_price == best_ask
        and (
            view.bid_exchange is None
            or books[view.bid_exchange].best_bid() == (view.bid_price, view.bid_size)
        )
        and (
            view.ask_exchange is None
            or books[view.ask_exchange].best_ask() == (view.ask_price, view.ask_size)
        )
        and all(
            (v.bid_price, v.bid_size) == (books[v.exchange].best_bid() or (None, None))
            and (v.ask_price, v.ask_size) == (books[v.exchange].best_ask() or (None, None))
            for v in view.venues
        )
    )
    n = max(1, len(deltas))
    q = max(1, n_queries)
    return {
        "n_updates": len(deltas),
        "venues": venues,
        "depth": depth,
        "levels_per_update": levels_per_update,
        "top_changes": changes,
        "us_per_update": update_ns / n / 1000,
        "us_per_update_book_only": book_ns / n / 1000,
        "us_per_quote": quote_ns / q / 1000,
        "us_per_arbitrage": arb_ns / q / 1000,
        "us_per_top10": top_ns / q / 1000,
        "target_us_per_update": 20.0,
        "consistent": consistent,
        "best_bid": str(view.bid_price) if view is not None else None,
        "best_ask": str(view.ask_price) if view is not None else None,
    }


def main() -> None:  # pragma: no cover - manual entry point
    res = run_consolidated_bench()
    print(json.dumps(res, indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
