"""The simulated OKX venue's wire protocol, spoken to with a raw websocket client."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from connex.book import L2Book
from connex.exchanges.okx.integrity import checksum
from connex.sim import Fault, SimServer

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
    """Every frame until the socket is quiet for ``quiet`` seconds."""
    out = []
    while True:
        try:
            msg = await asyncio.wait_for(ws.receive(), quiet)
        except TimeoutError:
            return out
        out.append(msg.data)


def _url(sim: SimServer, market: str) -> str:
    return sim.endpoints()["okx"][market]["ws"] + "/ws/v5/public"


@pytest.mark.parametrize("cs_mode", [True, False])
async def test_books_snapshot_chain_and_checksum_mode(cs_mode: bool) -> None:
    async with (
        SimServer({"okx": [PERP]}, rate=200, venue_options={"okx": {"checksum": cs_mode}}) as sim,
        aiohttp.ClientSession() as http,
        http.ws_connect(_url(sim, "linear")) as ws,
    ):
        await ws.send_str(
            '{"id":"7","op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT-SWAP"}]}'
        )
        ack = json.loads(await _recv(ws, lambda t: '"event"' in t))
        assert ack["id"] == "7" and ack["event"] == "subscribe" and ack["connId"]
        assert ack["arg"] == {"channel": "books", "instId": "BTC-USDT-SWAP"}
        snap = json.loads(await _recv(ws, lambda t: '"snapshot"' in t))
        book = L2Book()
        d = snap["data"][0]
        assert d["prevSeqId"] == -1 and len(d["bids"]) > 100 and len(d["bids"][0]) == 4
        book.load([(p, q) for p, q, *_ in d["bids"]], [(p, q) for p, q, *_ in d["asks"]])
        last = d["seqId"]
        seen = [d["checksum"]]
        for _ in range(30):
            upd = json.loads(await _recv(ws, lambda t: '"update"' in t))["data"][0]
            assert upd["prevSeqId"] == last and upd["seqId"] > last
            last = upd["seqId"]
            book.apply([(p, q) for p, q, *_ in upd["bids"]], [(p, q) for p, q, *_ in upd["asks"]])
            seen.append(upd["checksum"])
            if cs_mode:  # the simulator's CRC32 agrees with the connector's own code
                assert upd["checksum"] == checksum(book)
        assert all(seen) if cs_mode else set(seen) == {0}
        sim.pause()
        for text in await _drain(ws):
            upd = json.loads(text)["data"][0]
            assert upd["prevSeqId"] == last
            last = upd["seqId"]
            book.apply([(p, q) for p, q, *_ in upd["bids"]], [(p, q) for p, q, *_ in upd["asks"]])
        assert book.as_decimal_dict() == sim.truth("okx", PERP)


async def test_control_errors_ping_and_faults() -> None:
    async with SimServer({"okx": [SPOT, PERP]}, rate=200) as sim:
        async with aiohttp.ClientSession() as http, http.ws_connect(_url(sim, "spot")) as ws:
            await ws.send_str("ping")
            assert await _recv(ws, lambda t: True) == "pong"
            await ws.send_str(
                '{"id":"1","op":"subscribe","args":[{"channel":"books","instId":"FOO-USDT"}]}'
            )
            err = json.loads(await _recv(ws, lambda t: True))
            assert (err["id"], err["event"], err["code"]) == ("1", "error", "60018")
            assert "instId:FOO-USDT doesn't exist" in err["msg"]
            await ws.send_str(
                '{"op":"subscribe","args":[{"channel":"liquidation-orders","instType":"SWAP"}]}'
            )
            assert (
                json.loads(await _recv(ws, lambda t: True))["code"] == "60018"
            )  # not on the spot venue
            await ws.send_str('{"op":"login","args":[]}')
            assert json.loads(await _recv(ws, lambda t: True))["code"] == "60019"
            await ws.send_str("{nope")
            assert json.loads(await _recv(ws, lambda t: True))["code"] == "60012"
            await ws.send_str(
                '{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},{"channel":"trades","instId":"BTC-USDT"}]}'
            )
            snap = await _recv(ws, lambda t: '"snapshot"' in t)
            sim.pause()
            books = [snap] + [t for t in await _drain(ws) if '"books"' in t]
            last = json.loads(books[-1])["data"][0]["seqId"]
            sim.inject("okx", SPOT, Fault.SEQ_GAP)
            sim.step_all()
            upd = json.loads(await _recv(ws, lambda t: '"update"' in t))["data"][0]
            assert upd["prevSeqId"] == last + 1  # links to a seqId that was never sent
            sim.inject("okx", SPOT, Fault.BAD_CHECKSUM)
            sim.step_all()
            bad = json.loads(await _recv(ws, lambda t: '"update"' in t))["data"][0]
            assert bad["checksum"] != 0  # corrupted (checksum mode is off: a real one would be 0)
            sim.step_all()
            good = json.loads(await _recv(ws, lambda t: '"update"' in t))["data"][0]
            assert good["checksum"] == 0 and good["prevSeqId"] == bad["seqId"]
            sim.resume()
            trade = json.loads(await _recv(ws, lambda t: '"trades"' in t and '"data"' in t))[
                "data"
            ][0]
            assert (
                trade["side"] in ("buy", "sell")
                and trade["count"] == "1"
                and trade["instId"] == "BTC-USDT"
            )
            await ws.send_str(
                '{"id":"9","op":"unsubscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}'
            )
            unsub = json.loads(await _recv(ws, lambda t: '"unsubscribe"' in t))
            assert unsub["id"] == "9" and unsub["arg"]["instId"] == "BTC-USDT"
        async with aiohttp.ClientSession() as http:
            body = await (
                await http.get(
                    sim.endpoints()["okx"]["linear"]["rest"]
                    + "/api/v5/public/instruments?instType=SWAP"
                )
            ).json()
            assert body["data"][0]["instId"] == "BTC-USDT-SWAP" and body["data"][0]["ctVal"] == "1"
            books = await (
                await http.get(
                    sim.endpoints()["okx"]["spot"]["rest"]
                    + "/api/v5/market/books?instId=BTC-USDT&sz=5"
                )
            ).json()
            assert books["code"] == "0" and len(books["data"][0]["bids"]) == 5
            sim.inject("okx", "spot", Fault.HTTP_429)
            r = await http.get(
                sim.endpoints()["okx"]["spot"]["rest"] + "/api/v5/market/books?instId=BTC-USDT"
            )
            assert r.status == 429 and (await r.json())["code"] == "50011"


async def test_idle_connection_closed_with_4004() -> None:
    async with (
        SimServer({"okx": [SPOT]}, rate=50, venue_options={"okx": {"idle_timeout": 0.4}}) as sim,
        aiohttp.ClientSession() as http,
        http.ws_connect(_url(sim, "spot")) as ws,
    ):
        msg = await asyncio.wait_for(ws.receive(), 5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 4004
