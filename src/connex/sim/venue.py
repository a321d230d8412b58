"""Base class of simulated venues: websocket bookkeeping, fault filter, REST 429s.

A venue speaks one market of one exchange (``binance``/``spot``...). It owns an aiohttp
application (REST + websocket on one loopback port) and is told about every market step
by the ``SimServer``; it encodes what changed in its exchange's own wire format, written
here independently of ``connex.exchanges`` (the simulator never imports connectors).

Subclasses implement ``setup_routes``, ``on_step`` and their own frame encoders, and call
``publish_book`` / ``publish`` to send; the base class applies the pending faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

from aiohttp import WSMsgType, web

from .faults import Fault, FaultPlan
from .market import MarketModel, MarketStep

__all__ = ["SimConnection", "Venue"]

log = logging.getLogger("connex.sim")


class SimConnection:
    """One client websocket on a venue."""

    __slots__ = ("_closer", "_outbox", "_wake", "closed", "id", "meta", "subscriptions", "ws")

    _ids = 0
    #: Frames queued for a client that does not read; past this the client is dropped.
    MAX_OUTBOX = 200_000

    def __init__(self, ws: web.WebSocketResponse) -> None:
        SimConnection._ids += 1
        self.id = SimConnection._ids
        self.ws = ws
        self.subscriptions: set[str] = set()
        self.meta: dict[str, Any] = {}
        self.closed = False
        self._outbox: deque[str | bytes] = deque()
        self._wake = asyncio.Event()

    def push(self, data: str | bytes) -> None:
        """Queue a frame; frames go out in order from one writer task."""
        if self.closed:
            return
        if len(self._outbox) >= self.MAX_OUTBOX:
            self.closed = True
            self._closer = asyncio.ensure_future(self.ws.close(message=b"slow consumer"))
            return
        self._outbox.append(data)
        self._wake.set()

    async def writer(self) -> None:
        ws = self.ws
        box = self._outbox
        try:
            while not self.closed:
                if not box:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                data = box.popleft()
                if isinstance(data, bytes):
                    await ws.send_bytes(data)
                else:
                    await ws.send_str(data)
        except (ConnectionError, RuntimeError):
            self.closed = True

    def close(self) -> None:
        self.closed = True
        self._wake.set()


class Venue:
    """Base of every simulated venue. See the module docstring."""

    exchange: ClassVar[str]
    market: ClassVar[str]

    def __init__(self, models: dict[str, MarketModel]) -> None:
        #: unified symbol -> market model (ground truth)
        self.models = models
        self.faults = FaultPlan()
        self.connections: set[SimConnection] = set()
        self.app = web.Application()
        self.stalled_until = 0.0
        self._held: dict[str, list[tuple[SimConnection, str | bytes]]] = {}
        self.sent_book_messages = 0
        self.setup_routes(self.app)

    # -- to implement -------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def on_step(self, symbol: str, step: MarketStep) -> None:
        """Encode and publish what changed for ``symbol``."""
        raise NotImplementedError

    def malformed_frame(self) -> str | bytes:
        return '{"broken": '

    # -- websocket plumbing ---------------------------------------------------------
    async def serve_ws(
        self,
        request: web.Request,
        on_message: Callable[[SimConnection, str | bytes], Any],
        *,
        on_open: Callable[[SimConnection], Any] | None = None,
        heartbeat: float | None = None,
    ) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=heartbeat, autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = SimConnection(ws)
        self.connections.add(conn)
        writer = asyncio.ensure_future(conn.writer())
        try:
            if on_open is not None:
                res = on_open(conn)
                if asyncio.iscoroutine(res):
                    await res
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    res = on_message(conn, msg.data)
                    if asyncio.iscoroutine(res):
                        await res
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            conn.close()
            self.connections.discard(conn)
            writer.cancel()
        return ws

    def subscribers(self, topic: str) -> list[SimConnection]:
        return [c for c in self.connections if topic in c.subscriptions and not c.closed]

    def _stalled(self) -> bool:
        if self.stalled_until:
            if asyncio.get_running_loop().time() < self.stalled_until:
                return True
            self.stalled_until = 0.0
        return False

    def publish(self, topic: str, data: str | bytes) -> None:
        """Send a non-book message to every subscriber of ``topic`` (respects stalls)."""
        if self._stalled():
            return
        for conn in self.subscribers(topic):
            self._send(conn, data)

    def publish_book(
        self,
        topic: str,
        symbol: str,
        data: str | bytes | None,
        make: Callable[[], str | bytes] | None = None,
    ) -> None:
        """Send a book message, applying DROP / DUPLICATE / REORDER / MALFORMED faults."""
        self._check_stall_and_disconnect()
        if self._stalled():
            return
        subs = self.subscribers(topic)
        if not subs:
            return
        if data is None and make is not None:
            data = make()
        assert data is not None
        self.sent_book_messages += 1
        if self.faults.take(Fault.MALFORMED, symbol):
            for conn in subs:
                self._send(conn, self.malformed_frame())
        if self.faults.take(Fault.DROP, symbol):
            return
        held = self._held.pop(symbol, None)
        if self.faults.take(Fault.REORDER, symbol):
            self._held[symbol] = [(c, data) for c in subs]
            return
        dup = self.faults.take(Fault.DUPLICATE, symbol) is not None
        for conn in subs:
            self._send(conn, data)
            if dup:
                self._send(conn, data)
        if held:
            for conn, old in held:
                self._send(conn, old)

    def _check_stall_and_disconnect(self) -> None:
        stall = self.faults.take(Fault.STALL)
        if stall is not None:
            self.stalled_until = asyncio.get_running_loop().time() + stall.seconds
        if self.faults.take(Fault.DISCONNECT):
            self.disconnect_all()

    def _send(self, conn: SimConnection, data: str | bytes) -> None:
        conn.push(data)

    def disconnect_all(self) -> None:
        for conn in list(self.connections):
            conn.close()
            with contextlib.suppress(Exception):
                conn._closer = asyncio.ensure_future(conn.ws.close())
        self.connections.clear()

    # -- REST helpers -------------------------------------------------------------
    def rest_429(self, retry_after: int = 1) -> web.Response | None:
        """If a 429 fault is pending, the response to send instead of the real one."""
        if self.faults.take(Fault.HTTP_429):
            return web.json_response(
                {"code": -1003, "msg": "Too many requests; simulated rate limit."},
                status=429,
                headers={"Retry-After": str(retry_after)},
            )
        return None
