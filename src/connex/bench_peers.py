"""Peers measured side by side with Connex in ``connex bench``: CCXT Pro and cryptofeed.

Each peer runs in its own process (pinned to the client core, the server on the other),
against the same blast server and the same frames as Connex. A peer's throughput is
the number of book updates divided by the time from its first update to the moment its
book reaches the last update id; its CPU time is the process's user+sys time.
Peers that are not installed are reported as skipped (``make bench`` installs them).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import time
from typing import Any

__all__ = ["run_peers"]


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})


async def _ccxt(port: int, last_seq: int, timeout: float) -> dict[str, Any]:
    import ccxt.pro as ccxtpro

    ex = ccxtpro.binance(
        {"options": {"fetchMarkets": ["spot"], "defaultType": "spot"}, "enableRateLimit": False}
    )
    ex.urls["api"]["ws"]["spot"] = f"ws://127.0.0.1:{port}/ws"
    for k in ("public", "private", "v1", "v3"):
        if k in ex.urls["api"]:
            ex.urls["api"][k] = f"http://127.0.0.1:{port}/api/v3"
    first = 0.0
    updates = 0
    nonce = 0
    cpu0 = time.process_time()
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            ob = await ex.watch_order_book("BTC/USDT")
            updates += 1
            if not first:
                first = time.perf_counter()
            nonce = ob.get("nonce") or 0
            if nonce >= last_seq:
                break
        done = time.perf_counter()
        bids = [(str(p), str(q)) for p, q in ob["bids"][:5]]
    finally:
        await ex.close()
    return {
        "first": first,
        "done": done,
        "cpu_s": time.process_time() - cpu0,
        "reached": nonce >= last_seq,
        "wakeups": updates,
        "top_bids": bids,
    }


async def _cryptofeed(port: int, last_seq: int, timeout: float) -> dict[str, Any]:
    import cryptofeed.feed as cf_feed
    from cryptofeed import FeedHandler
    from cryptofeed.connection import RestEndpoint, Routes, WebsocketEndpoint, WSAsyncConn

    class PlainWsConn(WSAsyncConn):
        """cryptofeed accepts only wss:// URLs; the benchmark server (like the one Connex and
        CCXT use here) is plain ws:// on loopback, so no side pays for TLS."""

        def __init__(
            self,
            address: str,
            conn_id: str,
            authentication: Any = None,
            subscription: Any = None,
            **kw: Any,
        ) -> None:
            super().__init__(
                "wss://" + address.removeprefix("ws://"),
                conn_id,
                authentication,
                subscription,
                **kw,
            )
            self.address = address

    cf_feed.WSAsyncConn = PlainWsConn  # this process only (a peer subprocess)
    from cryptofeed.defines import L2_BOOK
    from cryptofeed.exchanges import Binance

    class LocalBinance(Binance):  # same protocol, the benchmark server's address
        websocket_endpoints = [WebsocketEndpoint(f"ws://127.0.0.1:{port}")]  # noqa: RUF012
        rest_endpoints = [  # noqa: RUF012
            RestEndpoint(
                f"http://127.0.0.1:{port}",
                routes=Routes("/api/v3/exchangeInfo", l2book="/api/v3/depth?symbol={}&limit={}"),
            )
        ]

    state = {"first": 0.0, "done": 0.0, "n": 0, "seq": 0}
    finished = asyncio.Event()

    async def book(b: Any, ts: float) -> None:
        state["n"] += 1
        if not state["first"]:
            state["first"] = time.perf_counter()
        seq = getattr(b, "sequence_number", 0) or 0
        state["seq"] = seq
        if seq >= last_seq and not finished.is_set():
            state["done"] = time.perf_counter()
            finished.set()

    fh = FeedHandler(config={"log": {"disabled": True}, "uvloop": False})
    fh.add_feed(
        LocalBinance(
            symbols=["BTC-USDT"], channels=[L2_BOOK], callbacks={L2_BOOK: book}, max_depth=0
        )
    )
    cpu0 = time.process_time()
    fh.run(start_loop=False, install_signal_handlers=False)
    try:
        await asyncio.wait_for(finished.wait(), timeout)
    except TimeoutError:
        pass
    cpu = time.process_time() - cpu0
    with contextlib.suppress(Exception):
        await fh.stop_async()
    return {
        "first": state["first"],
        "done": state["done"] or time.perf_counter(),
        "cpu_s": cpu,
        "reached": state["seq"] >= last_seq,
        "wakeups": state["n"],
    }


def _peer_main(name: str, port: int, last_seq: int, timeout: float, conn: Any) -> None:
    _pin(1)
    try:
        fn = _ccxt if name == "ccxt_pro" else _cryptofeed
        res = asyncio.run(fn(port, last_seq, timeout))
        conn.send(res)
    except Exception as exc:  # report, never hang the benchmark
        conn.send({"error": f"{type(exc).__name__}: {exc}"[:300]})


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except Exception:
        return False
    return True


def run_peers(messages: int, connex_rate: float, timeout: float = 120.0) -> dict[str, Any]:
    """Measure each installed peer on ``messages`` updates; ratio = Connex / peer msgs/s."""
    from connex.bench import _Server

    out: dict[str, Any] = {}
    for name, module in (("ccxt_pro", "ccxt.pro"), ("cryptofeed", "cryptofeed")):
        if not _installed(module):
            out[name] = {"skipped": f"{module} not installed (make bench installs it)"}
            continue
        server = _Server("binance", messages, "blast")
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_peer_main,
            args=(name, server.port, server.info["last_sequence"], timeout, child),
            daemon=True,
        )
        proc.start()
        try:
            res = parent.recv() if parent.poll(timeout + 30) else {"error": "timed out"}
        finally:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
            with contextlib.suppress(Exception):
                server.send_times()
            server.close()
        if "error" in res:
            out[name] = {"skipped": res["error"]}
            continue
        secs = max(1e-9, res["done"] - res["first"])
        rate = round(messages / secs) if res["reached"] else 0
        out[name] = {
            "msgs_per_s": rate,
            "cpu_us_per_msg": round(res["cpu_s"] / messages * 1e6, 2),
            "reached_last_update": res["reached"],
            "consumer_wakeups": res["wakeups"],
            "ratio": round(connex_rate / rate, 2) if rate else None,
        }
    return out
