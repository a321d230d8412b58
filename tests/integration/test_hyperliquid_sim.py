"""The simulated Hyperliquid venue speaks Hyperliquid's protocol (raw loopback checks)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import orjson
import pytest

from connex.sim import Fault, SimServer
from connex.sim.venues.hyperliquid import LIQUIDATOR, USERS

BTC = "BTC/USDC:USDC"


@pytest.fixture
async def sim():
    opts = {"hyperliquid": {"idle_timeout": 1.0, "book_interval_ms": 0, "ctx_interval_ms": 50}}
    async with SimServer({"hyperliquid": [BTC]}, rate=200, seed=4, venue_options=opts) as s:
        yield s


async def connect(sim: SimServer, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(sim.endpoints()["hyperliquid"]["linear"]["ws"] + "/ws")
    hello = await ws.receive(timeout=3)
    assert hello.data == "Websocket connection established."
    return ws


async def recv(ws: aiohttp.ClientWebSocketResponse, channel: str, timeout: float = 3.0) -> object:
    while True:
        msg = await asyncio.wait_for(ws.receive(), timeout)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        data = orjson.loads(msg.data)
        if data["channel"] == channel:
            return data.get("data")


def sub(kind: str, **kw: str) -> str:
    return orjson.dumps({"method": "subscribe", "subscription": {"type": kind, **kw}}).decode()


async def test_subscribe_ack_snapshot_and_errors(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await connect(sim, http)
        await ws.send_str(sub("l2Book", coin="BTC"))
        ack = await recv(ws, "subscriptionResponse")
        assert ack == {"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}}
        book = await recv(ws, "l2Book")  # the current book right after subscribing
        assert (
            book["coin"] == "BTC" and len(book["levels"][0]) == 20 and len(book["levels"][1]) == 20
        )
        bids = [Decimal(lv["px"]) for lv in book["levels"][0]]
        asks = [Decimal(lv["px"]) for lv in book["levels"][1]]
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
        await ws.send_str(sub("l2Book", coin="NOPE"))
        assert await recv(ws, "error") == 'Invalid subscription {"type":"l2Book","coin":"NOPE"}'
        await ws.send_str('{"method":"ping"}')
        assert await recv(ws, "pong") is None
        await ws.close()


async def test_book_times_increase_and_every_push_is_full(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await connect(sim, http)
        await ws.send_str(sub("l2Book", coin="BTC"))
        times = []
        for _ in range(30):
            book = await recv(ws, "l2Book")
            times.append(book["time"])
            assert len(book["levels"][0]) == 20 and all(
                float(lv["sz"]) > 0 for lv in book["levels"][0]
            )
        assert times == sorted(set(times))
        await ws.close()


async def test_trades_bbo_and_ctx(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await connect(sim, http)
        for kind in ("trades", "bbo", "activeAssetCtx"):
            await ws.send_str(sub(kind, coin="BTC"))
        trades = await recv(ws, "trades", timeout=10)
        assert {t["side"] for t in trades} <= {"A", "B"}
        for t in trades:
            buyer, seller = t["users"]
            assert LIQUIDATOR in (buyer, seller)
        ctx = await recv(ws, "activeAssetCtx")
        assert ctx["coin"] == "BTC" and isinstance(ctx["ctx"]["funding"], str)
        Decimal(ctx["ctx"]["markPx"])
        bbo = await recv(ws, "bbo")
        assert Decimal(bbo["bbo"][0]["px"]) < Decimal(bbo["bbo"][1]["px"])
        await ws.close()


async def test_idle_connection_is_closed_but_pings_keep_it(sim: SimServer) -> None:
    sim.pause()  # no market data at all: only pongs keep a connection alive
    async with aiohttp.ClientSession() as http:
        idle = await connect(sim, http)
        kept = await connect(sim, http)
        for _ in range(8):
            await kept.send_str('{"method":"ping"}')
            await recv(kept, "pong")
            await asyncio.sleep(0.25)
        msg = await asyncio.wait_for(idle.receive(), 3)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert not kept.closed
        await kept.close()


async def test_user_fills_carry_liquidations(sim: SimServer) -> None:
    venue = sim.venue("hyperliquid", "linear")
    async with aiohttp.ClientSession() as http:
        ws = await connect(sim, http)
        victim = USERS[3]
        await ws.send_str(sub("userFills", user=victim))
        await recv(ws, "subscriptionResponse")
        first = await recv(ws, "userFills")
        assert first == {"isSnapshot": True, "user": victim, "fills": []}
        venue.emit_liquidation(BTC, "BTC", 3, True, "60000.0", "0.0150", 1700000000000)
        live = await recv(ws, "userFills")
        [fill] = live["fills"]
        assert (fill["side"], fill["dir"], fill["px"], fill["sz"]) == (
            "A",
            "Close Long",
            "60000.0",
            "0.0150",
        )
        assert fill["liquidation"] == {
            "liquidatedUser": victim,
            "markPx": "60000.0",
            "method": "market",
        }
        assert venue.liquidations_sent[-1]["long"] is True
        await ws.send_str(sub("userFills", user="0x1234"))
        assert (await recv(ws, "error")).startswith("Invalid subscription")
        await ws.close()


async def test_info_endpoint(sim: SimServer) -> None:
    base = sim.endpoints()["hyperliquid"]["linear"]["rest"]
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/info", json={"type": "l2Book", "coin": "BTC"}) as r:
            book = await r.json()
        assert r.status == 200 and book["coin"] == "BTC" and len(book["levels"]) == 2
        async with http.post(base + "/info", json={"type": "meta"}) as r:
            assert (await r.json())["universe"][0]["name"] == "BTC"
        async with http.post(base + "/info", json={"type": "bogus"}) as r:
            assert r.status == 422
        sim.inject("hyperliquid", "linear", Fault.HTTP_429)
        async with http.post(base + "/info", json={"type": "meta"}) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "1"
