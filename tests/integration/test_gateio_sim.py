"""The simulated Gate venues on the wire (raw websocket / HTTP clients, no connector).

These pin the simulator to gateio.md independently of ``connex.exchanges.gateio``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connex.sim import Fault, SimServer

SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer({"gateio": [SPOT, PERP]}, autostart=False, seed=4) as s:
        yield s


async def _recv(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    msg = await ws.receive(timeout=5)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)  # type: ignore[no-any-return]


def _ws(sim: SimServer, market: str) -> str:
    base = sim.endpoints()["gateio"][market]["ws"]
    return base + ("/ws/v4/" if market == "spot" else "/v4/ws/usdt")


async def test_ping_pong_ack_and_error_formats(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(_ws(sim, "spot")) as ws:
        await ws.send_str('{"time":1700000000,"channel":"spot.ping"}')
        pong = await _recv(ws)
        assert pong["channel"] == "spot.pong" and pong["event"] == ""
        assert pong["error"] is None and pong["result"] is None and isinstance(pong["time_ms"], int)
        sub = {
            "time": 1700000000,
            "id": 7,
            "channel": "spot.trades",
            "event": "subscribe",
            "payload": ["BTC_USDT"],
        }
        await ws.send_str(json.dumps(sub))
        ack = await _recv(ws)
        assert (ack["id"], ack["channel"], ack["event"]) == (7, "spot.trades", "subscribe")
        assert ack["error"] is None and ack["result"] == {"status": "success"}
        bad = {
            **sub,
            "id": 8,
            "channel": "spot.order_book_update",
            "payload": ["NOPE_USD", "100ms"],
        }
        await ws.send_str(json.dumps(bad))
        err = await _recv(ws)
        assert err["error"] == {"code": 2, "message": "unknown currency pair: NOPE_USD"}
        assert err["result"] == {"status": "fail"} and err["id"] == 8
        await ws.send_str("not json")
        assert (await _recv(ws))["error"]["code"] == 1
        # one unknown pair fails the whole payload
        await ws.send_str(json.dumps({**sub, "id": 9, "payload": ["BTC_USDT", "NOPE_USDT"]}))
        assert (await _recv(ws))["error"]["code"] == 2


async def test_order_book_updates_are_contiguous_and_rebuild_the_true_window(
    sim: SimServer,
) -> None:
    rest = sim.endpoints()["gateio"]["spot"]["rest"]
    async with aiohttp.ClientSession() as http, http.ws_connect(_ws(sim, "spot")) as ws:
        sub = {
            "time": 1,
            "channel": "spot.order_book_update",
            "event": "subscribe",
            "payload": ["BTC_USDT", "20ms"],
        }
        await ws.send_str(json.dumps(sub))
        assert (await _recv(ws))["result"] == {"status": "success"}
        url = f"{rest}/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=20&with_id=true"
        async with http.get(url) as r:
            snap = await r.json()
        bids = dict(snap["bids"])
        asks = dict(snap["asks"])
        last = snap["id"]
        for _ in range(200):
            sim.step_all()
        ups = []
        while len(ups) < 200:
            m = await _recv(ws)
            ups.append(m["result"])
        for u in ups:
            assert u["U"] == last + 1 and u["u"] >= u["U"]  # contiguous ids
            last = u["u"]
            for side, book in (("b", bids), ("a", asks)):
                for p, q in u[side]:
                    if q.strip("0.") == "":
                        book.pop(p, None)
                    else:
                        book[p] = q
        model = sim.model("gateio", SPOT)
        tb, ta = model.top(20)
        assert bids == {model.price_str(p): model.size_str(q) for p, q in tb}
        assert asks == {model.price_str(p): model.size_str(q) for p, q in ta}


async def test_futures_sizes_contracts_ints_or_strings_with_header(sim: SimServer) -> None:
    rest = sim.endpoints()["gateio"]["linear"]["rest"]
    async with aiohttp.ClientSession() as http:
        url = f"{rest}/api/v4/futures/usdt/order_book?contract=BTC_USDT&limit=5&with_id=true"
        async with http.get(url) as r:
            plain = await r.json()
        async with http.get(url, headers={"X-Gate-Size-Decimal": "1"}) as r:
            dec = await r.json()
        assert isinstance(plain["id"], int) and isinstance(plain["current"], float)
        assert all(isinstance(lv["s"], int) for lv in plain["asks"]) and len(plain["asks"]) == 5
        assert all(isinstance(lv["s"], str) for lv in dec["asks"])
        async with http.get(url.replace("&with_id=true", "")) as r:
            assert "id" not in await r.json()
        async with http.get(f"{rest}/api/v4/futures/usdt/contracts") as r:
            (c,) = await r.json()
        assert c["name"] == "BTC_USDT" and c["quanto_multiplier"] == "0.0001"
        async with http.ws_connect(_ws(sim, "linear"), headers={"X-Gate-Size-Decimal": "1"}) as ws:
            sub = {
                "time": 1,
                "channel": "futures.trades",
                "event": "subscribe",
                "payload": ["BTC_USDT"],
            }
            await ws.send_str(json.dumps(sub))
            assert (await _recv(ws))["error"] is None
            bad = {
                **sub,
                "channel": "futures.order_book_update",
                "payload": ["BTC_USDT", "20ms", "100"],
            }
            await ws.send_str(json.dumps(bad))
            assert (await _recv(ws))["error"]["code"] == 2  # 20ms only with level 20
            model = sim.model("gateio", PERP)
            for _ in range(1000):
                sim.step_all()
                if model.trade_id:
                    break
            trade_msg = await _recv(ws)
            assert trade_msg["channel"] == "futures.trades"
            t = trade_msg["result"][0]
            assert isinstance(t["size"], str) and int(t["size"]) != 0


async def test_obu_full_push_first_and_duplicate_refused(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(_ws(sim, "linear")) as ws:
        sub = {
            "time": 1,
            "channel": "futures.obu",
            "event": "subscribe",
            "payload": ["ob.BTC_USDT.50"],
        }
        await ws.send_str(json.dumps(sub))
        assert (await _recv(ws))["result"] == {"status": "success"}
        full = (await _recv(ws))["result"]
        assert full["full"] is True and full["s"] == "ob.BTC_USDT.50" and len(full["b"]) == 50
        assert all(isinstance(q, str) for _, q in full["b"])  # obu levels are [px, size] strings
        sim.step_all()
        nxt = (await _recv(ws))["result"]
        assert nxt["U"] == full["u"] + 1 and "full" not in nxt
        await ws.send_str(json.dumps(sub))
        err = await _recv(ws)
        assert err["error"] == {"code": 2, "message": "Alert sub ob.BTC_USDT.50"}
        assert err["result"] == {"status": "fail"}


async def test_rest_429_and_errors_in_gate_format(sim: SimServer) -> None:
    rest = sim.endpoints()["gateio"]["spot"]["rest"]
    sim.inject("gateio", "spot", Fault.HTTP_429)
    async with aiohttp.ClientSession() as http:
        url = f"{rest}/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=10&with_id=true"
        async with http.get(url) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "1"
            assert (await r.json())["label"] == "TOO_MANY_REQUESTS"
        async with http.get(url) as r:
            assert r.status == 200 and len((await r.json())["bids"]) == 10
        async with http.get(url.replace("BTC_USDT", "NOPE_USDT")) as r:
            assert r.status == 400 and (await r.json())["label"] == "INVALID_CURRENCY_PAIR"


async def test_liquidations_are_signed_by_position_and_batched() -> None:
    sym = "XRP/USDT:USDT"
    async with SimServer({"gateio": [sym]}, autostart=False, seed=2) as sim:
        venue = sim.venue("gateio", sym)
        venue.liquidation_window_ms = 0  # flush at every step that has one
        async with aiohttp.ClientSession() as http, http.ws_connect(_ws(sim, "linear")) as ws:
            sub = {
                "time": 1,
                "channel": "futures.public_liquidates",
                "event": "subscribe",
                "payload": ["!all"],
            }
            await ws.send_str(json.dumps(sub))
            assert (await _recv(ws))["error"] is None
            seen: list[Any] = []
            on_step = venue.on_step

            def record(symbol: str, step: Any) -> None:
                seen.extend(step.liquidations)
                on_step(symbol, step)

            venue.on_step = record  # type: ignore[method-assign]
            for _ in range(20_000):
                sim.step_all()
                if seen:
                    break
            assert seen, "no liquidation in 20k steps"
            msg = await _recv(ws)
        assert msg["channel"] == "futures.public_liquidates"
        model = sim.model("gateio", sym)
        got = [(e["contract"], e["price"], e["size"]) for e in msg["result"]]
        want = [
            ("XRP_USDT", model.price_str(x.price), x.position.size if x.long else -x.position.size)
            for x in seen
        ]
        assert got == want and all(e["time"] > 10**12 for e in msg["result"])  # ms
        assert {e["size"] > 0 for e in msg["result"]} == {x.long for x in seen}


def _recorded(name: str) -> dict[str, dict[str, Any]]:
    """First recorded push per channel from a recording in tests/fixtures."""
    folder = "gateio" if name == "GATEIO" else "gateio_futures"
    path = (
        Path(__file__).resolve().parents[1] / "fixtures" / "recorded" / folder / f"{name}.ws.1.0.gz"
    )
    out: dict[str, dict[str, Any]] = {}
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith("wss://") or not line.strip():
                continue
            msg = json.loads(line.split(": ", 1)[1])
            if msg.get("event") == "update":
                out.setdefault(msg["channel"], msg)
    return out


def _shape(value: Any) -> Any:
    """Keys and JSON types, recursively (first element of lists)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _covers(sim: Any, rec: Any) -> bool:
    """Every key the recording has, the simulator has too, with the same JSON type."""
    if isinstance(rec, dict):
        return isinstance(sim, dict) and all(
            k in sim and _covers(sim[k], v) for k, v in rec.items()
        )
    if isinstance(rec, list):
        return isinstance(sim, list) and (not rec or not sim or _covers(sim[0], rec[0]))
    return sim == rec


@pytest.mark.parametrize(
    ("market", "name", "channels"),
    [
        (
            "spot",
            "GATEIO",
            {"spot.order_book_update": ["BTC_USDT", "100ms"], "spot.trades": ["BTC_USDT"]},
        ),
        (
            "linear",
            "GATEIO_FUTURES",
            {
                "futures.order_book_update": ["BTC_USDT", "100ms", "100"],
                "futures.book_ticker": ["BTC_USDT"],
            },
        ),
    ],
)
async def test_simulated_pushes_have_the_recorded_shape(
    sim: SimServer, market: str, name: str, channels: dict[str, list[str]]
) -> None:
    recorded = _recorded(name)
    got: dict[str, dict[str, Any]] = {}
    async with aiohttp.ClientSession() as http, http.ws_connect(_ws(sim, market)) as ws:
        for ch, payload in channels.items():
            await ws.send_str(
                json.dumps({"time": 1, "channel": ch, "event": "subscribe", "payload": payload})
            )
            assert (await _recv(ws))["error"] is None
        for _ in range(300):
            sim.step_all()
            while True:
                try:
                    msg = await ws.receive(timeout=0.2)
                except TimeoutError:
                    break
                frame = json.loads(msg.data)
                got.setdefault(frame["channel"], frame)
                if set(got) >= set(channels):
                    break
            if set(got) >= set(channels):
                break
    for ch in channels:
        rec, mine = _shape(recorded[ch]), _shape(got[ch])
        if name == "GATEIO":  # 2021 frames had no time_ms yet; everything else must match
            rec.pop("time_ms", None)
        assert _covers(mine, rec), (ch, rec, mine)
