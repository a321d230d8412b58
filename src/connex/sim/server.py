"""Runs simulated venues on 127.0.0.1 and drives the market clock.

``SimServer`` builds one ``MarketModel`` per (exchange, symbol) around a ``FairValue``
per base asset, starts one aiohttp server (REST + websocket) per venue on a free
loopback port, and steps every model ``rate`` times a second (or on demand with
``step_all``). Tests read ground truth with ``truth()`` and inject faults with
``inject()``. A small control API (``/urls``, ``/truth``, ``/faults``) lets
``connex sim`` users do the same over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web

from .faults import Fault
from .market import FairValue, MarketModel
from .venue import Venue
from .venues import venue_class

__all__ = ["ASSETS", "SimServer", "VenueKey"]


@dataclass(frozen=True)
class AssetSpec:
    start: Decimal
    price_decimals: int
    size_decimals: int


#: Default start price and precision per base asset.
ASSETS: dict[str, AssetSpec] = {
    "BTC": AssetSpec(Decimal("60000"), 1, 4),
    "ETH": AssetSpec(Decimal("3000"), 2, 3),
    "SOL": AssetSpec(Decimal("150"), 3, 2),
    "DOGE": AssetSpec(Decimal("0.15"), 5, 0),
    "XRP": AssetSpec(Decimal("0.6"), 4, 1),
}
_DEFAULT_ASSET = AssetSpec(Decimal("10"), 3, 2)

VenueKey = tuple[str, str]  # (exchange, market)


def _market_of(symbol: str) -> str:
    """Market kind of a unified symbol as venues name it: ``spot`` or ``linear``."""
    if ":" not in symbol:
        return "spot"
    quote = symbol.split("/")[1].split(":")[0]
    settle = symbol.split(":")[1]
    return "linear" if quote == settle else "inverse"


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


class SimServer:
    """The simulator. Use as ``async with SimServer({...}) as sim:``."""

    def __init__(
        self,
        symbols: dict[str, list[str]],
        *,
        seed: int = 7,
        rate: float = 20.0,
        depth: int = 200,
        host: str = "127.0.0.1",
        autostart: bool = True,
        venue_options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.symbols = symbols
        self.seed = seed
        self.rate = rate
        self.host = host
        self.autostart = autostart
        self.fair: dict[str, FairValue] = {}
        self.venues: dict[VenueKey, Venue] = {}
        self.models: dict[tuple[str, str], MarketModel] = {}
        self.ports: dict[VenueKey, int] = {}
        self._runners: list[web.AppRunner] = []
        self._clock: asyncio.Task[None] | None = None
        self._paused = asyncio.Event()
        self._paused.set()
        self.steps = 0
        self.control_port = 0
        grouped: dict[VenueKey, dict[str, MarketModel]] = {}
        for exchange, syms in symbols.items():
            for i, sym in enumerate(syms):
                base = sym.split("/")[0]
                spec = ASSETS.get(base, _DEFAULT_ASSET)
                fair = self.fair.get(base)
                if fair is None:
                    start = int(spec.start.scaleb(spec.price_decimals))
                    fair = self.fair[base] = FairValue(start, _seed(seed, base), vol_ticks=3.0)
                market = _market_of(sym)
                model = MarketModel(
                    sym,
                    fair,
                    seed=_seed(seed, exchange, sym),
                    price_decimals=spec.price_decimals,
                    size_decimals=spec.size_decimals,
                    depth=depth,
                    derivative=market != "spot",
                    venue_offset_ticks=(_seed(exchange, sym, i) % 7) - 3,
                )
                self.models[(exchange, sym)] = model
                grouped.setdefault((exchange, market), {})[sym] = model
        opts = venue_options or {}
        for key, models in grouped.items():
            cls = venue_class(*key)
            self.venues[key] = cls(models, **opts.get(key[0], {}))

    # -- lifecycle ----------------------------------------------------------------
    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        for key, venue in self.venues.items():
            self.ports[key] = await self._serve(venue.app, 0)
        self.control_port = await self._serve(self._control_app(), 0)
        if self.autostart:
            self._clock = asyncio.ensure_future(self._run_clock())

    async def _serve(self, app: web.Application, port: int) -> int:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, port, reuse_address=True)
        await site.start()
        self._runners.append(runner)
        server = site._server
        assert server is not None and server.sockets
        return int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
        for venue in self.venues.values():
            venue.disconnect_all()
        for runner in self._runners:
            with contextlib.suppress(Exception):
                await runner.cleanup()
        self._runners.clear()

    # -- clock --------------------------------------------------------------------
    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.rate
        next_at = loop.time()
        while True:
            await self._paused.wait()
            now = loop.time()
            due = max(1, min(1000, int((now - next_at) / interval) + 1))
            for _ in range(due):
                self.step_all()
            next_at += due * interval
            if next_at < now - 1.0:
                next_at = now
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    def step_all(self) -> None:
        """Advance every fair value and market by one step and publish it."""
        ts_ms = int(time.time() * 1000)
        for fair in self.fair.values():
            fair.step()
        for venue in self.venues.values():
            for sym, model in venue.models.items():
                venue.on_step(sym, model.step(ts_ms))
        self.steps += 1

    def pause(self) -> None:
        """Stop the clock (connections stay open)."""
        self._paused.clear()

    def resume(self) -> None:
        self._paused.set()

    # -- introspection ------------------------------------------------------------
    def venue(self, exchange: str, symbol_or_market: str) -> Venue:
        market = (
            symbol_or_market
            if symbol_or_market in ("spot", "linear", "inverse")
            else _market_of(symbol_or_market)
        )
        return self.venues[(exchange, market)]

    def model(self, exchange: str, symbol: str) -> MarketModel:
        return self.models[(exchange, symbol)]

    def truth(
        self, exchange: str, symbol: str, depth: int | None = None
    ) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        """Ground-truth book of ``symbol`` on ``exchange``."""
        return self.models[(exchange, symbol)].truth(depth)

    def inject(
        self,
        exchange: str,
        symbol_or_market: str,
        fault: Fault | str,
        *,
        symbol: str | None = None,
        count: int = 1,
        seconds: float = 0.0,
    ) -> None:
        """Queue a fault on the venue serving ``symbol_or_market``."""
        sym = (
            symbol
            if symbol is not None
            else (None if symbol_or_market in ("spot", "linear", "inverse") else symbol_or_market)
        )
        self.venue(exchange, symbol_or_market).faults.add(
            Fault(fault), sym, count=count, seconds=seconds
        )

    def base_url(self, exchange: str, market: str) -> str:
        return f"http://{self.host}:{self.ports[(exchange, market)]}"

    def endpoints(self) -> dict[str, dict[str, dict[str, str]]]:
        """``{exchange: {market: {"ws": url, "rest": url}}}`` for every venue."""
        out: dict[str, dict[str, dict[str, str]]] = {}
        for (exchange, market), port in self.ports.items():
            out.setdefault(exchange, {})[market] = {
                "ws": f"ws://{self.host}:{port}",
                "rest": f"http://{self.host}:{port}",
            }
        return out

    # -- control API --------------------------------------------------------------
    def _control_app(self) -> web.Application:
        app = web.Application()

        async def urls(_: web.Request) -> web.Response:
            return web.json_response(self.endpoints())

        async def truth(request: web.Request) -> web.Response:
            ex = request.match_info["exchange"]
            sym = request.query.get("symbol", "")
            depth = int(request.query.get("depth", "20"))
            if (ex, sym) not in self.models:
                return web.json_response(
                    {"error": f"unknown exchange/symbol {ex} {sym}"}, status=404
                )
            bids, asks = self.truth(ex, sym, depth)
            return web.json_response(
                {
                    "bids": [[str(p), str(q)] for p, q in sorted(bids.items(), reverse=True)],
                    "asks": [[str(p), str(q)] for p, q in sorted(asks.items())],
                    "steps": self.steps,
                }
            )

        async def faults(request: web.Request) -> web.Response:
            try:
                body = await request.json()
                self.inject(
                    body["exchange"],
                    body.get("symbol") or body["market"],
                    body["fault"],
                    count=int(body.get("count", 1)),
                    seconds=float(body.get("seconds", 0)),
                )
            except (KeyError, ValueError, TypeError) as exc:
                return web.json_response({"error": f"bad fault request: {exc!r}"}, status=400)
            return web.json_response({"ok": True})

        app.router.add_get("/urls", urls)
        app.router.add_get("/truth/{exchange}", truth)
        app.router.add_post("/faults", faults)
        return app
