"""Runs many feeds and hands their events to consumers.

``Runner`` plans connections for each exchange (via the exchange's sans-I/O
``PublicSession.plan``), starts one ``Feed`` task per connection, and delivers events to
callbacks (inline) and to bounded ``EventStream``s (see ``consumers`` for the
backpressure policy). It exposes the verified books, per-feed metrics and per-exchange
health.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from connex.book import BookSync
from connex.exchanges import prod_endpoints, protocol_class
from connex.exchanges.base import Channel, MarketEndpoints, Subscription
from connex.model import ExchangeHealth, FeedState
from connex.model.errors import ConfigError
from connex.transport import RestClient

from .consumers import EventStream
from .feed import Feed

__all__ = ["Runner", "coerce_endpoints"]

log = logging.getLogger("connex.runner")

EndpointsLike = Mapping[str, MarketEndpoints | Mapping[str, str]]


def coerce_endpoints(exchange: str, endpoints: EndpointsLike | None) -> dict[str, MarketEndpoints]:
    """Endpoints given as ``{"spot": {"ws": .., "rest": ..}}`` or ``MarketEndpoints``;
    markets not given fall back to production."""
    out = prod_endpoints(exchange)
    for market, ep in (endpoints or {}).items():
        out[market] = (
            ep if isinstance(ep, MarketEndpoints) else MarketEndpoints(ws=ep["ws"], rest=ep["rest"])
        )
    return out


class Runner:
    """Supervises feeds. Use ``async with Runner() as r`` after ``r.add(...)``."""

    def __init__(
        self,
        *,
        proxy: str | None = None,
        depth_cap: int | None = None,
        recorder: Any = None,
        stale_after: float | None = None,
        backoff_initial: float = 0.25,
        transport: str = "auto",
    ) -> None:
        self.transport = transport
        self.proxy = proxy
        self.depth_cap = depth_cap
        self.recorder = recorder
        self.stale_after = stale_after
        self.backoff_initial = backoff_initial
        self.feeds: list[Feed] = []
        self._plans: list[
            tuple[str, list[Subscription], dict[str, MarketEndpoints], dict[str, Any]]
        ] = []
        self._callbacks: list[Callable[[Any], Any]] = []
        self._streams: list[EventStream] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._rest: RestClient | None = None
        self._books: dict[tuple[str, str], BookSync] = {}
        self._feed_of: dict[tuple[str, str], Feed] = {}
        self.started_ns = 0
        self._n = 0

    # -- configuration -------------------------------------------------------------
    def add(
        self,
        exchange: str,
        symbols: Iterable[str],
        channels: Iterable[Channel | str] = (Channel.BOOK, Channel.TRADES),
        endpoints: EndpointsLike | None = None,
        **options: Any,
    ) -> None:
        """Subscribe ``channels`` for ``symbols`` on ``exchange``.

        Channels a market does not offer (e.g. liquidations on spot) are skipped for that
        symbol; a channel offered by none of the symbols raises ``ConfigError``.
        """
        cls = protocol_class(exchange)
        chans = [Channel(c) for c in channels]
        subs: list[Subscription] = []
        for ch in chans:
            matched = False
            for sym in symbols:
                sub = Subscription(ch, sym)
                if ch in cls.channels.get(sub.market_type, frozenset()):
                    subs.append(sub)
                    matched = True
            if not matched:
                raise ConfigError(
                    f"{exchange}: channel {ch.value!r} is offered for none of {list(symbols)}"
                )
        self._plans.append((exchange, subs, coerce_endpoints(exchange, endpoints), options))

    def on_event(self, callback: Callable[[Any], Any]) -> None:
        """Call ``callback(event)`` inline for every event (keep it cheap)."""
        self._callbacks.append(callback)

    def events(
        self, maxsize: int = 10_000, policy: str = "pause", types: tuple[type, ...] | None = None
    ) -> EventStream:
        """A new bounded stream of events (``async for ev in runner.events()``)."""
        stream = EventStream(maxsize, policy, types)
        self._streams.append(stream)
        return stream

    # -- lifecycle ------------------------------------------------------------------
    async def __aenter__(self) -> Runner:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._rest = RestClient(proxy=self.proxy)
        self.started_ns = time.time_ns()
        for exchange, subs, endpoints, options in self._plans:
            cls = protocol_class(exchange)
            for spec in cls.plan(subs, endpoints):
                protocol = cls(spec, endpoints[spec.market], **options)
                feed = Feed(
                    protocol,
                    self._rest,
                    self._deliver,
                    proxy=self.proxy,
                    depth_cap=self.depth_cap,
                    recorder=self.recorder,
                    stale_after=self.stale_after,
                    backoff_initial=self.backoff_initial,
                    transport=self.transport,
                )
                self.feeds.append(feed)
                for symbol, sync in feed.core.books.items():
                    self._books[(exchange, symbol)] = sync
                    self._feed_of[(exchange, symbol)] = feed
                self._tasks.append(asyncio.ensure_future(self._supervise(feed)))

    async def _supervise(self, feed: Feed) -> None:
        try:
            await feed.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s stopped with a fatal error", feed.name)

    async def stop(self) -> None:
        for feed in self.feeds:
            await feed.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for stream in self._streams:
            stream.close()
        if self._rest is not None:
            await self._rest.aclose()
        if self.recorder is not None:
            self.recorder.close()

    # -- delivery -------------------------------------------------------------------
    def _deliver(self, events: list[Any], feed: Feed) -> Any:
        for cb in self._callbacks:
            for ev in events:
                cb(ev)
        full = None
        for stream in self._streams:
            for ev in events:
                stream.put(ev)
            if stream.policy == "pause" and stream.full():
                full = stream
        if self._callbacks and events:
            self._n += 1
            if not self._n & 7:  # sample one delivery in 8
                ts = getattr(events[-1], "ts_local", 0)
                if ts:
                    feed.metrics.receive_to_consumer.add(time.time_ns() - ts)
        if full is not None:
            return full.wait_space()
        return None

    # -- state ----------------------------------------------------------------------
    def book(self, exchange: str, symbol: str) -> BookSync:
        """The verified book of ``symbol`` (check ``.is_live`` before trusting it)."""
        try:
            return self._books[(exchange, symbol)]
        except KeyError:
            raise KeyError(f"no book subscribed for {exchange} {symbol}") from None

    def books(self) -> dict[tuple[str, str], BookSync]:
        return dict(self._books)

    def feed_for(self, exchange: str, symbol: str) -> Feed:
        return self._feed_of[(exchange, symbol)]

    def metrics(self) -> dict[str, dict[str, Any]]:
        """Per feed: counters, rates, latency percentiles and each book's integrity counters."""
        out: dict[str, dict[str, Any]] = {}
        for feed in self.feeds:
            out[feed.name] = {
                "exchange": feed.exchange,
                "state": feed.state.value,
                **feed.core.counters.as_dict(),
                **feed.metrics.as_dict(),
                "books": {
                    sym: {"live": s.is_live, "sequence": s.book.sequence, **s.counters.as_dict()}
                    for sym, s in feed.core.books.items()
                },
            }
        return out

    def health(self, now_ns: int | None = None) -> list[ExchangeHealth]:
        """One ``ExchangeHealth`` per exchange, from its feeds."""
        now = now_ns or time.time_ns()
        by_ex: dict[str, list[Feed]] = {}
        for feed in self.feeds:
            by_ex.setdefault(feed.exchange, []).append(feed)
        out = []
        for ex, feeds in by_ex.items():
            connected = all(f.state in (FeedState.CONNECTED, FeedState.RESYNCING) for f in feeds)
            last = max((f.last_message_ns for f in feeds), default=0)
            age = (now - last) / 1e9 if last else None
            books = [s for f in feeds for s in f.core.books.values()]
            live = sum(1 for s in books if s.is_live)
            stale_limit = min(f.stale_after for f in feeds)
            healthy = connected and live == len(books) and (age is not None and age < stale_limit)
            out.append(
                ExchangeHealth(
                    exchange=ex,
                    connected=connected,
                    healthy=healthy,
                    last_message_age_s=age,
                    msgs_per_s=sum(f.metrics.msgs_per_s for f in feeds),
                    reconnects=sum(f.core.counters.reconnects for f in feeds),
                    errors=sum(f.core.counters.errors for f in feeds),
                    gaps=sum(s.counters.gaps for s in books),
                    resyncs=sum(s.counters.resyncs for s in books),
                    books_live=live,
                    books_total=len(books),
                    detail="; ".join(f"{f.name}: {f.state.value}" for f in feeds),
                    ts_local=now,
                )
            )
        return out
