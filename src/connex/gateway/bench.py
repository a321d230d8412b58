"""Gateway benchmark: added latency and outbound message rate (not a test).

``python -m connex.gateway.bench`` (options: ``--clients 100 --books 10 --rate 120
--depth 20 --duration 5 --runs 3``) prints one JSON document. Each run starts, in this
process, a ``Runner`` and the gateway (uvicorn, uvloop) on loopback, fed by the
simulator in a child process (``rate`` steps/s per book, all books stepping together);
the ``clients`` websocket clients run in another **separate process**, each subscribed
to ``books`` books, so the gateway's event loop does only gateway work and the clients'
own work is not charged to it. Per run it reports:

* ``messages_out_per_s``: messages (events) delivered to clients per second, counted
  by the gateway; ``frames_out_per_s``: websocket frames written. A frame carries one
  message or a JSON array (batch) of the messages queued for that client in one loop
  iteration (see docs/api.md), so frames <= messages;
* ``messages_received_per_s``: the same, counted by the client process;
* ``added_latency_us`` p50/p99: client receive time minus the message's ``ts_gw`` (the
  gateway's clock reading when the hub published the event: mirror update, diff, encode
  once, queue, batch, write, kernel, client read and JSON decode). Both processes read
  the same system clock (``time.time_ns``);
* ``runtime_to_client_us`` p50/p99: client receive time minus the event's ``ts_local``
  (the runtime receiving the exchange frame): adds the runtime's own parse and book
  sync to the figure above;
* ``upstream_events_per_s``, the CPU use of the gateway process and of the client
  process (fraction of one core), and the slow-client counters (which stay 0 while the
  clients keep up).

The summary holds the median of each figure over the runs (the machine is shared and
noisy). The simulator runs in a third process (the "exchange"). The measuring clients
are kept light so that their own overhead is not charged to the gateway: a minimal
RFC 6455 client per connection that stamps each socket read before parsing, frames
kept raw and decoded after the window, and the garbage collector of the client process
paused during the window (the gateway process runs as usual, collector included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import sys
import time
from typing import Any

import msgspec

__all__ = ["main", "run_gateway_bench"]

_BASES = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "LTC", "DOT", "AVAX", "LINK", "ATOM", "NEAR")


class _Data(msgspec.Struct):
    ts_local: int = 0


class _Env(msgspec.Struct):
    type: str
    ts_gw: int = 0
    data: _Data | None = None


_FRAME = msgspec.json.Decoder(list[_Env] | _Env)


def _pct(sorted_values: list[int], p: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return round(sorted_values[i] / 1000, 1)


def _symbols(books: int) -> list[str]:
    return [f"{b}/USDT" for b in _BASES[: max(1, min(books, len(_BASES)))]]


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not on every platform
        return asyncio.run(coro)
    return uvloop.run(coro)


# -- the client process -------------------------------------------------------------------
class _LeanClient(asyncio.Protocol):
    """A minimal websocket client (RFC 6455) for the measuring process: it stamps each
    read with ``time.time_ns()`` before parsing, and parses server frames (unmasked,
    unfragmented) itself, so the clients' own overhead stays small next to the gateway's.
    """

    def __init__(self, host: str, port: int, ops: list[bytes], on_frame: Any) -> None:
        self.host, self.port, self.ops, self.on_frame = host, port, ops, on_frame
        self.buf = bytearray()
        self.open = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        import base64

        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET /v1/stream HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def _send(self, opcode: int, payload: bytes) -> None:
        n = len(payload)  # client frames are masked; a zero mask keeps the payload as is
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        else:
            head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        assert self.transport is not None
        self.transport.write(head + b"\0\0\0\0" + payload)

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(f"handshake refused: {bytes(buf[:40])!r}")
            del buf[: end + 4]
            self.open = True
            for op in self.ops:
                self._send(0x1, op)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n, head = b1 & 0x7F, 2
            if n == 126:
                if size - pos < 4:
                    break
                n, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif n == 127:
                if size - pos < 10:
                    break
                n, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + n:
                break
            payload = bytes(buf[pos + head : pos + head + n])
            pos += head + n
            opcode = b0 & 0x0F
            if opcode == 0x1:
                self.on_frame(payload, now)
            elif opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                assert self.transport is not None
                self.transport.close()
        del buf[:pos]


async def _worker(url: str, clients: int, symbols: list[str], depth: int | None) -> None:
    from urllib.parse import urlsplit

    import orjson

    lat_gw: list[int] = []
    lat_rt: list[int] = []
    counts = {"messages": 0, "frames": 0}
    measuring = False
    snapshots = [0] * clients
    ops = []
    for sym in symbols:
        op: dict[str, Any] = {
            "op": "subscribe",
            "channel": "orderbook",
            "exchange": "binance",
            "symbol": sym,
        }
        if depth:
            op["depth"] = depth
        ops.append(orjson.dumps(op))

    frames: list[tuple[int, bytes]] = []
    keep = frames.append

    def handler(idx: int) -> Any:
        def on_frame(payload: bytes, now: int) -> None:
            if measuring:
                keep((now, payload))  # decoded after the window: the clients stay light
                return
            body = _FRAME.decode(payload)
            envs = body if type(body) is list else [body]
            snapshots[idx] += sum(1 for e in envs if e.type == "snapshot")

        return on_frame

    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    loop = asyncio.get_running_loop()
    conns = []
    for i in range(clients):
        transport, _ = await loop.create_connection(
            lambda i=i: _LeanClient(host, port, ops, handler(i)), host, port
        )
        conns.append(transport)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(n >= len(symbols) for n in snapshots):
            break
        await asyncio.sleep(0.05)
    print("READY", flush=True)
    line = await loop.run_in_executor(None, sys.stdin.readline)
    duration = float(line.split()[1])
    # the measuring process only: no collector pauses while it timestamps reads
    gc.collect()
    gc.disable()
    cpu0, t0 = time.process_time(), time.monotonic()
    measuring = True
    await asyncio.sleep(duration)
    measuring = False
    elapsed = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    gc.enable()
    for t in conns:
        t.close()
    counts["frames"] = len(frames)
    for now, payload in frames:
        body = _FRAME.decode(payload)
        for e in body if type(body) is list else [body]:
            if e.ts_gw:
                counts["messages"] += 1
                lat_gw.append(now - e.ts_gw)
                d = e.data
                if d is not None and d.ts_local:
                    lat_rt.append(now - d.ts_local)
    lat_gw.sort()
    lat_rt.sort()
    out = {
        "elapsed_s": elapsed,
        "messages": counts["messages"],
        "frames": counts["frames"],
        "added_latency_us": {"p50": _pct(lat_gw, 50), "p99": _pct(lat_gw, 99)},
        "runtime_to_client_us": {"p50": _pct(lat_rt, 50), "p99": _pct(lat_rt, 99)},
        "cpu_s": cpu,
    }
    print(json.dumps(out), flush=True)


# -- the simulator process ----------------------------------------------------------------
async def _sim_worker(books: int, rate: float) -> None:
    from connex.sim import SimServer

    async with SimServer({"binance": _symbols(books)}, rate=rate) as sim:
        print(json.dumps(sim.endpoints()["binance"]), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)  # until the parent says so


# -- the gateway process ------------------------------------------------------------------
async def _bench(
    clients: int, books: int, duration: float, rate: float, depth: int | None
) -> dict[str, Any]:
    from connex.exchanges.base import Channel
    from connex.runtime import Runner

    from .app import GatewaySettings, create_app
    from .serve import GatewayServer

    symbols = _symbols(books)
    sim = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "connex.gateway.bench", "--sim-worker"],
        *["--books", str(books), "--rate", str(rate)],
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert sim.stdin is not None and sim.stdout is not None
    try:
        endpoints = json.loads(await asyncio.wait_for(sim.stdout.readline(), 60))
        runner = Runner()
        runner.add("binance", symbols=symbols, channels=[Channel.BOOK], endpoints=endpoints)
        async with runner:
            app = create_app(
                runner, keys=None, open_mode=True, settings=GatewaySettings(max_queue=5000)
            )
            hub = app.state.hub
            async with GatewayServer(app) as server:
                args = [
                    sys.executable,
                    "-m",
                    "connex.gateway.bench",
                    "--worker",
                    server.ws_url,
                    "--clients",
                    str(clients),
                    "--books",
                    str(books),
                    "--depth",
                    str(depth or 0),
                ]
                proc = await asyncio.create_subprocess_exec(
                    *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
                )
                assert proc.stdin is not None and proc.stdout is not None
                try:
                    ready = await asyncio.wait_for(proc.stdout.readline(), 90)
                    if ready.strip() != b"READY":
                        raise RuntimeError(f"client process failed: {ready!r}")
                    await asyncio.sleep(1.0)  # warm up
                    s0 = hub.stats.as_dict()
                    cpu0, t0 = time.process_time(), time.monotonic()
                    proc.stdin.write(f"START {duration}\n".encode())
                    await proc.stdin.drain()
                    await asyncio.sleep(duration)
                    elapsed = time.monotonic() - t0
                    cpu = time.process_time() - cpu0
                    s1 = hub.stats.as_dict()
                    line = await asyncio.wait_for(proc.stdout.readline(), 60)
                    worker = json.loads(line)
                finally:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            sim.kill()
        await sim.wait()
    sent = s1["sent"] - s0["sent"]
    frames = s1["frames"] - s0["frames"]
    return {
        "clients": clients,
        "books": len(symbols),
        "subscriptions": clients * len(symbols),
        "depth": depth or "full",
        "sim_rate": rate,
        "duration_s": round(elapsed, 3),
        "upstream_events_per_s": round((s1["events_in"] - s0["events_in"]) / elapsed, 1),
        "messages_out_per_s": round(sent / elapsed, 1),
        "frames_out_per_s": round(frames / elapsed, 1),
        "messages_per_frame": round(sent / frames, 2) if frames else None,
        "messages_received_per_s": round(worker["messages"] / worker["elapsed_s"], 1),
        "added_latency_us": worker["added_latency_us"],
        "runtime_to_client_us": worker["runtime_to_client_us"],
        "gateway_process_cpu": round(cpu / elapsed, 2),
        "client_process_cpu": round(worker["cpu_s"] / worker["elapsed_s"], 2),
        "slow_client_resyncs": s1["resyncs"] - s0["resyncs"],
        "slow_client_disconnects": s1["kicked"] - s0["kicked"],
    }


def _median(runs: list[dict[str, Any]], *path: str) -> float | None:
    vals = []
    for r in runs:
        v: Any = r
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        if isinstance(v, int | float):
            vals.append(v)
    return round(statistics.median(vals), 1) if vals else None


def run_gateway_bench(
    clients: int = 100,
    books: int = 10,
    *,
    duration: float = 5.0,
    rate: float = 120.0,
    depth: int | None = 20,
    runs: int = 1,
) -> dict[str, Any]:
    """Run the benchmark ``runs`` times (see the module docstring); figures and medians."""
    results = [_run_loop(_bench(clients, books, duration, rate, depth)) for _ in range(runs)]
    summary = {
        "messages_out_per_s": _median(results, "messages_out_per_s"),
        "frames_out_per_s": _median(results, "frames_out_per_s"),
        "messages_received_per_s": _median(results, "messages_received_per_s"),
        "added_latency_p50_us": _median(results, "added_latency_us", "p50"),
        "added_latency_p99_us": _median(results, "added_latency_us", "p99"),
        "runtime_to_client_p50_us": _median(results, "runtime_to_client_us", "p50"),
        "runtime_to_client_p99_us": _median(results, "runtime_to_client_us", "p99"),
    }
    return {
        "benchmark": "gateway fan-out",
        "note": (
            "messages = events delivered to clients; a websocket frame carries one message "
            "or a JSON array (batch) of messages; clients run in a separate process"
        ),
        "cpus": os.cpu_count(),
        "runs": results,
        "median": summary,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m connex.gateway.bench", description=__doc__)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--books", type=int, default=10)
    ap.add_argument("--rate", type=float, default=120.0, help="simulator steps/s per book")
    ap.add_argument("--depth", type=int, default=20, help="book depth (0 = full)")
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--worker", metavar="WS_URL", help=argparse.SUPPRESS)
    ap.add_argument("--sim-worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.sim_worker:
        _run_loop(_sim_worker(a.books, a.rate))
        return 0
    if a.worker:
        _run_loop(_worker(a.worker, a.clients, _symbols(a.books), a.depth or None))
        return 0
    out = run_gateway_bench(
        a.clients, a.books, duration=a.duration, rate=a.rate, depth=a.depth or None, runs=a.runs
    )
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
