"""``connex compare``: run direct connectors and the gateway side by side, report differences.

Both sources are opened with the same subscriptions and read concurrently for
``duration`` seconds. Each side keeps its own book per (exchange, symbol), rebuilt from
the *events* it received (not from the live book, which may already be ahead), and
records a digest of the top ``depth`` levels at every book sequence number it reached.
Sequence points present on both sides are compared: any difference is a discrepancy.
For every event seen on both sides (book updates by sequence, trades by id) the
arrival-time difference ``connex - direct`` is measured per exchange: the latency the
gateway adds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from typing import Any

from connex.book import L2Book
from connex.model import BookDelta, BookReset, BookSnapshot, Liquidation, Trade

from .source import ConnexSource, DirectSource, EventSource, SourceConfig

__all__ = ["SideRecorder", "compare_command", "compare_sides", "run_compare"]

_MAX_POINTS = 20_000


class SideRecorder:
    """What one side saw: top-``depth`` digests per book sequence, arrival times."""

    def __init__(self, name: str, depth: int) -> None:
        self.name = name
        self.depth = depth
        self.books: dict[tuple[str, str], L2Book] = {}
        self.points: dict[tuple[str, str], OrderedDict[int, int]] = {}
        self.arrivals: OrderedDict[tuple[Any, ...], int] = OrderedDict()
        self.events = 0
        self.resets = 0

    def on_event(self, ev: Any, now: int) -> None:
        self.events += 1
        t = type(ev)
        if t is BookSnapshot or t is BookDelta:
            key = (ev.exchange, ev.symbol)
            book = self.books.get(key)
            if book is None:
                book = self.books[key] = L2Book()
            if t is BookSnapshot:
                book.load(ev.bids, ev.asks)
            else:
                book.apply(ev.bids, ev.asks)
            book.sequence = ev.sequence
            pts = self.points.setdefault(key, OrderedDict())
            pts[ev.sequence] = hash((tuple(book.bids(self.depth)), tuple(book.asks(self.depth))))
            if len(pts) > _MAX_POINTS:
                pts.popitem(last=False)
            if t is BookDelta:
                self._arrive(("book", ev.exchange, ev.symbol, ev.sequence), now)
        elif t is BookReset:
            self.resets += 1
            self.books.pop((ev.exchange, ev.symbol), None)
        elif t is Trade:
            self._arrive(("trade", ev.exchange, ev.symbol, ev.trade_id), now)
        elif t is Liquidation:
            self._arrive(
                ("liq", ev.exchange, ev.symbol, ev.ts_exchange, str(ev.price), str(ev.size)), now
            )

    def _arrive(self, key: tuple[Any, ...], now: int) -> None:
        if key not in self.arrivals:
            self.arrivals[key] = now
            if len(self.arrivals) > 5 * _MAX_POINTS:
                self.arrivals.popitem(last=False)


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


async def _consume(source: EventSource, side: SideRecorder) -> None:
    async for ev in source.events():
        side.on_event(ev, time.monotonic_ns())


async def run_compare(
    config: SourceConfig,
    *,
    duration: float = 10.0,
    depth: int = 20,
    runner: Any = None,
    warmup: float = 0.0,
) -> dict[str, Any]:
    """Read ``config``'s subscriptions directly and through the gateway; return a report.

    ``config.connex`` says where the gateway is; ``depth`` is the number of levels
    compared (the gateway stream is subscribed at that depth). ``runner`` optionally
    provides an already configured, not yet started runner for the direct side.
    The report: ``books`` (per book: compared points, equal, mismatched, first
    mismatching sequences), ``latency_ms`` (per exchange: samples, p50, p99, mean of
    connex minus direct arrival), ``events`` per side and ``ok`` (no mismatch and at
    least one compared point).
    """
    direct = DirectSource(config.model_copy(update={"source": "direct"}), runner)
    if runner is not None:
        await runner.start()
    connex = ConnexSource(config.model_copy(update={"source": "connex", "depth": depth}))
    d_side, c_side = SideRecorder("direct", depth), SideRecorder("connex", depth)
    started = time.monotonic()
    try:
        await direct.start()
        await connex.start()
        tasks = [
            asyncio.ensure_future(_consume(direct, d_side)),
            asyncio.ensure_future(_consume(connex, c_side)),
        ]
        await asyncio.sleep(warmup + duration)
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
    finally:
        await connex.stop()
        await direct.stop()
        if runner is not None:
            await runner.stop()

    report = compare_sides(d_side, c_side)
    report["duration_s"] = round(time.monotonic() - started, 3)
    return report


def compare_sides(d_side: SideRecorder, c_side: SideRecorder) -> dict[str, Any]:
    """The report for two sides that have seen their events (see ``run_compare``)."""
    books: dict[str, Any] = {}
    all_ok = True
    compared_total = 0
    for key in sorted(set(d_side.points) | set(c_side.points)):
        dp, cp = d_side.points.get(key, {}), c_side.points.get(key, {})
        common = sorted(set(dp) & set(cp))
        bad = [s for s in common if dp[s] != cp[s]]
        compared_total += len(common)
        all_ok = all_ok and not bad
        books[f"{key[0]} {key[1]}"] = {
            "compared": len(common),
            "equal": len(common) - len(bad),
            "mismatched": len(bad),
            "first_mismatches": bad[:10],
            "direct_points": len(dp),
            "connex_points": len(cp),
        }
    diffs: dict[str, list[float]] = {}
    for k, t_c in c_side.arrivals.items():
        t_d = d_side.arrivals.get(k)
        if t_d is not None:
            diffs.setdefault(k[1], []).append((t_c - t_d) / 1e6)
    latency = {
        ex: {
            "samples": len(v),
            "p50": _pct(v, 50),
            "p99": _pct(v, 99),
            "mean": sum(v) / len(v),
        }
        for ex, v in sorted(diffs.items())
    }
    return {
        "depth": d_side.depth,
        "books": books,
        "latency_ms": latency,
        "events": {"direct": d_side.events, "connex": c_side.events},
        "resets": {"direct": d_side.resets, "connex": c_side.resets},
        "ok": all_ok and compared_total > 0,
    }


def compare_command(
    config_path: str | None, *, duration: float = 10.0, depth: int = 20, env: Any = None
) -> dict[str, Any]:
    """``connex compare``: the config file's exchanges, read directly and through the
    gateway named by ``CONNEX_WS_URL``/``CONNEX_API_KEY``; returns the report."""
    from connex.gateway.serve import load_settings

    from .config import ConnexConfig

    settings, _ = load_settings(config_path)
    config = SourceConfig(exchanges=dict(settings.exchanges), connex=ConnexConfig.from_env(env))
    return asyncio.run(run_compare(config, duration=duration, depth=depth))
