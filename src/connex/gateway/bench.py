"""Gateway benchmark: added latency and outbound message rate (not a test).

``run_gateway_bench(clients=100, books=10)`` starts the simulator, a ``Runner``, the
gateway on loopback and ``clients`` light websocket clients that each subscribe to
``books`` books (depth ``depth``). It reports:

* ``added_latency_us``: p50/p99 of (client receive time - the event's ``ts_local``), i.e.
  from the runtime receiving the exchange frame to the client receiving the gateway
  message: everything the gateway adds (mirror, encode, queue, socket);
* ``messages_out_per_s``: websocket messages written by the gateway per second;
* the gateway's slow-client counters (should stay 0 when the clients keep up).

The clients run in the same process and event loop as the gateway, so their own
receive work is included; compare runs with each other, not with other tools.
Use it from a shell: ``python -c "from connex.gateway.bench import run_gateway_bench as b;
print(b())"``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

__all__ = ["run_gateway_bench"]

_BASES = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "LTC", "DOT", "AVAX", "LINK", "ATOM", "NEAR")


class _Data(msgspec.Struct):
    ts_local: int = 0


class _Env(msgspec.Struct):
    type: str
    data: _Data | None = None


def _pct(sorted_values: list[int], p: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[i] / 1000


async def _bench(
    clients: int, books: int, duration: float, rate: float, depth: int | None
) -> dict[str, Any]:
    import aiohttp
    import orjson

    from connex.exchanges.base import Channel
    from connex.runtime import Runner
    from connex.sim import SimServer

    from .app import GatewaySettings, create_app
    from .serve import GatewayServer

    symbols = [f"{b}/USDT" for b in _BASES[: max(1, min(books, len(_BASES)))]]
    decoder = msgspec.json.Decoder(_Env)
    latencies: list[int] = []
    received = 0
    measuring = False

    async with SimServer({"binance": symbols}, rate=rate) as sim:
        runner = Runner()
        runner.add(
            "binance",
            symbols=symbols,
            channels=[Channel.BOOK],
            endpoints=sim.endpoints()["binance"],
        )
        async with runner:
            app = create_app(
                runner, keys=None, open_mode=True, settings=GatewaySettings(max_queue=5000)
            )
            hub = app.state.hub
            async with GatewayServer(app) as server, aiohttp.ClientSession() as session:

                async def client() -> None:
                    nonlocal received
                    ws = await session.ws_connect(server.ws_url, max_msg_size=0)
                    for sym in symbols:
                        op = {
                            "op": "subscribe",
                            "channel": "orderbook",
                            "exchange": "binance",
                            "symbol": sym,
                        }
                        if depth:
                            op["depth"] = depth
                        await ws.send_str(orjson.dumps(op).decode())
                    async for msg in ws:
                        now = time.time_ns()
                        env = decoder.decode(msg.data)
                        if (
                            measuring
                            and env.type == "delta"
                            and env.data is not None
                            and env.data.ts_local
                        ):
                            latencies.append(now - env.data.ts_local)
                            received += 1

                tasks = [asyncio.ensure_future(client()) for _ in range(clients)]
                # warm up: every client subscribed and books live
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    if len(hub.clients) == clients and all(
                        runner.book("binance", s).is_live for s in symbols
                    ):
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1.0)
                sent0, ev0, t0 = hub.stats.sent, hub.stats.events_in, time.monotonic()
                measuring = True
                await asyncio.sleep(duration)
                measuring = False
                elapsed = time.monotonic() - t0
                sent = hub.stats.sent - sent0
                events = hub.stats.events_in - ev0
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                resyncs, kicked = hub.stats.resyncs, hub.stats.kicked
    latencies.sort()
    return {
        "clients": clients,
        "books": len(symbols),
        "depth": depth or "full",
        "sim_rate": rate,
        "duration_s": round(elapsed, 3),
        "upstream_events_per_s": round(events / elapsed, 1),
        "messages_out": sent,
        "messages_out_per_s": round(sent / elapsed, 1),
        "deltas_received": received,
        "added_latency_us": {"p50": _pct(latencies, 50), "p99": _pct(latencies, 99)},
        "slow_client_resyncs": resyncs,
        "slow_client_disconnects": kicked,
    }


def run_gateway_bench(
    clients: int = 100,
    books: int = 10,
    *,
    duration: float = 5.0,
    rate: float = 20.0,
    depth: int | None = 20,
) -> dict[str, Any]:
    """Run the benchmark (see the module docstring) and return its figures."""
    return asyncio.run(_bench(clients, books, duration, rate, depth))
