"""The simulated Bybit venues' wire protocol, spoken to with a raw websocket client."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from connex.book import L2Book
from connex.sim import Fault, SimServer
from connex.sim.market import SimPosition

SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"


async def _recv(ws: aiohttp.ClientWebSocketResponse, pred, timeout: float = 5.0) -> str:
    end = asyncio.get_running_loop().time() + timeout
    while True:
        msg = await asyncio.wait_for(
            ws.receive(), max(0.01, end - asyncio.get_running_loop().time())
        )
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        if pred(msg.data):
            return msg.data


async def _drain(ws: aiohttp.ClientWebSocketResponse, quiet: float = 0.3) -> list[str]:
    out = []
    while True:
        try:
            msg = await asyncio.wait_for(ws.receive(), quiet)
        except TimeoutError:
            return out
        out.append(msg.data)


def _url(sim: SimServer, market: str) -> str:
    return sim.endpoints()["bybit"][market]["ws"] + f"/v5/public/{market}"


async def test_acks_pongs_and_errors_per_category() -> None:
    async with SimServer({"bybit": [SPOT, PERP]}, rate=100) as sim, aiohttp.ClientSession() as http:
        async with http.ws_connect(_url(sim, "spot")) as ws:
            await ws.send_str('{"req_id":"p1","op":"ping"}')
            pong = json.loads(await _recv(ws, lambda t: True))
            assert pong["ret_msg"] == "pong" and pong["op"] == "ping" and "req_id" not in pong
            await ws.send_str('{"req_id":"s1","op":"subscribe","args":["publicTrade.BTCUSDT"]}')
            ack = json.loads(await _recv(ws, lambda t: '"op"' in t))
            assert (ack["success"], ack["ret_msg"], ack["req_id"], ack["op"]) == (
                True,
                "subscribe",
                "s1",
                "subscribe",
            )
            await ws.send_str(
                '{"req_id":"s2","op":"subscribe","args":["allLiquidation.BTCUSDT"]}'
            )  # linear only
            err = json.loads(await _recv(ws, lambda t: '"s2"' in t))
            assert (
                err["success"] is False
                and err["ret_msg"] == "error:handler not found,topic:allLiquidation.BTCUSDT"
            )
            args = json.dumps([f"orderbook.{d}.BTCUSDT" for d in (1, 50, 200, 1000)] * 3)
            await ws.send_str(f'{{"req_id":"s3","op":"subscribe","args":{args}}}')
            assert (
                json.loads(await _recv(ws, lambda t: '"s3"' in t))["ret_msg"]
                == "error:args size >10"
            )
        async with http.ws_connect(_url(sim, "linear")) as ws:
            await ws.send_str('{"req_id":"p2","op":"ping"}')
            pong = json.loads(await _recv(ws, lambda t: True))
            assert pong["req_id"] == "p2" and pong["ret_msg"] == "pong"
            await ws.send_str('{"req_id":"s4","op":"subscribe","args":["allLiquidation.BTCUSDT"]}')
            ack = json.loads(await _recv(ws, lambda t: '"s4"' in t))
            assert ack["success"] is True and ack["ret_msg"] == ""


async def test_orderbook_snapshot_deltas_and_faults() -> None:
    async with SimServer({"bybit": [SPOT]}, rate=200) as sim, aiohttp.ClientSession() as http:
        async with http.ws_connect(_url(sim, "spot")) as ws:
            await ws.send_str('{"req_id":"1","op":"subscribe","args":["orderbook.50.BTCUSDT"]}')
            raw = await _recv(ws, lambda t: '"snapshot"' in t)
            assert raw.index('"ts"') < raw.index('"type"')  # spot key-order quirk
            snap = json.loads(raw)
            book = L2Book()
            book.load([tuple(x) for x in snap["data"]["b"]], [tuple(x) for x in snap["data"]["a"]])
            assert book.bid_count == book.ask_count == 50
            last = snap["data"]["u"]
            for _ in range(20):
                d = json.loads(await _recv(ws, lambda t: '"delta"' in t))["data"]
                assert d["u"] == last + 1
                last = d["u"]
                book.apply([tuple(x) for x in d["b"]], [tuple(x) for x in d["a"]])
            sim.pause()
            for text in await _drain(ws):
                d = json.loads(text)["data"]
                assert d["u"] == last + 1
                last = d["u"]
                book.apply([tuple(x) for x in d["b"]], [tuple(x) for x in d["a"]])
            # the top-50 view carries levels entering/leaving the top 50: it equals the truth
            assert book.as_decimal_dict() == sim.truth("bybit", SPOT, 50)
            sim.inject("bybit", SPOT, Fault.SEQ_GAP)
            sim.step_all()
            d = json.loads(await _recv(ws, lambda t: '"delta"' in t))["data"]
            assert d["u"] == last + 2
            sim.inject("bybit", SPOT, Fault.RESNAPSHOT)
            sim.step_all()
            snap2 = json.loads(await _recv(ws, lambda t: '"orderbook' in t))
            assert (
                snap2["type"] == "snapshot"
                and snap2["data"]["u"] == 1
                and len(snap2["data"]["b"]) == 50
            )
            sim.step_all()
            after = json.loads(await _recv(ws, lambda t: '"orderbook' in t))
            assert after["type"] == "delta" and after["data"]["u"] == 2
        rest = sim.endpoints()["bybit"]["spot"]["rest"]
        body = await (
            await http.get(rest + "/v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=3")
        ).json()
        assert (
            body["retCode"] == 0
            and len(body["result"]["b"]) == 3
            and body["result"]["s"] == "BTCUSDT"
        )
        sim.inject("bybit", "spot", Fault.HTTP_429)
        r = await http.get(rest + "/v5/market/orderbook?category=spot&symbol=BTCUSDT")
        assert r.status == 429 and (await r.json())["retCode"] == 10006


async def test_linear_tickers_snapshot_then_partial_deltas_and_liquidation_side() -> None:
    async with (
        SimServer({"bybit": [PERP]}, rate=200) as sim,
        aiohttp.ClientSession() as http,
        http.ws_connect(_url(sim, "linear")) as ws,
    ):
        await ws.send_str(
            '{"req_id":"1","op":"subscribe","args":["tickers.BTCUSDT","allLiquidation.BTCUSDT"]}'
        )
        snap = json.loads(await _recv(ws, lambda t: '"tickers.' in t))
        assert snap["type"] == "snapshot"
        full = snap["data"]
        assert {
            "markPrice",
            "indexPrice",
            "fundingRate",
            "nextFundingTime",
            "openInterest",
        } <= full.keys()
        delta = json.loads(await _recv(ws, lambda t: '"tickers.' in t))
        assert delta["type"] == "delta" and delta["data"]["symbol"] == "BTCUSDT"
        assert set(delta["data"]) < set(full)  # only changed fields
        model = sim.model("bybit", PERP)
        mark = model.mid_ticks()
        model.positions.append(SimPosition(30_000_000, True, mark, 11, 100, mark + 100_000))
        liq = json.loads(await _recv(ws, lambda t: '"allLiquidation.' in t))["data"][0]
        assert (liq["S"], liq["v"], liq["s"]) == (
            "Buy",
            "0.0011",
            "BTCUSDT",
        )  # Buy = a LONG was liquidated
