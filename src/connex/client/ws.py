"""Websocket client of the Connex API: the same model events as the direct connectors.

``ConnexWebSocketClient`` keeps one connection to ``/v1/stream``: it authenticates with
the ``X-Connex-Key`` header, (re)subscribes everything it was asked for, reconnects with
exponential backoff and jitter when the connection drops or goes silent for
``heartbeat_timeout`` seconds, and resyncs a book from a fresh snapshot when it sees a
gap in the stream sequence (see ``state.StreamState``). A refused key (401) is fatal:
``events()`` raises ``AuthError`` instead of retrying forever.

Events are queued (bounded by ``config.queue_size``); when the consumer falls behind,
the client stops reading the socket and the gateway resyncs this client's books.

::

    async with ConnexWebSocketClient(ConnexConfig.from_env()) as client:
        await client.subscribe("orderbook", "binance", "BTC/USDT", depth=20)
        await client.subscribe("trades", "binance", "BTC/USDT")
        async for ev in client.events():
            ...  # BookSnapshot, BookDelta, BookReset, Trade, ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from connex.book import L2Book
from connex.model import FeedError
from connex.model.errors import AuthError, ConnectionClosedError, TransportError
from connex.transport.backoff import backoff

from .config import ConnexConfig
from .state import StreamState

__all__ = ["ConnexWebSocketClient"]

log = logging.getLogger("connex.client")

_CLOSED = object()


class ConnexWebSocketClient:
    """See the module docstring."""

    def __init__(self, config: ConnexConfig | None = None) -> None:
        self.config = config or ConnexConfig.from_env()
        self.state = StreamState()
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.connections = 0
        self._queue: asyncio.Queue[Any] = asyncio.Queue(self.config.queue_size)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._fatal: BaseException | None = None

    def __repr__(self) -> str:
        return f"ConnexWebSocketClient({self.config.ws_url!r})"

    # -- public API -------------------------------------------------------------------
    async def subscribe(
        self, channel: str, exchange: str, symbol: str, depth: int | None = None
    ) -> None:
        """Subscribe now (if connected) and after every reconnect."""
        sub = self.state.add(channel, exchange, symbol, depth)
        await self._send(sub.op())

    async def unsubscribe(self, channel: str, exchange: str, symbol: str) -> None:
        sub = self.state.remove(channel, exchange, symbol)
        if sub is not None:
            await self._send(sub.op("unsubscribe"))

    def book(self, exchange: str, symbol: str) -> L2Book | None:
        """The local verified book (``None`` while not live)."""
        return self.state.book(exchange, symbol)

    async def events(self) -> AsyncIterator[Any]:
        """Model events in order. Ends after ``stop()``; raises ``AuthError`` on a refused key."""
        while True:
            ev = await self._queue.get()
            if ev is _CLOSED:
                if self._fatal is not None:
                    raise self._fatal
                return
            yield ev

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._session = aiohttp.ClientSession()
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        self._stopping = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._put_nowait(_CLOSED)

    async def __aenter__(self) -> ConnexWebSocketClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self.connected.wait(), timeout)

    # -- driver -----------------------------------------------------------------------
    async def _run(self) -> None:
        cfg = self.config
        delays = backoff(cfg.backoff_initial, 2.0, cfg.backoff_max)
        while not self._stopping:
            try:
                await self._connection()
                delays = backoff(cfg.backoff_initial, 2.0, cfg.backoff_max)
            except asyncio.CancelledError:
                raise
            except AuthError as exc:
                log.error("Connex gateway refused the API key: %s", exc)
                self._fatal = exc
                self._put_nowait(_CLOSED)
                return
            except Exception as exc:
                log.info("Connex stream disconnected: %s", exc)
            finally:
                self.connected.clear()
                self._ws = None
                resets = self.state.on_disconnect(time.time_ns())
            if self._stopping:
                return
            for ev in resets:
                await self._queue.put(ev)
            self.reconnects += 1
            await asyncio.sleep(next(delays))

    async def _connection(self) -> None:
        cfg = self.config
        assert self._session is not None
        headers = {"X-Connex-Key": cfg.key} if cfg.key else {}
        try:
            ws = await self._session.ws_connect(
                cfg.ws_url,
                headers=headers,
                timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
                heartbeat=None,
                autoping=True,
                max_msg_size=64 * 1024 * 1024,
            )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403):
                raise AuthError(f"Connex gateway refused the connection ({exc.status})") from None
            raise TransportError(f"cannot connect to {cfg.ws_url}: {exc.status}") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise TransportError(f"cannot connect to {cfg.ws_url}: {exc}") from None
        self._ws = ws
        self.connections += 1
        try:
            for op in self.state.subscribe_ops():
                await ws.send_str(orjson.dumps(op).decode())
            self.connected.set()
            state = self.state
            queue = self.queue_put
            while not self._stopping:
                try:
                    msg = await asyncio.wait_for(ws.receive(), cfg.heartbeat_timeout)
                except TimeoutError:
                    raise ConnectionClosedError(
                        f"no message for {cfg.heartbeat_timeout:g} s"
                    ) from None
                if msg.type is aiohttp.WSMsgType.TEXT or msg.type is aiohttp.WSMsgType.BINARY:
                    events, commands = state.on_message(msg.data)
                    for ev in events:
                        if type(ev) is FeedError:
                            log.warning("Connex gateway: %s: %s", ev.kind, ev.message)
                        await queue(ev)
                    for cmd in commands:
                        await ws.send_str(orjson.dumps(cmd).decode())
                    continue
                if msg.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED,
                ):
                    code = ws.close_code
                    if code == 4401:
                        raise AuthError("Connex gateway closed the stream: unauthorized")
                    raise ConnectionClosedError(f"closed by the gateway ({code})")
                if msg.type is aiohttp.WSMsgType.ERROR:
                    raise ConnectionClosedError(f"websocket error: {ws.exception()}")
        finally:
            with contextlib.suppress(Exception):
                await ws.close()

    async def queue_put(self, ev: Any) -> None:
        await self._queue.put(ev)

    async def _send(self, op: dict[str, object]) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            return  # sent on (re)connect
        with contextlib.suppress(Exception):
            await ws.send_str(orjson.dumps(op).decode())

    def _put_nowait(self, item: Any) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
            self._queue.put_nowait(item)
