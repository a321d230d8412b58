"""Shared setup of the gateway integration tests: simulator -> Runner -> gateway (uvicorn)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connex.book import L2Book
from connex.exchanges.base import Channel
from connex.gateway import GatewayServer, GatewaySettings, KeyStore, create_app
from connex.runtime import Runner
from connex.sim import SimServer

KEY = "cx_test_key_9f8e7d6c5b4a"


@dataclass
class Stack:
    sim: SimServer
    runner: Runner
    server: GatewayServer
    keys: KeyStore | None
    seen: list[Any] = field(default_factory=list)  # every event the runner delivered


@contextlib.asynccontextmanager
async def gateway_stack(
    symbols: list[str],
    *,
    channels: tuple[Channel, ...] = (Channel.BOOK, Channel.TRADES),
    rate: float = 20.0,
    open_mode: bool = False,
    keys: KeyStore | None = None,
    settings: GatewaySettings | None = None,
    port: int = 0,
    send_buffer: int | None = None,
) -> AsyncIterator[Stack]:
    if keys is None and not open_mode:
        keys = KeyStore()
        keys.add_plain("tester", KEY)
    async with SimServer({"binance": symbols}, rate=rate) as sim:
        runner = Runner()
        runner.add(
            "binance",
            symbols=symbols,
            channels=list(channels),
            endpoints=sim.endpoints()["binance"],
        )
        seen: list[Any] = []
        runner.on_event(seen.append)
        async with runner:
            app = create_app(runner, keys=keys, open_mode=open_mode, settings=settings)
            async with GatewayServer(app, port=port, send_buffer=send_buffer) as server:
                yield Stack(sim, runner, server, keys, seen)


def book_vs_truth(book: L2Book | None, sim: SimServer, symbol: str, depth: int) -> str | None:
    """``None`` when ``book``'s top ``depth`` equals the simulator's truth."""
    if book is None:
        return "book not live"
    tb, ta = sim.truth("binance", symbol, depth)
    cb: dict[Decimal, Decimal] = dict(book.bids_decimal(depth))
    ca: dict[Decimal, Decimal] = dict(book.asks_decimal(depth))
    if cb == tb and ca == ta:
        return None
    db = sorted((p, cb.get(p), tb.get(p)) for p in set(cb) | set(tb) if cb.get(p) != tb.get(p))
    da = sorted((p, ca.get(p), ta.get(p)) for p in set(ca) | set(ta) if ca.get(p) != ta.get(p))
    return f"bids differ {db[:4]}, asks differ {da[:4]}"


class RawWsClient:
    """A websocket client on a raw socket with a tiny receive buffer (websockets' sans-I/O
    protocol does the framing). It reads only when told to: the slow client of the tests."""

    def __init__(self, host: str, port: int, rcvbuf: int = 4096) -> None:
        self.host = host
        self.port = port
        self.rcvbuf = rcvbuf
        self.messages: list[str] = []
        self.closed = False

    async def connect(self, path: str = "/v1/stream") -> None:
        import asyncio
        import socket

        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (self.host, self.port))
        self.reader, self.writer = await asyncio.open_connection(sock=sock, limit=self.rcvbuf)
        self.proto = ClientProtocol(parse_uri(f"ws://{self.host}:{self.port}{path}"), max_size=None)
        self.proto.send_request(self.proto.connect())
        self._flush()
        from websockets.protocol import State

        while self.proto.state is State.CONNECTING and not self.closed:
            await self._read_some()
        if self.proto.state is not State.OPEN:
            raise ConnectionError(f"websocket handshake failed: {self.proto.handshake_exc}")

    def _flush(self) -> None:
        for data in self.proto.data_to_send():
            if data:
                self.writer.write(data)

    async def _read_some(self) -> None:
        data = await self.reader.read(65536)
        if not data:
            self.proto.receive_eof()
            self.closed = True
        else:
            self.proto.receive_data(data)
        self._flush()
        for ev in self.proto.events_received():
            if getattr(ev, "opcode", None) is not None and ev.opcode.name == "TEXT":
                self.messages.append(ev.data.decode())
            elif getattr(ev, "opcode", None) is not None and ev.opcode.name == "CLOSE":
                self.closed = True

    async def send(self, text: str) -> None:
        self.proto.send_text(text.encode())
        self._flush()
        await self.writer.drain()

    async def read_for(self, seconds: float) -> None:
        """Read (and decode) whatever arrives for ``seconds``."""
        import asyncio

        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while not self.closed and loop.time() < end:
            try:
                await asyncio.wait_for(self._read_some(), max(0.01, end - loop.time()))
            except TimeoutError:
                break

    def close(self) -> None:
        self.writer.close()
