"""A minimal, fast websocket + HTTP server that replays pre-encoded venue frames.

Used by ``connex bench``: the frames are produced by a simulator venue's own encoder
(so the benchmark traffic is exactly what the simulator speaks), framed once as
websocket frames, and written to the socket in large chunks (``blast``) or at a fixed
rate (``paced``), recording the send time of every frame for latency measurement.
REST requests are answered from a table of canned bodies (the book snapshot, and
whatever a peer client needs to start, such as ``exchangeInfo``).

This is deliberately not aiohttp: the benchmark must measure the client, so the
server has to be much faster than the client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from .faults import Fault  # noqa: F401  (re-exported for symmetry with the server)
from .market import FairValue, MarketModel
from .venue import SimConnection

__all__ = [
    "BlastPlan",
    "BlastServer",
    "frame_binary",
    "frame_text",
    "load_plan",
    "make_plan",
    "save_plan",
    "unframe",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame_text(payload: bytes, opcode: int = 0x1) -> bytes:
    """One unmasked server->client text frame (``opcode`` 2: binary)."""
    n = len(payload)
    b0 = 0x80 | opcode
    if n < 126:
        return bytes((b0, n)) + payload
    if n < 65536:
        return bytes((b0, 126)) + struct.pack("!H", n) + payload
    return bytes((b0, 127)) + struct.pack("!Q", n) + payload


def frame_binary(payload: bytes) -> bytes:
    """One unmasked server->client binary frame."""
    return frame_text(payload, 0x2)


def unframe(frame: bytes) -> str | bytes:
    """The payload of a frame built by ``frame_text``/``frame_binary`` (str for text)."""
    n = frame[1] & 0x7F
    off = 2 if n < 126 else 4 if n == 126 else 10
    return frame[off:] if frame[0] & 0x0F == 0x2 else frame[off:].decode()


@dataclass
class BlastPlan:
    """Frames to send after a subscription, canned REST replies, and the final truth.

    The server sends ``frames[:prefix]`` once the client subscribed, waits for the REST
    snapshot to be served when ``wait_for_rest``, then sends the rest. ``ack`` answers a
    client message (``None`` reply: no answer); a plan with ``ack=None`` starts sending
    on the client's first message without answering it (the recorded frames already
    hold the venue's acks). ``measured`` (0 = all but the prefix) frames at the end each
    carry one book update.
    """

    frames: list[bytes]  # websocket-framed
    rest: dict[str, bytes]  # path prefix -> JSON body
    truth_bids: list[tuple[str, str]] = field(default_factory=list)
    truth_asks: list[tuple[str, str]] = field(default_factory=list)
    ack: Callable[[bytes], bytes | None] | None = None
    levels: list[int] = field(default_factory=list)
    payload_bytes: int = 0
    last_sequence: int = 0
    prefix: int = 1
    wait_for_rest: bool = True
    measured: int = 0
    book_events: int = 0
    exchange: str = "binance"
    symbol: str = "BTC/USDT"
    market: str = "spot"
    truth_depth: int = 500


class _Capture(SimConnection):
    """A subscriber with no socket: it collects what the venue encoder publishes."""

    __slots__ = ("out",)

    def __init__(self, topics: set[str]) -> None:  # no websocket behind it
        self.closed = False
        self.subscriptions = topics
        self.meta = {"combined": True}
        self.out: list[str | bytes] = []

    def push(self, data: str | bytes) -> None:
        self.out.append(data)


def make_plan(exchange: str, messages: int, seed: int = 1) -> BlastPlan:
    """Encode ``messages`` book updates for BTC/USDT with the simulator's ``exchange`` venue."""
    if exchange != "binance":
        # other venues' plans are recorded from a live simulator session by
        # ``connex.bench_plans`` (it drives the connectors, which connex.sim never imports)
        raise ValueError(
            f"make_plan builds Binance plans only; for {exchange!r} use connex.bench_plans"
        )
    from .venues.binance import BinanceSpotVenue

    fair = FairValue(6_000_000, seed, vol_ticks=2.0)
    model = MarketModel(
        "BTC/USDT",
        fair,
        seed=seed,
        price_decimals=2,
        size_decimals=5,
        depth=1000,
        levels_per_step=(10, 20),
    )
    venue = BinanceSpotVenue({"BTC/USDT": model})
    snap_bids, snap_asks = model.top(1000)
    snapshot = orjson.dumps(
        {
            "lastUpdateId": venue.update_id["BTC/USDT"],
            "bids": [[model.price_str(p), model.size_str(q)] for p, q in snap_bids],
            "asks": [[model.price_str(p), model.size_str(q)] for p, q in snap_asks],
        }
    )
    conn = _Capture({"btcusdt@depth@100ms"})
    out = conn.out
    venue.connections.add(conn)
    frames: list[bytes] = []
    levels: list[int] = []
    total = 0
    ts = 1_700_000_000_000
    while len(frames) < messages:
        step = model.step(ts)
        ts += 1
        n = len(step.bids) + len(step.asks)
        if not n:
            continue
        venue.on_step("BTC/USDT", step)
        for text in out:
            payload = text.encode() if isinstance(text, str) else text
            total += len(payload)
            frames.append(frame_text(payload))
            levels.append(n)
        out.clear()
    tb, ta = model.top(500)

    def ack(msg: bytes) -> bytes | None:
        try:
            req = orjson.loads(msg)
        except orjson.JSONDecodeError:
            return None
        if isinstance(req, dict) and req.get("method") in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return orjson.dumps({"result": None, "id": req.get("id")})
        return None

    info = orjson.dumps(_binance_exchange_info())
    return BlastPlan(
        frames=frames,
        rest={"/api/v3/depth": snapshot, "/api/v3/exchangeInfo": info},
        truth_bids=[(model.price_str(p), model.size_str(q)) for p, q in tb],
        truth_asks=[(model.price_str(p), model.size_str(q)) for p, q in ta],
        ack=ack,
        levels=levels,
        payload_bytes=total,
        last_sequence=venue.update_id["BTC/USDT"],
    )


def _binance_exchange_info() -> dict[str, object]:
    return {
        "timezone": "UTC",
        "serverTime": 1_700_000_000_000,
        "rateLimits": [],
        "symbols": [
            {
                "symbol": "BTCUSDT",
                "status": "TRADING",
                "baseAsset": "BTC",
                "baseAssetPrecision": 8,
                "quoteAsset": "USDT",
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "orderTypes": ["LIMIT", "MARKET"],
                "icebergAllowed": True,
                "ocoAllowed": True,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "permissions": ["SPOT"],
                "permissionSets": [["SPOT"]],
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": "0.01",
                        "maxPrice": "1000000.00",
                        "tickSize": "0.01",
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": "0.00001",
                        "maxQty": "9000.00000",
                        "stepSize": "0.00001",
                    },
                ],
            }
        ],
    }


class BlastServer:
    """Serves one ``BlastPlan`` on 127.0.0.1. ``mode``: ``blast`` or ``paced`` at ``rate``."""

    def __init__(self, plan: BlastPlan, mode: str = "blast", rate: float = 0.0) -> None:
        self.plan = plan
        self.mode = mode
        self.rate = rate
        self.send_ns: list[int] = []
        self.done = asyncio.Event()
        self.rest_served = asyncio.Event()
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.lower(): v.strip()
                    for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
                }
                if int(headers.get("content-length", "0") or 0):  # e.g. a POST body
                    await reader.readexactly(int(headers["content-length"]))
                headers[":path"] = path
                if headers.get("upgrade", "").lower() == "websocket":
                    await self._websocket(reader, writer, headers)
                    return
                body = next((b for p, b in self.plan.rest.items() if path.startswith(p)), None)
                if body is None:
                    body, status = b'{"code":-1,"msg":"not in the benchmark plan"}', "404 Not Found"
                else:
                    status = "200 OK"
                    self.rest_served.set()
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def _read_frame(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        b0, b1 = await reader.readexactly(2)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await reader.readexactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await reader.readexactly(8))
        mask = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
        data = bytearray(await reader.readexactly(n))
        for i in range(n):
            data[i] ^= mask[i % 4]
        return b0 & 0x0F, bytes(data)

    async def _websocket(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]
    ) -> None:
        key = headers["sec-websocket-key"].encode()
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()
        writer.write(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        await writer.drain()
        sender: asyncio.Task[None] | None = None
        if "streams=" in headers.get(":path", ""):  # subscribed through the URL
            sender = asyncio.ensure_future(self._send_all(writer))
        try:
            while True:
                op, data = await self._read_frame(reader)
                if op == 8:
                    return
                if op == 9:  # ping -> pong
                    writer.write(bytes((0x8A, len(data))) + data)
                    continue
                if self.plan.ack is None:  # the recorded frames hold the acks
                    if sender is None:
                        sender = asyncio.ensure_future(self._send_all(writer))
                    continue
                reply = self.plan.ack(data)
                if reply is not None:
                    writer.write(frame_text(reply))
                    await writer.drain()
                    if sender is None:
                        sender = asyncio.ensure_future(self._send_all(writer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if sender is not None:
                sender.cancel()

    async def _send_all(self, writer: asyncio.StreamWriter) -> None:
        # Start once the client holds its snapshot, so the run measures the steady state
        # (the Binance sync rule would otherwise make it buffer the whole blast).
        frames = self.plan.frames
        prefix = self.plan.prefix
        # Some clients (cryptofeed) fetch their snapshot only after a first update.
        writer.write(b"".join(frames[:prefix]))
        self.send_ns.extend([time.time_ns()] * prefix)
        await writer.drain()
        if self.plan.wait_for_rest:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.rest_served.wait(), 10)
        await asyncio.sleep(0.2)
        frames = frames[prefix:]
        if self.mode == "blast":
            chunk: list[bytes] = []
            size = 0
            for f in frames:
                chunk.append(f)
                size += len(f)
                if size >= 256 * 1024:
                    writer.write(b"".join(chunk))
                    chunk, size = [], 0
                    await writer.drain()
                    await asyncio.sleep(0)
            if chunk:
                writer.write(b"".join(chunk))
                await writer.drain()
        else:
            interval = 1.0 / self.rate
            loop = asyncio.get_running_loop()
            start = loop.time()
            send = self.send_ns
            for i, f in enumerate(frames):
                due = start + i * interval
                delay = due - loop.time()
                if delay > 0.0005:
                    await asyncio.sleep(delay)
                elif delay > 0:
                    while loop.time() < due:  # short spin keeps the pace exact
                        pass
                writer.write(f)
                send.append(time.time_ns())
                if i % 64 == 0:
                    await writer.drain()
            await writer.drain()
        self.done.set()


def load_plan(path: str) -> BlastPlan:
    """A plan pickled by ``save_plan`` (plans recorded outside the simulator package)."""
    import pickle

    with open(path, "rb") as f:
        return BlastPlan(**pickle.load(f))


def save_plan(plan: BlastPlan, path: str) -> None:
    """Pickle ``plan`` (without its ``ack`` callable) for ``load_plan``."""
    import pickle
    from dataclasses import fields

    if plan.ack is not None:
        raise ValueError("only plans without an ack callable can be saved")
    with open(path, "wb") as f:
        pickle.dump(
            {x.name: getattr(plan, x.name) for x in fields(plan)},
            f,
            protocol=pickle.HIGHEST_PROTOCOL,
        )


def serve_forever(
    plan_args: tuple[str, int, int] | str, mode: str, rate: float, conn: object, cpu: int | None
) -> None:
    """Subprocess entry: build the plan, serve it, report send times through ``conn``."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})
    plan = load_plan(plan_args) if isinstance(plan_args, str) else make_plan(*plan_args)

    async def main() -> None:
        server = BlastServer(plan, mode, rate)
        port = await server.start()
        conn.send(
            {
                "port": port,
                "truth_bids": plan.truth_bids,
                "truth_asks": plan.truth_asks,  # type: ignore[attr-defined]
                "levels": plan.levels,
                "payload_bytes": plan.payload_bytes,
                "frames": len(plan.frames),
                "last_sequence": plan.last_sequence,
            }
        )
        await server.done.wait()
        await asyncio.sleep(0.5)
        conn.send({"send_ns": server.send_ns})  # type: ignore[attr-defined]
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # type: ignore[attr-defined]
        await server.close()

    asyncio.run(main())
