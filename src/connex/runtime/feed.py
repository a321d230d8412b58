"""One live feed: a websocket connection driven through ``FeedCore``.

The feed owns the I/O around the sans-I/O core: it connects (with exponential backoff
and jitter between attempts), subscribes, answers the core's commands (REST snapshots,
frames to send), keeps the connection alive (client pings when the protocol wants
them; server pings are answered by the transport), reconnects when the stream goes
silent for ``stale_after`` seconds or before the exchange's lifetime cut, and resyncs
every book after a reconnect. Errors in frames never stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from connex.exchanges.base import PublicProtocol, SendFrame
from connex.model import FeedError, FeedState, FeedStatus, NeedSnapshot, ResetReason
from connex.model.errors import ConnectionClosedError, RateLimitedError
from connex.transport import RestClient, WsSession, backoff, is_retryable

from .core import FeedCore
from .metrics import FeedMetrics

__all__ = ["Feed"]

log = logging.getLogger("connex.feed")

Deliver = Callable[[list[Any], "Feed"], "asyncio.Future[None] | None"]


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
        self.metrics = FeedMetrics()
        self.state = FeedState.CONNECTING
        self.last_message_ns = 0
        self.connected_once = False
        self._ws: WsSession | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._force_reconnect = asyncio.Event()
        self._stale = False

    # -- lifecycle ----------------------------------------------------------------
    async def run(self) -> None:
        delays = backoff(self.backoff_initial, 2.0, self.backoff_cap)
        while not self._stopping:
            try:
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
        if self._ws is not None:
            await self._ws.close()

    def reconnect(self) -> None:
        """Ask the feed to drop and re-open its connection."""
        self._force_reconnect.set()
        if self._ws is not None:
            self._spawn(self._ws.close())

    # -- one connection -------------------------------------------------------------
    async def _session(self) -> None:
        self._status(FeedState.CONNECTING, self.spec.url)
        async with WsSession(self.spec.url, proxy=self.proxy) as ws:
            self._ws = ws
            self._force_reconnect.clear()
            opened = time.monotonic()
            now = time.time_ns()
            if self.recorder is not None:
                self.recorder.open(self.name, self.spec.url, now, spec=self.spec)
            if self.connected_once:
                self.core.counters.reconnects += 1
                await self._handle(self.core.reset_all(ResetReason.RECONNECT, now, "reconnected"))
            self.connected_once = True
            self._status(FeedState.CONNECTED, self.spec.url)
            self.protocol.clock_ns = time.time_ns()
            for frame in self.protocol.subscribe_frames(self.spec.subscriptions):
                await self._send(frame)
            await self._handle(self.core.start())
            pinger = self._spawn(self._pinger()) if self.protocol.ping_interval else None
            try:
                await self._read_loop(ws, opened)
            finally:
                if pinger is not None:
                    pinger.cancel()
                self._ws = None

    async def _read_loop(self, ws: WsSession, opened: float) -> None:
        core = self.core
        metrics = self.metrics
        lifetime = self.protocol.max_lifetime
        recorder = self.recorder
        on_frame = core.on_frame
        recv = ws.recv
        handle = self._handle
        time_ns = time.time_ns
        self._stale = False
        self.last_message_ns = time_ns()
        watchdog = self._spawn(self._watchdog(ws))
        try:
            while not self._stopping:
                try:
                    frame = await recv()
                except ConnectionClosedError:
                    if self._stale:
                        return
                    raise
                now = time_ns()
                self.last_message_ns = now
                if recorder is not None:
                    recorder.recv(self.name, frame, now)
                metrics.tick(now)
                events = on_frame(frame, now)
                if events:
                    ts_ex = getattr(events[0], "ts_exchange", 0)
                    if ts_ex:
                        metrics.exchange_to_receive.add(now - ts_ex)
                    await handle(events)
                if lifetime is not None and time.monotonic() - opened > lifetime:
                    log.info(
                        "%s: reconnecting before the exchange's %gs lifetime cut",
                        self.name,
                        lifetime,
                    )
                    return
        finally:
            watchdog.cancel()

    async def _watchdog(self, ws: WsSession) -> None:
        """Declare the stream stale after ``stale_after`` seconds of silence and drop it."""
        stale_ns = int(self.stale_after * 1e9)
        period = min(1.0, self.stale_after / 4)
        while True:
            await asyncio.sleep(period)
            now = time.time_ns()
            if now - self.last_message_ns > stale_ns:
                self._stale = True
                self._status(FeedState.STALE, f"no message for {self.stale_after:g}s")
                detail = f"silent for {self.stale_after:g}s"
                await self._handle(self.core.reset_all(ResetReason.STALE, now, detail))
                await ws.close()
                return

    async def _handle(self, events: list[Any]) -> None:
        """Deliver events; carry out commands."""
        if not events:
            return
        plain = events
        for ev in events:
            t = type(ev)
            if t is NeedSnapshot or t is SendFrame:
                plain = [
                    e for e in events if type(e) is not NeedSnapshot and type(e) is not SendFrame
                ]
                for cmd in events:
                    if type(cmd) is NeedSnapshot:
                        self._status(FeedState.RESYNCING, cmd.symbol)
                        self._spawn(self._fetch_snapshot(cmd.symbol))
                    elif type(cmd) is SendFrame:
                        await self._send(cmd.text)
                break
            if t is FeedError:
                log.warning("%s: %s: %s | %s", self.name, ev.kind, ev.message, ev.snippet[:120])
        if plain:
            waiter = self.deliver(plain, self)
            if waiter is not None:
                await waiter

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
            await self._handle(events)
            return

    async def _pinger(self) -> None:
        interval = self.protocol.ping_interval
        assert interval
        while True:
            await asyncio.sleep(interval)
            self.protocol.clock_ns = time.time_ns()
            frame = self.protocol.ping_frame()
            if frame is not None:
                await self._send(frame)

    async def _send(self, text: str) -> None:
        ws = self._ws
        if ws is None:
            return
        if self.recorder is not None:
            self.recorder.send(self.name, text, time.time_ns())
        await ws.send(text)

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
        with contextlib.suppress(Exception):
            self.deliver([ev], self)
