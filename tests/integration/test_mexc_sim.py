"""The simulated MEXC venue speaks MEXC's protocol: raw websocket/REST checks over loopback.

These talk to the venue with a plain aiohttp client (no connector) and decode pushes with
the generated protobuf classes, so they check the venue's wire behaviour on its own.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import aiohttp
import orjson
import pytest

from connex.exchanges.mexc.messages import pb
from connex.sim import Fault, SimServer

DEPTH = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
DEALS = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
TICKER = "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"


@pytest.fixture
async def sim():
    opts = {"mexc": {"idle_timeout": 1.0, "silent_timeout": 60.0, "max_messages_per_s": 20}}
    async with SimServer(
        {"mexc": ["BTC/USDT", "ETH/USDT"]}, rate=200, seed=3, venue_options=opts
    ) as s:
        yield s


async def ws_connect(
    sim: SimServer, session: aiohttp.ClientSession
) -> aiohttp.ClientWebSocketResponse:
    return await session.ws_connect(sim.endpoints()["mexc"]["spot"]["ws"] + "/ws")


async def next_text(ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0) -> dict:
    while True:
        msg = await asyncio.wait_for(ws.receive(), timeout)
        if msg.type is aiohttp.WSMsgType.TEXT:
            return orjson.loads(msg.data)
        assert msg.type is aiohttp.WSMsgType.BINARY, msg


async def pushes(ws: aiohttp.ClientWebSocketResponse, kind: str, n: int) -> list:
    out = []
    while len(out) < n:
        msg = await asyncio.wait_for(ws.receive(), 3.0)
        if msg.type is aiohttp.WSMsgType.BINARY:
            w = pb.PushDataV3ApiWrapper.FromString(msg.data)
            if w.WhichOneof("body") == kind:
                out.append(w)
    return out


async def test_subscribe_ack_refusal_and_ping(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await ws_connect(sim, http)
        bad = "spot@public.aggre.depth.v3.api.pb@100ms@btcusdt"  # lower case: refused
        await ws.send_str(
            orjson.dumps({"method": "SUBSCRIPTION", "params": [DEPTH, bad], "id": 7}).decode()
        )
        assert await next_text(ws) == {"id": 7, "code": 0, "msg": DEPTH}
        assert await next_text(ws) == {
            "id": 7,
            "code": 0,
            "msg": f"Not Subscribed successfully! [{bad}].  Reason： Blocked! ",
        }
        await ws.send_str('{"method":"PING"}')
        assert await next_text(ws) == {"id": 0, "code": 0, "msg": "PONG"}
        await ws.close()


async def test_thirty_subscriptions_per_connection(sim: SimServer) -> None:
    chans = [
        f"spot@public.aggre.{k}.v3.api.pb@{i}@{s}"
        for k in ("depth", "deals", "bookTicker")
        for i in ("100ms", "10ms")
        for s in ("BTCUSDT", "ETHUSDT")
    ]
    assert len(chans) == 12
    sim.venue("mexc", "spot").max_subscriptions = 10
    async with aiohttp.ClientSession() as http:
        ws = await ws_connect(sim, http)
        await ws.send_str(
            orjson.dumps({"method": "SUBSCRIPTION", "params": chans, "id": 1}).decode()
        )
        ok = await next_text(ws)
        refused = await next_text(ws)
        assert ok["msg"].split(",") == chans[:10]
        assert (
            refused["msg"]
            == f"Not Subscribed successfully! [{','.join(chans[10:])}].  Reason： Blocked! "
        )
        await ws.close()


async def test_connection_without_subscription_is_closed(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as http:
        idle = await ws_connect(sim, http)
        busy = await ws_connect(sim, http)
        await busy.send_str(orjson.dumps({"method": "SUBSCRIPTION", "params": [TICKER]}).decode())
        msg = await asyncio.wait_for(idle.receive(), 3.0)  # idle_timeout is 1 s here
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert await pushes(busy, "publicAggreBookTicker", 3)  # the subscribed one lives on
        assert not busy.closed
        assert sim.venue("mexc", "spot").idle_closes == 1
        await busy.close()


async def test_too_many_messages_disconnect(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await ws_connect(sim, http)
        for _ in range(25):  # max_messages_per_s is 20 here
            await ws.send_str('{"method":"PING"}')
        while True:
            msg = await asyncio.wait_for(ws.receive(), 3.0)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert sim.venue("mexc", "spot").rate_closes == 1


async def test_versions_chain_and_seq_gap(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await ws_connect(sim, http)
        await ws.send_str(
            orjson.dumps({"method": "SUBSCRIPTION", "params": [DEPTH], "id": 1}).decode()
        )
        first = await pushes(ws, "publicAggreDepths", 5)
        for a, b in itertools.pairwise(first):
            assert int(b.publicAggreDepths.fromVersion) == int(a.publicAggreDepths.toVersion) + 1
            assert b.symbol == "BTCUSDT" and b.channel == DEPTH
        for w in first:
            d = w.publicAggreDepths
            n = len(d.bids) + len(d.asks)
            assert int(d.toVersion) - int(d.fromVersion) + 1 == n  # one version per level change
        sim.inject("mexc", "BTC/USDT", Fault.SEQ_GAP)
        more = [first[-1], *await pushes(ws, "publicAggreDepths", 120)]
        steps = Counter(
            int(b.publicAggreDepths.fromVersion) - int(a.publicAggreDepths.toVersion)
            for a, b in itertools.pairwise(more)
        )
        assert steps == {1: 119, 2: 1}  # exactly one version skipped, nothing else moved
        await ws.close()


async def test_rest_depth_snapshot_and_429(sim: SimServer) -> None:
    base = sim.endpoints()["mexc"]["spot"]["rest"]
    async with aiohttp.ClientSession() as http:
        async with http.get(
            base + "/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "5"}
        ) as r:
            body = await r.json()
        assert r.status == 200 and len(body["bids"]) == 5 and len(body["asks"]) == 5
        assert body["lastUpdateId"] >= 10_589_632_000
        truth_b, truth_a = sim.truth("mexc", "BTC/USDT", 5)
        assert max(truth_b) < min(truth_a)
        async with http.get(base + "/api/v3/depth", params={"symbol": "NOPE"}) as r:
            assert r.status == 400 and (await r.json())["code"] == -1121
        sim.inject("mexc", "spot", Fault.HTTP_429)
        async with http.get(base + "/api/v3/depth", params={"symbol": "BTCUSDT"}) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "1"


async def test_malformed_fault_is_invalid_protobuf(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await ws_connect(sim, http)
        await ws.send_str(orjson.dumps({"method": "SUBSCRIPTION", "params": [DEPTH]}).decode())
        await next_text(ws)
        sim.inject("mexc", "BTC/USDT", Fault.MALFORMED)
        for _ in range(200):
            msg = await asyncio.wait_for(ws.receive(), 3.0)
            try:
                pb.PushDataV3ApiWrapper.FromString(msg.data)
            except Exception:
                assert msg.type is aiohttp.WSMsgType.BINARY
                break
        else:
            raise AssertionError("no malformed frame arrived")
        await ws.close()


# -- futures venue --------------------------------------------------------------------------
@pytest.fixture
async def fsim():
    opts = {"mexc": {"ping_timeout": 1.0}}
    async with SimServer({"mexc": ["BTC/USDT:USDT"]}, rate=200, seed=3, venue_options=opts) as s:
        yield s


async def test_futures_depth_versions_merged_and_unmerged(fsim: SimServer) -> None:
    base = fsim.endpoints()["mexc"]["linear"]
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(base["ws"] + "/edge")
        await ws.send_str('{"method":"sub.depth","param":{"symbol":"BTC_USDT","compress":false}}')
        ack = orjson.loads((await ws.receive(timeout=3)).data)
        assert (ack["channel"], ack["data"]) == ("rs.sub.depth", "success")
        pushes = [orjson.loads((await ws.receive(timeout=3)).data) for _ in range(5)]
        versions = [p["data"]["version"] for p in pushes]
        assert versions == list(range(versions[0], versions[0] + 5))
        assert all("begin" not in p["data"] and p["symbol"] == "BTC_USDT" for p in pushes)
        level = (pushes[0]["data"]["bids"] or pushes[0]["data"]["asks"])[0]
        assert isinstance(level[1], int) and len(level) == 3  # contracts, order count
        merged = await http.ws_connect(base["ws"] + "/edge")
        await merged.send_str('{"method":"sub.depth","param":{"symbol":"BTC_USDT"}}')
        await merged.receive(timeout=3)
        push = orjson.loads((await merged.receive(timeout=3)).data)["data"]
        assert push["begin"] == push["end"] == push["version"]
        async with http.get(base["rest"] + "/api/v1/contract/depth/BTC_USDT") as r:
            snap = await r.json()
        assert snap["success"] is True and snap["data"]["version"] >= versions[-1]
        async with http.get(base["rest"] + "/api/v1/contract/detail") as r:
            [detail] = (await r.json())["data"]
        assert (detail["symbol"], detail["baseCoin"], detail["contractSize"]) == (
            "BTC_USDT",
            "BTC",
            0.0001,
        )
        await ws.close()
        await merged.close()


async def test_futures_connection_without_ping_is_closed(fsim: SimServer) -> None:
    async with aiohttp.ClientSession() as http:
        silent = await http.ws_connect(fsim.endpoints()["mexc"]["linear"]["ws"] + "/edge")
        pinging = await http.ws_connect(fsim.endpoints()["mexc"]["linear"]["ws"] + "/edge")
        for _ in range(6):
            await pinging.send_str('{"method":"ping"}')
            assert orjson.loads((await pinging.receive(timeout=3)).data)["channel"] == "pong"
            await asyncio.sleep(0.3)
        msg = await silent.receive(timeout=3)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert not pinging.closed and fsim.venue("mexc", "linear").idle_closes == 1
        await pinging.close()
