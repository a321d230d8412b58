"""``connex serve`` as a user runs it: a subprocess with a YAML config, against the simulator."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx

from connex.sim import SimServer

KEY = "cx_cli_smoke_key_4242"


async def test_connex_serve_subprocess(tmp_path: Path) -> None:
    async with SimServer({"binance": ["BTC/USDT"]}, rate=10) as sim:
        ep = sim.endpoints()["binance"]["spot"]
        cfg = tmp_path / "connex.yaml"
        cfg.write_text(
            "exchanges:\n  binance:\n    symbols: [BTC/USDT]\n    channels: [book]\n"
            f"    endpoints:\n      spot: {{ws: '{ep['ws']}', rest: '{ep['rest']}'}}\n"
            f"gateway:\n  keys:\n    - {{name: cli, key: {KEY}}}\n"
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "connex.cli", "serve", "-c", str(cfg), "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            body = None
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as h:
                for _ in range(80):
                    await asyncio.sleep(0.25)
                    try:
                        r = await h.get(
                            "/v1/orderbook/binance/BTC-USDT?depth=3", headers={"X-Connex-Key": KEY}
                        )
                    except httpx.TransportError:
                        continue
                    if r.status_code == 200:
                        body = r.json()
                        break
                assert body is not None, "connex serve never served a live book"
                assert body["symbol"] == "BTC/USDT" and len(body["bids"]) == 3
                bids = [Decimal(p) for p, _ in body["bids"]]
                asks = [Decimal(p) for p, _ in body["asks"]]
                assert (
                    bids == sorted(bids, reverse=True)
                    and asks == sorted(asks)
                    and bids[0] < asks[0]
                )
                assert body["sequence"] > 0
                assert (await h.get("/v1/status")).status_code == 401
        finally:
            proc.terminate()
            out = proc.communicate(timeout=15)[0].decode()
        assert KEY not in out
