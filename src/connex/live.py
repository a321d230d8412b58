"""Shared run loop for ``connex run`` and ``connex demo``: a live rich table of books,
trades, liquidations and feed health, or a JSON summary after ``--duration``."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from connex.model import BookDelta, BookSnapshot, FeedError, Liquidation, Trade
from connex.runtime import Runner

__all__ = ["Tally", "render_table", "run_live", "summary"]


class Tally:
    """Counts what consumers saw, per (exchange, symbol)."""

    def __init__(self) -> None:
        self.trades: dict[tuple[str, str], int] = defaultdict(int)
        self.last_trade: dict[tuple[str, str], Trade] = {}
        self.liquidations: dict[tuple[str, str], int] = defaultdict(int)
        self.last_liq: dict[tuple[str, str], Liquidation] = {}
        self.book_events: dict[tuple[str, str], int] = defaultdict(int)
        self.errors: list[FeedError] = []
        self.events = 0

    def __call__(self, ev: Any) -> None:
        self.events += 1
        t = type(ev)
        if t is BookDelta or t is BookSnapshot:
            self.book_events[(ev.exchange, ev.symbol)] += 1
        elif t is Trade:
            self.trades[(ev.exchange, ev.symbol)] += 1
            self.last_trade[(ev.exchange, ev.symbol)] = ev
        elif t is Liquidation:
            self.liquidations[(ev.exchange, ev.symbol)] += 1
            self.last_liq[(ev.exchange, ev.symbol)] = ev
        elif t is FeedError and len(self.errors) < 100:
            self.errors.append(ev)


def _spread_bps(bid: Decimal, ask: Decimal) -> str:
    mid = (bid + ask) / 2
    return f"{(ask - bid) / mid * 10000:.2f}" if mid else "-"


def render_table(runner: Runner, tally: Tally) -> Table:
    table = Table(title="Connex — verified books", expand=False)
    for col in (
        "exchange",
        "symbol",
        "book",
        "seq",
        "bid",
        "ask",
        "bps",
        "updates",
        "trades",
        "last trade",
        "liqs",
        "gaps",
        "resyncs",
    ):
        table.add_column(
            col, justify="right" if col not in ("exchange", "symbol", "book") else "left"
        )
    keys = sorted({*runner.books(), *tally.trades, *tally.liquidations})
    for key in keys:
        ex, sym = key
        sync = runner.books().get(key)
        bid = ask = None
        if sync is not None and sync.is_live:
            bid, ask = sync.book.best_bid(), sync.book.best_ask()
        lt = tally.last_trade.get(key)
        table.add_row(
            ex,
            sym,
            "[green]live[/]"
            if sync is not None and sync.is_live
            else ("[red]sync[/]" if sync else "-"),
            str(sync.book.sequence) if sync else "-",
            str(bid[0]) if bid else "-",
            str(ask[0]) if ask else "-",
            _spread_bps(bid[0], ask[0]) if bid and ask else "-",
            str(tally.book_events.get(key, 0)),
            str(tally.trades.get(key, 0)),
            f"{lt.side.value} {lt.size}@{lt.price}" if lt else "-",
            str(tally.liquidations.get(key, 0)),
            str(sync.counters.gaps) if sync else "-",
            str(sync.counters.resyncs) if sync else "-",
        )
    health = Table(title="Feeds", expand=False)
    for col in (
        "exchange",
        "connected",
        "healthy",
        "msg/s",
        "age s",
        "reconnects",
        "errors",
        "books live",
    ):
        health.add_column(col)
    for h in runner.health():
        health.add_row(
            h.exchange,
            "[green]yes[/]" if h.connected else "[red]no[/]",
            "[green]yes[/]" if h.healthy else "[red]no[/]",
            f"{h.msgs_per_s:.0f}",
            f"{h.last_message_age_s:.1f}" if h.last_message_age_s is not None else "-",
            str(h.reconnects),
            str(h.errors),
            f"{h.books_live}/{h.books_total}",
        )
    outer = Table.grid()
    outer.add_row(table)
    outer.add_row(health)
    return outer


def summary(runner: Runner, tally: Tally, started: float) -> dict[str, Any]:
    books = {}
    for (ex, sym), sync in runner.books().items():
        bb, ba = sync.book.best_bid(), sync.book.best_ask()
        books[f"{ex}:{sym}"] = {
            "live": sync.is_live,
            "sequence": sync.book.sequence,
            "best_bid": str(bb[0]) if bb else None,
            "best_ask": str(ba[0]) if ba else None,
            "crossed": sync.book.is_crossed(),
            **sync.counters.as_dict(),
        }
    return {
        "duration_s": round(time.monotonic() - started, 2),
        "events": tally.events,
        "books": books,
        "trades": {f"{ex}:{sym}": n for (ex, sym), n in tally.trades.items()},
        "liquidations": {f"{ex}:{sym}": n for (ex, sym), n in tally.liquidations.items()},
        "errors": [
            {"exchange": e.exchange, "kind": e.kind, "message": e.message}
            for e in tally.errors[:10]
        ],
        "health": [
            {
                "exchange": h.exchange,
                "connected": h.connected,
                "healthy": h.healthy,
                "reconnects": h.reconnects,
                "errors": h.errors,
                "books_live": h.books_live,
                "books_total": h.books_total,
            }
            for h in runner.health()
        ],
        "feeds": runner.metrics(),
    }


async def run_live(
    runner: Runner,
    duration: float | None,
    as_json: bool,
    console: Console | None = None,
    *,
    manage: bool = True,
    header: str = "",
) -> dict[str, Any]:
    """Run ``runner`` showing the live table (unless ``as_json``); return the summary.

    With ``manage=False`` the runner is already started (and stopped) by the caller.
    """
    tally = Tally()
    runner.on_event(tally)
    started = time.monotonic()
    end = started + duration if duration else None

    async def loop() -> None:
        if as_json:
            while end is None or time.monotonic() < end:
                await asyncio.sleep(0.2)
            return
        con = console or Console()
        if header:
            con.print(header)
        with Live(render_table(runner, tally), console=con, refresh_per_second=4) as live:
            while end is None or time.monotonic() < end:
                await asyncio.sleep(0.25)
                live.update(render_table(runner, tally))

    if manage:
        async with runner:
            await loop()
            return summary(runner, tally, started)
    await loop()
    return summary(runner, tally, started)
