"""``connex bench``: frame text -> verified book -> event delivered to a consumer.

Method
------
A subprocess pinned to one core serves pre-encoded frames from the simulator's own
venue encoder (``connex.sim.blast``) over a real loopback websocket; the client, pinned
to the other core, is the real runtime (``Runner`` -> ``Feed`` -> ``FeedCore`` -> book
sync) with a callback consumer. Figures:

- **blast**: every frame sent as fast as the socket takes it; msgs/s from the first to
  the last delivered update, and client CPU µs per message (process user+sys time).
- **paced** at 2k and 20k msg/s: p50/p99 latency from the server writing a frame to the
  consumer receiving the verified update (both clocks are this machine's).
- **in-process**: the same ``FeedCore`` fed from memory (no socket): the ceiling of the
  parse + verify + apply path on one core.
- **correctness**: the final book's top 500 levels compared with the simulator's truth.
- **peers** (when installed, same run, same server): CCXT Pro ``watch_order_book`` and
  cryptofeed's Binance L2 book; their msgs/s and the ratio to Connex.

Other exchanges (``--exchange okx|bybit|gateio|mexc|hyperliquid``): the plan is recorded
from the simulator through the real client first (``connex.bench_plans``: the venue's
frames exactly as received, its REST snapshot body, and the truth at a depth the venue
publishes), then replayed the same way; the blast and paced figures count only the
measured updates, after the snapshot and warm-up frames (the plan's prefix). No peers.

The machine is shared and noisy: compare figures within one run.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from connex.model import BookDelta, BookSnapshot
from connex.model.errors import ConfigError

__all__ = ["render", "run_bench"]

SYMBOL = "BTC/USDT"


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})


def _unpin() -> None:
    if hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


class _Server:
    """The blast server in a subprocess."""

    def __init__(
        self, exchange: str, messages: int, mode: str, rate: float = 0.0, plan_path: str = ""
    ) -> None:
        from connex.sim.blast import serve_forever

        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        cpu = 0 if (os.cpu_count() or 1) > 1 else None
        self.proc = ctx.Process(
            target=serve_forever,
            args=(plan_path or (exchange, messages, 1), mode, rate, child, cpu),
            daemon=True,
        )
        self.proc.start()
        self.info: dict[str, Any] = self.conn.recv()
        self.port = self.info["port"]

    def send_times(self) -> list[int]:
        data: dict[str, Any] = self.conn.recv()
        return data["send_ns"]  # type: ignore[no-any-return]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send("bye")
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()


async def _connex_run(
    port: int,
    expected: int,
    record_times: bool,
    exchange: str = "binance",
    symbol: str = SYMBOL,
    market: str = "spot",
    depth: int = 500,
    skip: int = 0,
) -> dict[str, Any]:
    from connex.exchanges.base import Channel
    from connex.runtime import Runner

    base = f"127.0.0.1:{port}"
    runner = Runner(stale_after=30.0)
    runner.add(
        exchange,
        [symbol],
        [Channel.BOOK],
        endpoints={market: {"ws": f"ws://{base}", "rest": f"http://{base}"}},
    )
    state = {"n": 0, "first": 0, "last": 0}
    seqs: list[int] = []
    times: list[int] = []
    done = asyncio.get_running_loop().create_future()
    time_ns = time.time_ns
    n = 0

    def consumer(ev: Any) -> None:
        # a minimal consumer: count verified updates (the first one is folded into the
        # snapshot the book goes live with); timestamps only at the ends, or per update
        # when measuring latency
        nonlocal n
        t = type(ev)
        if t is BookDelta or t is BookSnapshot:
            n += 1
            if record_times:
                seqs.append(ev.sequence)
                times.append(time_ns())
            if n == skip + 1:  # the first measured update
                state["first"] = time_ns()
            elif n >= expected and not done.done():
                state["last"] = time_ns()
                done.set_result(None)

    runner.on_event(consumer)
    cpu0 = time.process_time()
    async with runner:
        try:
            await asyncio.wait_for(done, timeout=max(60.0, expected / 2000))
        except TimeoutError:
            pass
        cpu1 = time.process_time()
        sync = runner.book(exchange, symbol)
        if not state["last"]:
            state["last"] = time_ns()
        result = {
            "delivered": n - skip,
            "seconds": (state["last"] - state["first"]) / 1e9,
            "cpu_s": cpu1 - cpu0,
            "book_bids": sync.book.bids(depth),
            "book_asks": sync.book.asks(depth),
            "live": sync.is_live,
            "gaps": sync.counters.gaps,
            "seqs": seqs,
            "times": times,
        }
    return result


def _in_process(exchange: str, messages: int, plan: Any = None) -> dict[str, Any]:
    """Feed the plan's frames to one ``FeedCore`` from memory; time the measured frames."""
    from connex.exchanges import prod_endpoints, protocol_class
    from connex.exchanges.base import Channel, Subscription
    from connex.model import NeedSnapshot
    from connex.runtime import FeedCore
    from connex.sim.blast import make_plan, unframe

    if plan is None:
        plan = make_plan(exchange, messages)
    symbol = plan.symbol
    payloads = [unframe(f) for f in plan.frames]
    if exchange == "binance":
        prefix: list[Any] = []
        measured = payloads
    else:
        prefix, measured = payloads[: plan.prefix], payloads[plan.prefix :]
    cls = protocol_class(exchange)
    endpoints = prod_endpoints(exchange)
    spec = cls.plan([Subscription(Channel.BOOK, symbol)], endpoints)[0]
    core = FeedCore(cls(spec, endpoints[spec.market]))
    rest_body = next(iter(plan.rest.values()), b"") if exchange != "binance" else b""
    if exchange == "binance":
        core.on_snapshot(symbol, plan.rest["/api/v3/depth"], 1)
    else:
        out = core.start()
        for i, frame in enumerate(prefix):
            out += core.on_frame(frame, i)
        if any(type(ev) is NeedSnapshot for ev in out):
            core.on_snapshot(symbol, rest_body, 1)
    delivered = 0
    on_frame = core.on_frame
    t0 = time.perf_counter()
    for i, frame in enumerate(measured):
        delivered += len(on_frame(frame, i))
    dt = time.perf_counter() - t0
    sync = core.books[symbol]
    depth = plan.truth_depth
    return {
        "messages": len(measured),
        "msgs_per_s": round(len(measured) / dt),
        "us_per_msg": round(dt / len(measured) * 1e6, 3),
        "book_matches_truth": sync.book.bids(depth) == plan.truth_bids
        and sync.book.asks(depth) == plan.truth_asks,
        "delivered": delivered,
    }


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


def _run_args(plan: Any) -> dict[str, Any]:
    if plan is None:
        return {}
    return {
        "exchange": plan.exchange,
        "symbol": plan.symbol,
        "market": plan.market,
        "depth": plan.truth_depth,
        "skip": plan.book_events - plan.measured,
    }


def _connex_blast(
    exchange: str, messages: int, plan: Any = None, plan_path: str = ""
) -> dict[str, Any]:
    server = _Server(exchange, messages, "blast", plan_path=plan_path)
    # the generic plans deliver the snapshot (and warm-up updates) before the measured ones
    expected = plan.book_events if plan is not None else messages
    try:
        _pin(1)
        res = _run_loop(_connex_run(server.port, expected, False, **_run_args(plan)))
        server.send_times()
    finally:
        _unpin()
        server.close()
    truth_ok = (res["book_bids"], res["book_asks"]) == (
        [tuple(x) for x in server.info["truth_bids"]],
        [tuple(x) for x in server.info["truth_asks"]],
    )
    secs = res["seconds"] or float("nan")
    return {
        "messages": messages,
        "delivered": res["delivered"],
        "msgs_per_s": round(res["delivered"] / secs) if res["delivered"] else 0,
        "cpu_us_per_msg": round(res["cpu_s"] / max(1, res["delivered"]) * 1e6, 2),
        "book_matches_truth": truth_ok and res["live"],
        "gaps": res["gaps"],
        "levels_per_msg": round(sum(server.info["levels"]) / len(server.info["levels"]), 1),
        "bytes_per_msg": round(server.info["payload_bytes"] / len(server.info["levels"])),
    }


def _connex_paced(
    exchange: str, rate: float, seconds: float, plan: Any = None, plan_path: str = ""
) -> dict[str, Any]:
    messages = int(rate * seconds)
    if plan is not None:
        # replay the first ``messages`` measured frames of the recorded plan
        from connex.sim.blast import save_plan

        messages = min(messages, plan.measured)
        cut = _cut_plan(plan, messages)
        plan_path = plan_path + f".paced{int(rate)}"
        save_plan(cut, plan_path)
    server = _Server(exchange, messages, "paced", rate, plan_path=plan_path)
    expected = cut.book_events if plan is not None else messages
    try:
        _pin(1)
        res = _run_loop(_connex_run(server.port, expected, True, **_run_args(plan)))
        sent = server.send_times()
    finally:
        _unpin()
        server.close()
        if plan is not None:
            with contextlib.suppress(OSError):
                os.unlink(plan_path)
    lat = []
    if plan is None:
        # frame i carries the i-th update; map delivered updates back to their send time
        by_seq = dict(zip(res["seqs"], res["times"], strict=True))
        ordered = sorted(by_seq)
        for i, seq in enumerate(ordered):
            if i < len(sent):
                lat.append((by_seq[seq] - sent[i]) / 1000)
    else:
        # each measured frame (the last ``messages`` sent) carries exactly one update,
        # delivered in order: the last ``messages`` updates
        times = res["times"][-messages:]
        sent = sent[-messages:]
        lat = [(t - s) / 1000 for t, s in zip(times, sent, strict=False)]
    skip = len(lat) // 10  # warm-up
    lat = lat[skip:]
    return {
        "rate": rate,
        "delivered": res["delivered"],
        "p50_us": round(_pct(lat, 50), 1),
        "p99_us": round(_pct(lat, 99), 1),
        "cpu_us_per_msg": round(res["cpu_s"] / max(1, res["delivered"]) * 1e6, 2),
    }


def _cut_plan(plan: Any, messages: int) -> Any:
    """``plan`` with only its first ``messages`` measured frames (truth no longer known)."""
    import dataclasses

    keep = plan.prefix + messages
    return dataclasses.replace(
        plan,
        frames=plan.frames[:keep],
        measured=messages,
        book_events=plan.book_events - (plan.measured - messages),
        truth_bids=[],
        truth_asks=[],
    )


def run_bench(
    exchange: str = "binance",
    *,
    messages: int = 200_000,
    peers: bool = True,
    paced_seconds: float = 5.0,
) -> dict[str, Any]:
    """Run the whole benchmark and return the figures as one JSON-able dict."""
    if exchange != "binance":
        return _run_generic(exchange, messages, paced_seconds)
    result: dict[str, Any] = {"exchange": exchange, "symbol": SYMBOL, "cpus": os.cpu_count()}
    result["in_process"] = _in_process(exchange, min(messages, 100_000))
    result["blast"] = _connex_blast(exchange, messages)
    result["paced"] = [_connex_paced(exchange, r, paced_seconds) for r in (2_000, 20_000)]
    result["target_msgs_per_s"] = 150_000
    if peers and exchange == "binance":
        from connex.bench_peers import run_peers

        result["peers"] = run_peers(min(messages, 50_000), result["blast"]["msgs_per_s"])
    return result


#: Targets (book updates/s on one core, in-process parse + verify + apply) per exchange.
TARGETS: dict[str, int] = {"binance": 150_000}


def _run_generic(exchange: str, messages: int, paced_seconds: float) -> dict[str, Any]:
    """Every exchange but Binance: a plan recorded from the simulator (``bench_plans``)."""
    import tempfile

    from connex.bench_plans import BENCH_SYMBOLS, make_plan_for
    from connex.sim.blast import save_plan

    if exchange not in BENCH_SYMBOLS:
        raise ConfigError(
            f"no benchmark plan for {exchange!r}; available: binance, {', '.join(BENCH_SYMBOLS)}"
        )
    t0 = time.perf_counter()
    plan = make_plan_for(exchange, messages)
    record_s = time.perf_counter() - t0
    blast_plan = plan
    fd, path = tempfile.mkstemp(prefix=f"connex-bench-{exchange}-", suffix=".plan")
    os.close(fd)
    try:
        save_plan(blast_plan, path)
        result: dict[str, Any] = {
            "exchange": exchange,
            "symbol": plan.symbol,
            "cpus": os.cpu_count(),
            "plan": {
                "recorded_s": round(record_s, 1),
                "prefix_frames": plan.prefix,
                "rest_seeded": plan.wait_for_rest,
                "truth_depth": plan.truth_depth,
            },
        }
        result["in_process"] = _in_process(exchange, messages, plan)
        result["blast"] = _connex_blast(exchange, messages, blast_plan, path)
        result["paced"] = [
            _connex_paced(exchange, r, paced_seconds, plan, path) for r in (2_000, 20_000)
        ]
        result["target_msgs_per_s"] = TARGETS.get(exchange, 100_000)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    return result


def render(result: dict[str, Any], console: Console) -> None:
    t = Table(title=f"connex bench — {result['exchange']} {result['symbol']}")
    t.add_column("figure")
    t.add_column("value", justify="right")
    b = result["blast"]
    t.add_row("blast msgs/s (loopback ws -> book -> consumer)", f"{b['msgs_per_s']:,}")
    t.add_row("client CPU µs/msg (blast)", str(b["cpu_us_per_msg"]))
    t.add_row("levels per message", str(b["levels_per_msg"]))
    depth = result.get("plan", {}).get("truth_depth", 500)
    t.add_row(f"final book == truth (top {depth})", str(b["book_matches_truth"]))
    ip = result["in_process"]
    t.add_row("in-process msgs/s (parse+verify+apply)", f"{ip['msgs_per_s']:,}")
    for p in result["paced"]:
        t.add_row(f"paced {p['rate']:,}/s latency p50 / p99 µs", f"{p['p50_us']} / {p['p99_us']}")
    for name, peer in result.get("peers", {}).items():
        if "msgs_per_s" in peer:
            t.add_row(
                f"peer {name} msgs/s (ratio Connex/peer)",
                f"{peer['msgs_per_s']:,} ({peer.get('ratio')})",
            )
        else:
            t.add_row(f"peer {name}", str(peer.get("skipped", peer)))
    console.print(t)
