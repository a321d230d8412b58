"""The liquidation / heatmap / health / consolidated-book HTTP API (a FastAPI router).

``build_router`` returns an :class:`fastapi.APIRouter`; the gateway app
(``connex.gateway.app.create_app``) includes it, and :func:`connex.web.app.create_web_app`
wraps it in a small standalone app. The router knows nothing about where the data
comes from: it is given three *providers* (plain callables, sync or async):

- ``store_provider() -> Store``: the DuckDB store (``connex.store.Store``). Store calls
  block, so they run in the thread pool.
- ``health_provider() -> health``: per-exchange health (a ``HealthTracker`` snapshot,
  ``Store.latest_health()``, or a plain ``{exchange: bool | str | dict}``); normalized by
  :func:`connex.web.sources.normalize_health` and cached for ``health_ttl_s`` (10 s).
- ``consolidated_provider(symbol) -> view``: consolidated book, spreads and arbitrage
  opportunities for one symbol (``connex.aggregate``); normalized by
  :func:`connex.web.sources.normalize_consolidated`.

Errors: an unknown exchange is a ``400`` whose message lists the valid ones; a bad
parameter is a ``422`` naming the field (FastAPI's error shape). All values reach the
store as bound parameters, never as SQL text.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from . import sources
from .cache import ResponseCache
from .colors import exchange_colors
from .params import (
    ParamError,
    UnknownExchangeError,
    parse_exchanges,
    parse_interval,
    parse_positive_decimal,
    parse_time,
)

__all__ = ["HealthCache", "build_router"]

log = logging.getLogger(__name__)

StoreProvider = Callable[[], Any]
HealthProvider = Callable[[], Any]
ConsolidatedProvider = Callable[[str], Any]

MAX_LIMIT = 10_000


async def _call(fn: Callable[..., Any], *args: Any, blocking: bool = False) -> Any:
    """Call a sync or async provider; blocking sync calls go to the thread pool."""
    if inspect.iscoroutinefunction(fn):
        return await fn(*args)
    result = await run_in_threadpool(fn, *args) if blocking else fn(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


class HealthCache:
    """Caches the normalized health list for ``ttl_s`` seconds (one provider call per TTL)."""

    def __init__(
        self,
        provider: HealthProvider,
        exchanges: list[str],
        ttl_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self._exchanges = exchanges
        self.ttl_s = ttl_s
        self._clock = clock
        self._value: list[dict[str, Any]] | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> tuple[list[dict[str, Any]], float]:
        """Return ``(health list, age in seconds)``."""
        async with self._lock:
            now = self._clock()
            if self._value is None or now - self._at >= self.ttl_s:
                try:
                    raw = await _call(self._provider, blocking=True)
                    self._value = sources.normalize_health(raw, self._exchanges)
                except Exception as err:  # health unknown: report every exchange down
                    log.warning("health provider failed: %r", err)
                    detail = f"health unavailable: {type(err).__name__}"
                    self._value = [
                        {"exchange": e, "ok": False, "status": "error", "detail": detail}
                        for e in self._exchanges
                    ]
                self._at = now
            return self._value, now - self._at


def _json(body: Any) -> Response:
    """Serialize with orjson (the bodies are builtins already; FastAPI's encoder is slow)."""
    return Response(orjson.dumps(body), media_type="application/json")


def _bad(field: str, message: str, value: object = None) -> JSONResponse:
    return JSONResponse(
        status_code=422, content={"detail": ParamError(field, message, value).detail()}
    )


def _unknown(err: UnknownExchangeError) -> JSONResponse:
    return JSONResponse(
        status_code=400,
        content={"detail": str(err), "unknown": err.unknown, "valid_exchanges": err.valid},
    )


def build_router(
    store_provider: StoreProvider,
    health_provider: HealthProvider,
    consolidated_provider: ConsolidatedProvider | None,
    exchanges: list[str],
    *,
    symbols: list[str] | None = None,
    health_ttl_s: float = 10.0,
    heatmap_cache_ttl_s: float = 2.0,
    max_concurrent_heatmaps: int = 4,
    dashboard: bool = True,
    dependencies: Sequence[Any] = (),
    key_header: str = "X-Connex-Key",
) -> APIRouter:
    """Build the web API router.

    Args:
        store_provider: returns the ``connex.store.Store`` to read from (or the Store).
        health_provider: returns current per-exchange health (see module docstring), or
            a ``HealthTracker`` (its ``snapshot`` at the wall clock is used).
        consolidated_provider: ``symbol -> ConsolidatedBook | view`` or a
            ``ConsolidatedBook``; ``None`` answers 503.
        exchanges: exchange ids this deployment serves (anything else is a 400).
        symbols: unified symbols offered by the dashboard's symbol selector.
        health_ttl_s: how long ``/exchanges/health`` answers from its cache.
        heatmap_cache_ttl_s: identical heatmap requests within this many seconds share
            one computed answer (concurrent ones always do; see ``connex.web.cache``).
        max_concurrent_heatmaps: heatmap computations running at once (others queue).
        dashboard: also serve the dashboard (``/``, ``/static/...``) from this router.
        dependencies: FastAPI dependencies (e.g. ``Depends(check_api_key)``) for the API
            routes; the dashboard page and its static files stay public.
        key_header: header the dashboard sends its API key in (the key comes from the
            page's ``?key=`` parameter and is kept in ``sessionStorage``).
    """
    valid = [e.lower() for e in exchanges]
    # Conveniences: the objects themselves instead of provider callables.
    if hasattr(store_provider, "query_liquidations"):  # a Store
        _store = store_provider
        store_provider = lambda: _store  # noqa: E731
    if not callable(health_provider) and hasattr(health_provider, "snapshot"):  # HealthTracker
        _tracker = health_provider
        health_provider = lambda: _tracker.snapshot(time.time_ns(), valid)  # noqa: E731
    if consolidated_provider is not None and not callable(consolidated_provider):
        # A ConsolidatedBook: the same object answers every symbol.
        _book = consolidated_provider
        consolidated_provider = lambda _symbol: _book  # noqa: E731
    health_cache = HealthCache(health_provider, valid, ttl_s=health_ttl_s)
    heatmap_cache = ResponseCache(heatmap_cache_ttl_s, max_concurrent=max_concurrent_heatmaps)
    colors = exchange_colors(valid)
    router = APIRouter(dependencies=list(dependencies))

    @router.get("/exchanges", name="web_exchanges", tags=["web"])
    async def list_exchanges() -> dict[str, Any]:
        """Exchanges served, their fixed dashboard colors, and the dashboard's symbols."""
        return {
            "exchanges": [{"name": e, "color": colors[e]} for e in valid],
            "symbols": list(symbols or []),
        }

    @router.get("/exchanges/health", name="web_exchanges_health", tags=["web"])
    async def exchanges_health() -> dict[str, Any]:
        """Per-exchange health, ``ok`` true/false; answered from a cache of ``ttl_s`` seconds."""
        items, age = await health_cache.get()
        return {"exchanges": items, "ttl_s": health_cache.ttl_s, "age_s": round(age, 3)}

    @router.get("/liquidations", name="web_liquidations", tags=["web"], response_model=None)
    async def liquidations(
        exchange: str | None = Query(None, description="exchange id; all when absent"),
        symbol: str | None = Query(None, description="unified symbol, e.g. BTC/USDT:USDT"),
        start: str | None = Query(None, description="ns since epoch or ISO-8601 (inclusive)"),
        end: str | None = Query(None, description="ns since epoch or ISO-8601 (exclusive)"),
        limit: int = Query(1000, ge=1, le=MAX_LIMIT, description="most recent rows first"),
    ) -> Any:
        """Stored liquidations, newest first; prices and sizes are exact decimal strings."""
        if exchange is not None:
            try:
                exchange = parse_exchanges(exchange, valid)[0]
            except UnknownExchangeError as err:
                return _unknown(err)
        try:
            start_ns = parse_time("start", start, None)
            end_ns = parse_time("end", end, None)
        except ParamError as err:
            return JSONResponse(status_code=422, content={"detail": err.detail()})
        if start_ns is not None and end_ns is not None and start_ns >= end_ns:
            return _bad("start", "must be before end", start)
        store = await _call(store_provider)
        rows = await run_in_threadpool(
            sources.fetch_liquidations, store, exchange, symbol, start_ns, end_ns, limit
        )
        body = {
            "exchange": exchange,
            "symbol": symbol,
            "start_ns": start_ns,
            "end_ns": end_ns,
            "count": len(rows),
            "liquidations": rows,
        }
        return _json(body)

    @router.get(
        "/liquidations/heatmap-timeseries",
        name="web_heatmap_timeseries",
        tags=["web"],
        response_model=None,
    )
    async def heatmap_timeseries(
        symbol: str = Query(..., min_length=1, description="unified symbol"),
        exchanges: str | None = Query(
            None, description="comma list (binance,bybit); all if absent"
        ),
        interval: str | None = Query(None, description="bucket: seconds or 5m/1h"),
        price_bin: str | None = Query(None, description="price bin width (exact decimal)"),
        bins: int = Query(40, ge=2, le=1000, description="bin count if no price_bin"),
        start: str | None = Query(None, description="ns since epoch or ISO-8601 (inclusive)"),
        end: str | None = Query(None, description="ns since epoch or ISO-8601 (exclusive)"),
        estimated: bool = Query(True, description="also compute the estimated layer"),
    ) -> Any:
        """Liquidation heatmap (time x price bins): realized and estimated layers, per exchange."""
        try:
            chosen = parse_exchanges(exchanges, valid)
        except UnknownExchangeError as err:
            return _unknown(err)
        try:
            interval_s = parse_interval("interval", interval, 300)
            bin_width = parse_positive_decimal("price_bin", price_bin)
            start_ns = parse_time("start", start, None)
            end_ns = parse_time("end", end, None)
        except ParamError as err:
            return JSONResponse(status_code=422, content={"detail": err.detail()})
        if start_ns is not None and end_ns is not None and start_ns >= end_ns:
            return _bad("start", "must be before end", start)
        try:
            sources.check_interval(interval_s)
        except ParamError as err:
            return JSONResponse(status_code=422, content={"detail": err.detail()})
        store = await _call(store_provider)

        async def compute() -> bytes:
            width = bin_width
            if width is None:
                width = await run_in_threadpool(
                    sources.auto_price_bin, store, symbol, chosen, start_ns, end_ns, bins
                )
            result = await run_in_threadpool(
                sources.fetch_heatmap,
                store,
                symbol,
                chosen,
                interval_s,
                width,
                start_ns,
                end_ns,
                estimated,
                builtins=False,
            )
            result["colors"] = colors
            return orjson.dumps(result, default=sources.jsonable)

        key = (
            symbol,
            tuple(chosen),
            interval_s,
            str(bin_width) if bin_width is not None else f"auto/{bins}",
            start_ns,
            end_ns,
            estimated,
        )
        try:
            body = await heatmap_cache.get(key, compute)
        except ParamError as err:
            return JSONResponse(status_code=422, content={"detail": err.detail()})
        return Response(body, media_type="application/json")

    @router.get(
        "/consolidated/{symbol:path}",
        name="web_consolidated",
        tags=["web"],
        response_model=None,
    )
    async def consolidated(
        symbol: str,
        depth: int = Query(10, ge=1, le=200, description="levels per side"),
        exchanges: str | None = Query(None, description="comma list; all when absent"),
    ) -> Any:
        """Consolidated book, cross-exchange spreads and arbitrage opportunities for ``symbol``."""
        try:
            chosen = parse_exchanges(exchanges, valid)
        except UnknownExchangeError as err:
            return _unknown(err)
        if consolidated_provider is None:
            return JSONResponse(status_code=503, content={"detail": "no aggregator running"})
        raw = await _call(consolidated_provider, symbol)
        view = None
        if raw is not None:
            view = sources.normalize_consolidated(raw, symbol, depth=depth, exchanges=chosen)
        if view is None:
            return JSONResponse(status_code=404, content={"detail": f"no book data for {symbol!r}"})
        return _json(view)

    outer = APIRouter()
    outer.include_router(router)
    if dashboard:
        from .dashboard import add_dashboard_routes

        # The page and its assets carry no dependencies: a browser cannot send an API
        # key on navigation; the page sends ``key_header`` on its own API calls.
        add_dashboard_routes(outer, key_header=key_header)
    return outer
