"""One live feed: a websocket connection driven through ``FeedCore``.

The feed owns the I/O around the sans-I/O core: it connects (with exponential backoff
and jitter between attempts), subscribes, answers the core's commands (REST snapshots,
frames to send), keeps the connection alive (client pings when the protocol wants
them; server pings are answered by the transport), reconnects when the stream goes
silent for ``stale_after`` seconds or before the exchange's lifetime cut, and resyncs
every book after a reconnect. Errors in frames never stop it.

Two transports carry the frames:

- **picows** (default when installed and no proxy is set): frames arrive through a
  synchronous callback and go through the core and to consumers without a task switch
  per frame. If an event stream is full (backpressure policy "pause"), reading from
  the socket is paused until it drains.
- **aiohttp** (proxies, or ``transport="aiohttp"``): an ``await``-per-frame read loop.

Both share the command and delivery code below, so behaviour is the same.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from connex.exchanges.base import PublicProtocol, SendFrame
from connex.model import (
    BookDelta,
    BookSnapshot,
    FeedError,
    FeedState,
    FeedStatus,
    FundingRate,
    Liquidation,
    MarkPrice,
    NeedSnapshot,
    ResetReason,
    Ticker,
    Trade,
)
from connex.model.errors import ConnectionClosedError, RateLimitedError
from connex.transport import RestClient, WsSession, backoff, fastws, is_retryable

from .core import FeedCore
from .metrics import FeedMetrics

__all__ = ["Feed"]

log = logging.getLogger("connex.feed")

_SAMPLE_MASK = 7  # latency samples: one message in 8
#: event types that need no command handling or logging (the per-message fast path)
_PLAIN = frozenset({BookDelta, BookSnapshot, Trade, Ticker, Liquidation, FundingRate, MarkPrice})


class Feed:
    """Runs one connection until ``stop()``. See the module docstring."""

    def __init__(
        self,
        protocol: PublicProtocol,
        rest: RestClient,
        deliver: Callable[[list[Any], Feed], Any],
        *,
        proxy: str | None = None,
        depth_cap: int | None = None,
        recorder: Any = None,
        stale_after: float | None = None,
        backoff_initial: float = 0.25,
        backoff_cap: float = 30.0,
        transport: str = "auto",
    ) -> None:
        self.protocol = protocol
        self.spec = protocol.spec
        self.name = protocol.spec.name
        self.exchange = protocol.exchange
        self.core = FeedCore(protocol, depth_cap=depth_cap)
        self.rest = rest
        self.deliver = deliver
        self.proxy = proxy
        self.recorder = recorder
        self.stale_after = stale_after if stale_after is not None else protocol.stale_after
        self.backoff_initial = backoff_initial
        self.backoff_cap = backoff_cap
        if transport not in ("auto", "picows", "aiohttp"):
            raise ValueError(f"transport must be 'auto', 'picows' or 'aiohttp', not {transport!r}")
        self.transport = (
            ("picows" if fastws.available() and not proxy else "aiohttp")
            if transport == "auto"
            else transport
        )
        self.metrics = FeedMetrics()
        self.state = FeedState.CONNECTING
        self.last_message_ns = 0
        self.connected_once = False
        self._ws: WsSession | None = None
        self._fast: fastws.FastWsSession | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stale = False
        self._cut = False
        self._n = 0
        self._pending_sends: list[str] = []  # aiohttp: frames waiting to be sent, in order
        self._flushing = False
        self._waiter: Any = None  # aiohttp: a full consumer stream to wait for

    # -- lifecycle ----------------------------------------------------------------
    async def run(self) -> None:
        delays = backoff(self.backoff_initial, 2.0, self.backoff_cap)
        while not self._stopping:
            try:
                if self.transport == "picows":
                    await self._session_fast()
                else:
                    await self._session()
                delays = backoff(self.backoff_initial, 2.0, self.backoff_cap)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping:
                    break
                if not is_retryable(exc):
                    self._status(FeedState.STOPPED, f"fatal: {exc}")
                    log.error("%s: giving up: %s", self.name, exc)
                    raise
                self._status(FeedState.DISCONNECTED, str(exc))
                log.warning("%s: disconnected: %s", self.name, exc)
            if self._stopping:
                break
            await asyncio.sleep(next(delays))
        self._status(FeedState.STOPPED, "")

    async def stop(self) -> None:
        self._stopping = True
        for t in list(self._tasks):
            t.cancel()
        await self._close()

    async def _close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._fast is not None:
            await self._fast.close()

    def reconnect(self) -> None:
        """Ask the feed to drop and re-open its connection."""
        self._spawn(self._close())

    # -- connection setup shared by both transports -----------------------------------
    def _opened(self) -> None:
        now = time.time_ns()
        self._stale = self._cut = False
        self.last_message_ns = now
        if self.recorder is not None:
            self.recorder.open(self.name, self.spec.url, now, spec=self.spec)
        if self.connected_once:
            self.core.counters.reconnects += 1
            self._handle_sync(self.core.reset_all(ResetReason.RECONNECT, now, "reconnected"))
        self.connected_once = True
        self._status(FeedState.CONNECTED, self.spec.url)
        self.protocol.clock_ns = time.time_ns()
        for frame in self.protocol.subscribe_frames(self.spec.subscriptions):
            self._send_sync(frame)
        self._handle_sync(self.core.start())

    # -- picows: callback per message ----------------------------------------------------
    async def _session_fast(self) -> None:
        self._status(FeedState.CONNECTING, self.spec.url)
        ws = fastws.FastWsSession(
            self.spec.url,
            self._on_message,
            # a recording must keep text and binary frames apart
            text_as_bytes=self.protocol.text_as_bytes and self.recorder is None,
        )
        await ws.connect()
        self._fast = ws
        opened = time.monotonic()
        helpers: list[asyncio.Task[Any]] = []
        try:
            self._opened()
            if self.protocol.ping_interval:
                helpers.append(self._spawn(self._pinger()))
            helpers.append(self._spawn(self._watchdog(opened)))
            try:
                await ws.wait_closed()
            except ConnectionClosedError:
                if self._stale or self._cut:
                    return
                raise
        finally:
            for t in helpers:
                t.cancel()
            self._fast = None
            await ws.close()

    def _on_message(self, frame: str | bytes) -> None:
        now = time.time_ns()
        self.last_message_ns = now
        if self.recorder is not None:
            self.recorder.recv(self.name, frame, now)
        self.metrics.messages += 1
        events = self.core.on_frame(frame, now)
        if events:
            self._n += 1
            if not self._n & _SAMPLE_MASK:
                ts_ex = getattr(events[0], "ts_exchange", 0)
                if ts_ex:
                    self.metrics.exchange_to_receive.add(now - ts_ex)
            if len(events) == 1 and type(events[0]) in _PLAIN:
                waiter = self.deliver(events, self)  # the common case: one market-data event
                if waiter is not None:
                    self._backpressure(waiter)
            else:
                self._handle_sync(events)

    # -- aiohttp: await per message --------------------------------------------------------
    async def _session(self) -> None:
        self._status(FeedState.CONNECTING, self.spec.url)
        async with WsSession(self.spec.url, proxy=self.proxy) as ws:
            self._ws = ws
            opened = time.monotonic()
            helpers: list[asyncio.Task[Any]] = []
            try:
                self._opened()
                await self._flush_sends(ws)
                if self.protocol.ping_interval:
                    helpers.append(self._spawn(self._pinger()))
                helpers.append(self._spawn(self._watchdog(opened)))
                await self._read_loop(ws)
            finally:
                for t in helpers:
                    t.cancel()
                self._ws = None

    async def _read_loop(self, ws: WsSession) -> None:
        recv = ws.recv
        on_message = self._on_message
        while not self._stopping:
            try:
                frame = await recv()
            except ConnectionClosedError:
                if self._stale or self._cut:
                    return
                raise
            on_message(frame)
            if self._pending_sends:
                await self._flush_sends(ws)
            waiter = self._waiter
            if waiter is not None:
                self._waiter = None
                await waiter

    async def _flush_sends(self, ws: WsSession) -> None:
        while self._pending_sends:  # FIFO even when several flushes overlap
            await ws.send(self._pending_sends.pop(0))

    # -- commands and delivery (shared) ------------------------------------------------------
    def _handle_sync(self, events: list[Any]) -> None:
        """Deliver events in order; carry out commands (REST fetches run as tasks)."""
        plain = events
        for ev in events:
            t = type(ev)
            if t is NeedSnapshot or t is SendFrame:
                plain = []
                for cmd in events:
                    tc = type(cmd)
                    if tc is NeedSnapshot:
                        self._status(FeedState.RESYNCING, cmd.symbol)
                        self._spawn(self._fetch_snapshot(cmd.symbol))
                    elif tc is SendFrame:
                        self._send_sync(cmd.text)
                    else:
                        plain.append(cmd)
                break
            if t is FeedError:
                log.warning("%s: %s: %s | %s", self.name, ev.kind, ev.message, ev.snippet[:120])
        if plain:
            waiter = self.deliver(plain, self)
            if waiter is not None:
                self._backpressure(waiter)

    def _backpressure(self, waiter: Any) -> None:
        """A consumer stream is full: stop reading the socket until it has room."""
        fast = self._fast
        if fast is not None:
            fast.pause_reading()

            async def resume() -> None:
                try:
                    await waiter
                finally:
                    if self._fast is fast:
                        fast.resume_reading()

            self._spawn(resume())
        else:
            self._waiter = waiter  # the aiohttp read loop awaits it before reading on

    def _send_sync(self, text: str) -> None:
        if self.recorder is not None:
            self.recorder.send(self.name, text, time.time_ns())
        if self._fast is not None:
            self._fast.send(text)
        elif self._ws is not None:
            self._pending_sends.append(text)
            if not self._flushing:
                self._flushing = True
                self._spawn(self._flush_later())

    async def _flush_later(self) -> None:
        try:
            if self._ws is not None:
                await self._flush_sends(self._ws)
        finally:
            self._flushing = False

    async def _fetch_snapshot(self, symbol: str) -> None:
        delays = backoff(0.2, 2.0, 10.0)
        while not self._stopping:
            req = self.protocol.snapshot_request(symbol)
            try:
                body = await self.rest.fetch(req)
            except RateLimitedError as exc:
                self.core.counters.errors += 1
                log.warning(
                    "%s: snapshot %s rate-limited; waiting %gs", self.name, symbol, exc.retry_after
                )
                await asyncio.sleep(exc.retry_after)
                continue
            except Exception as exc:
                self.core.counters.errors += 1
                log.warning("%s: snapshot %s failed: %s", self.name, symbol, exc)
                await asyncio.sleep(next(delays))
                continue
            now = time.time_ns()
            if self.recorder is not None:
                query = "&".join(f"{k}={v}" for k, v in req.params.items())
                self.recorder.rest(
                    self.name, f"{req.url}?{query}" if query else req.url, symbol, 200, body, now
                )
            events = self.core.on_snapshot(symbol, body, now)
            if all(s.is_live for s in self.core.books.values()):
                self._status(FeedState.CONNECTED, "books live")
            self._handle_sync(events)
            return

    async def _pinger(self) -> None:
        interval = self.protocol.ping_interval
        assert interval
        while True:
            await asyncio.sleep(interval)
            self.protocol.clock_ns = time.time_ns()
            frame = self.protocol.ping_frame()
            if frame is not None:
                self._send_sync(frame)

    async def _watchdog(self, opened: float) -> None:
        """Declare the stream stale after ``stale_after`` s of silence and drop it; also
        reconnect before the exchange's lifetime cut and refresh the message rate."""
        stale_ns = int(self.stale_after * 1e9)
        lifetime = self.protocol.max_lifetime
        period = min(1.0, self.stale_after / 4)
        while True:
            await asyncio.sleep(period)
            now = time.time_ns()
            self.metrics.tick(now, count=False)
            if now - self.last_message_ns > stale_ns:
                self._stale = True
                self._status(FeedState.STALE, f"no message for {self.stale_after:g}s")
                self._handle_sync(
                    self.core.reset_all(ResetReason.STALE, now, f"silent for {self.stale_after:g}s")
                )
                await self._close()
                return
            if lifetime is not None and time.monotonic() - opened > lifetime:
                log.info(
                    "%s: reconnecting before the exchange's %gs lifetime cut", self.name, lifetime
                )
                self._cut = True
                await self._close()
                return

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _status(self, state: FeedState, detail: str) -> None:
        if state is self.state and state is not FeedState.RESYNCING:
            return
        self.state = state
        ev = FeedStatus(
            exchange=self.exchange,
            feed=self.name,
            state=state,
            detail=detail,
            ts_local=time.time_ns(),
        )
        try:
            self.deliver([ev], self)
        except Exception:  # a consumer's error must not break the feed
            log.exception("%s: consumer failed on a status event", self.name)
