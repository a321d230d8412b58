"""The whole system in one process: runtime, storage, aggregation and the Connex API.

``Stack`` joins a running ``Runner`` with:

- a ``StoreWriter`` fed from a bounded event stream (liquidations, funding/mark, book
  samples, health; trades when enabled) into the DuckDB file this process owns;
- a ``HealthTracker`` refreshed from the runner every second (and stored);
- a ``ConsolidatedBook`` reading the runner's verified books (cross-venue spreads,
  arbitrage, basis);
- one FastAPI app: the gateway (``/v1/...``, ``WS /v1/stream``, ``/metrics``) with the
  heatmap API and the dashboard mounted in it, served by uvicorn in the same loop.

``connex demo`` runs it against the simulator; ``connex serve`` against the config's
exchanges. DuckDB allows one writer process, so the API reads the same connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    FundingRate,
    Liquidation,
    MarkPrice,
    Trade,
)
from connex.runtime import Runner

__all__ = ["Stack"]

log = logging.getLogger("connex.stack")


class Stack:
    """Runner + store + health + consolidated book + API. ``async with Stack(...) as s``."""

    def __init__(
        self,
        runner: Runner,
        *,
        db_path: str | Path,
        host: str = "127.0.0.1",
        port: int = 8000,
        keys: Any = None,
        open_mode: bool = False,
        store_trades: bool = False,
        taker_fees: dict[str, Any] | None = None,
    ) -> None:
        self.runner = runner
        self.db_path = Path(db_path)
        self.host = host
        self.port = port
        self.keys = keys
        self.open_mode = open_mode
        self.store_trades = store_trades
        self.taker_fees = taker_fees
        self.store: Any = None
        self.writer: Any = None
        self.tracker: Any = None
        self.consolidated: Any = None
        self.server: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        types: tuple[type, ...] = (Liquidation, FundingRate, MarkPrice, BookSnapshot)
        if store_trades:
            types = (*types, Trade)
        # bounded; if the writer falls behind, the feeds pause (nothing is dropped)
        self._store_events = runner.events(maxsize=50_000, types=types)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.port if self.server else self.port}"

    def exchanges(self) -> list[str]:
        return sorted({f.exchange for f in self.runner.feeds} | {p[0] for p in self.runner._plans})

    def symbols(self) -> list[str]:
        syms: list[str] = []
        for _ex, subs, _e, _o in self.runner._plans:
            for s in subs:
                if s.symbol not in syms:
                    syms.append(s.symbol)
        return syms

    async def __aenter__(self) -> Stack:
        from connex.aggregate import ConsolidatedBook, HealthTracker
        from connex.gateway.app import create_app
        from connex.gateway.serve import GatewayServer
        from connex.store import Store, StoreWriter
        from connex.web.api import build_router

        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.store = Store.open(self.db_path)
        self.writer = StoreWriter(self.store, store_trades=self.store_trades)
        await self.writer.start()
        self.tracker = HealthTracker()
        for ex in self.exchanges():
            self.tracker.register(ex)
        runner = self.runner

        def book_provider(exchange: str, symbol: str) -> Any:
            sync = runner.books().get((exchange, symbol))
            return sync.book if sync is not None and sync.is_live else None

        self.consolidated = ConsolidatedBook(
            taker_fees=self.taker_fees, book_provider=book_provider
        )
        consolidated = self.consolidated

        def on_book(ev: Any) -> None:
            t = type(ev)
            if t is BookDelta or t is BookSnapshot or t is BookReset:
                consolidated.on_event(ev)

        runner.on_event(on_book)
        await runner.start()
        deps: list[Any] = []
        if self.keys is not None and not self.open_mode:
            from fastapi import Depends, Request

            keys = self.keys

            def require_key(request: Request) -> None:
                keys.authenticate(request.headers.get("X-Connex-Key")).charge()

            deps.append(Depends(require_key))
        router = build_router(
            self.store,
            self.tracker,
            self.consolidated,
            self.exchanges(),
            symbols=self.symbols(),
            dependencies=deps,
        )
        app = create_app(runner, keys=self.keys, open_mode=self.open_mode, extra_routers=[router])
        self.server = GatewayServer(app, self.host, self.port)
        await self.server.start()
        self._tasks = [
            asyncio.ensure_future(self._pump()),
            asyncio.ensure_future(self._observe()),
        ]
        return self

    async def _pump(self) -> None:
        put = self.writer.put
        async for ev in self._store_events:
            await put(ev)

    async def _observe(self) -> None:
        n = 0
        while True:
            await asyncio.sleep(1.0)
            self.tracker.observe_runner(self.runner)
            n += 1
            if n % 10 == 0:  # store health every 10 s
                for h in self.tracker.snapshot(time.time_ns()):
                    with contextlib.suppress(Exception):
                        await self.writer.put(h)

    async def __aexit__(self, *exc: object) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self.server is not None:
            await self.server.stop()
        await self.runner.stop()
        if self.writer is not None:
            await self.writer.stop()
        if self.store is not None:
            with contextlib.suppress(Exception):
                self.store.close()
