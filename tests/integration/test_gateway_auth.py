"""API keys over real sockets: 401/403/429, websocket auth, bad messages, no key in logs."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import httpx
import orjson
import pytest

from connex.client import ConnexConfig, ConnexRESTClient, ConnexWebSocketClient
from connex.gateway import KeyStore, create_app
from connex.model.errors import AuthError, ConfigError, RateLimitedError
from tests.helpers import wait_for

from .gateway_support import gateway_stack

SPOT = "BTC/USDT"
FULL_KEY = "cx_full_access_5a1b2c3d4e"
OKX_KEY = "cx_okx_only_77aa88bb99"
TRADES_KEY = "cx_trades_only_0c0d0e0f"
SLOW_KEY = "cx_tiny_bucket_31415926"
SLOW_WS_KEY = "cx_tiny_ws_bucket_16180339"
WRONG_KEY = "cx_wrong_key_27182818"
ALL_KEYS = (FULL_KEY, OKX_KEY, TRADES_KEY, SLOW_KEY, SLOW_WS_KEY, WRONG_KEY)


def _keys() -> KeyStore:
    ks = KeyStore()
    ks.add_plain("full", FULL_KEY)
    ks.add_plain("okx-only", OKX_KEY, exchanges=("okx",))
    ks.add_plain("trades-only", TRADES_KEY, channels=("trades",))
    ks.add_plain("tiny", SLOW_KEY, rate=0.5, burst=3)
    ks.add_plain("tiny-ws", SLOW_WS_KEY, rate=0.5, burst=3)
    return ks


async def _ws(
    session: aiohttp.ClientSession, url: str, key: str | None = None
) -> aiohttp.ClientWebSocketResponse:
    headers = {"X-Connex-Key": key} if key else {}
    return await session.ws_connect(url, headers=headers)


async def _recv(ws: aiohttp.ClientWebSocketResponse, want: str, timeout: float = 5.0) -> dict:
    """Next message of type ``want`` (skipping market data and heartbeats; a frame holds
    one message object or a JSON array of them)."""
    pending: list[dict] = getattr(ws, "_test_pending", [])
    ws._test_pending = pending  # type: ignore[attr-defined]
    async with asyncio.timeout(timeout):
        while True:
            while pending:
                body = pending.pop(0)
                if body["type"] == want:
                    return body
            msg = await ws.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                return {"type": "closed", "code": ws.close_code}
            body = orjson.loads(msg.data)
            pending.extend(body if isinstance(body, list) else [body])


async def test_rest_and_websocket_auth(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    async with gateway_stack([SPOT], keys=_keys()) as stack:
        assert await wait_for(lambda: stack.runner.book("binance", SPOT).is_live, 10)
        base = stack.server.http_url
        async with httpx.AsyncClient(base_url=base) as h:
            r = await h.get("/v1/orderbook/binance/BTC-USDT")
            bodies.append(r.text)
            assert r.status_code == 401
            assert (
                r.json()
                == {
                    "error": "unauthorized",
                    "detail": r.json()["detail"],
                }
                and "X-Connex-Key" in r.json()["detail"]
            )
            r = await h.get("/v1/status", headers={"X-Connex-Key": WRONG_KEY})
            bodies.append(r.text)
            assert r.status_code == 401 and r.json()["detail"] == "invalid API key"
            r = await h.get("/v1/orderbook/binance/BTC-USDT", headers={"X-Connex-Key": OKX_KEY})
            bodies.append(r.text)
            assert r.status_code == 403
            assert r.json()["detail"] == "key 'okx-only' may not read exchange 'binance'"
            r = await h.get("/v1/orderbook/binance/BTC-USDT", headers={"X-Connex-Key": TRADES_KEY})
            bodies.append(r.text)
            assert r.status_code == 403 and "channel 'orderbook'" in r.json()["detail"]
            # the okx-only key sees no binance in the catalog
            r = await h.get("/v1/exchanges", headers={"X-Connex-Key": OKX_KEY})
            assert r.status_code == 200 and r.json() == {"exchanges": []}
            r = await h.get("/v1/orderbook/binance/BTC-USDT", headers={"X-Connex-Key": FULL_KEY})
            assert r.status_code == 200 and r.json()["symbol"] == SPOT
            # tiny bucket: burst 3, then 429 with Retry-After
            codes = []
            for _ in range(5):
                r = await h.get("/v1/status", headers={"X-Connex-Key": SLOW_KEY})
                bodies.append(r.text)
                codes.append(r.status_code)
            assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
            assert r.json()["error"] == "rate_limited" and "key 'tiny'" in r.json()["detail"]
            assert int(r.headers["Retry-After"]) >= 1
            metrics = (await h.get("/metrics")).text
            assert 'connex_gateway_auth_failures_total{code="unauthorized"} 2.0' in metrics
            assert 'connex_gateway_auth_failures_total{code="forbidden"} 2.0' in metrics
            assert 'connex_gateway_auth_failures_total{code="rate_limited"} 2.0' in metrics
            assert 'route="/v1/orderbook/{exchange}/{symbol:path}",status="403"} 2.0' in metrics

        # the Python client: 401 is an AuthError, 429 is retried then RateLimitedError
        cfg = ConnexConfig(
            rest_url=base,
            ws_url=stack.server.ws_url,
            api_key=WRONG_KEY,
            max_retries=1,
            backoff_initial=0.01,
            backoff_max=0.05,
        )
        async with ConnexRESTClient(cfg) as api:
            with pytest.raises(AuthError) as ei:
                await api.status()
            bodies.append(str(ei.value))
        cfg = cfg.model_copy(
            update={"api_key": ConnexConfig(api_key=SLOW_KEY).api_key, "max_retries": 0}
        )
        async with ConnexRESTClient(cfg) as api:
            with pytest.raises(RateLimitedError) as ei2:
                await api.status()
            assert ei2.value.retry_after >= 1

        async with aiohttp.ClientSession() as s:
            url = stack.server.ws_url
            # no key: the first message must be auth
            ws = await _ws(s, url)
            assert (await _recv(ws, "welcome"))["auth"] == "required"
            await ws.send_str(
                '{"op":"subscribe","channel":"orderbook","exchange":"binance","symbol":"BTC/USDT"}'
            )
            err = await _recv(ws, "error")
            bodies.append(str(err))
            assert err["code"] == "unauthorized"
            assert (await _recv(ws, "nothing"))["code"] == 4401
            # wrong key in the auth message
            ws = await _ws(s, url)
            await ws.send_str(orjson.dumps({"op": "auth", "key": WRONG_KEY}).decode())
            err = await _recv(ws, "error")
            bodies.append(str(err))
            assert err == {"type": "error", "code": "unauthorized", "reason": "invalid API key"}
            # wrong key in the header
            ws = await _ws(s, url, WRONG_KEY)
            err = await _recv(ws, "error")
            assert err["code"] == "unauthorized"
            # trades-only key: orderbook refused (403 as a message), trades accepted
            ws = await _ws(s, url, TRADES_KEY)
            assert (await _recv(ws, "welcome"))["auth"] == "ok"
            await ws.send_str(
                '{"op":"subscribe","id":7,"channel":"orderbook","exchange":"binance","symbol":"BTC-USDT"}'
            )
            err = await _recv(ws, "error")
            bodies.append(str(err))
            assert err["id"] == 7 and err["code"] == "forbidden"
            assert err["reason"] == "key 'trades-only' may not read channel 'orderbook'"
            await ws.send_str(
                '{"op":"subscribe","id":8,"channel":"trades","exchange":"binance","symbol":"BTC-USDT"}'
            )
            ack = await _recv(ws, "ack")
            assert ack == {
                "type": "ack",
                "id": 8,
                "op": "subscribe",
                "sub": "trades:binance:BTC/USDT",
            }
            trade = await _recv(ws, "trade", 10)
            assert trade["data"]["symbol"] == SPOT
            # tiny bucket over websocket: the 4th command is refused with retry_after
            ws = await _ws(s, url)
            await ws.send_str(orjson.dumps({"op": "auth", "key": SLOW_WS_KEY}).decode())
            await _recv(ws, "ack")
            for i in range(4):
                await ws.send_str(orjson.dumps({"op": "ping", "id": i}).decode())
            pongs = [(await _recv(ws, "pong"))["id"] for _ in range(3)]
            assert pongs == [0, 1, 2]
            err = await _recv(ws, "error")
            assert err["code"] == "rate_limited" and err["id"] == 3 and err["retry_after"] > 0
            assert "key 'tiny-ws'" in err["reason"]

        # the websocket client gives up on a refused key instead of retrying forever
        client = ConnexWebSocketClient(ConnexConfig(api_key=WRONG_KEY, ws_url=stack.server.ws_url))
        async with client:
            with pytest.raises(AuthError):
                async with asyncio.timeout(5):
                    async for _ in client.events():
                        pass
    text = caplog.text + "\n".join(bodies)
    assert "unauthorized" in text and "forbidden" in text  # the refusals were logged
    for key in ALL_KEYS:
        assert key not in text, "an API key leaked into logs or error messages"


async def test_bad_messages_get_errors_and_do_not_affect_others() -> None:
    async with gateway_stack([SPOT], open_mode=True, rate=40) as stack:
        assert await wait_for(lambda: stack.runner.book("binance", SPOT).is_live, 10)
        async with aiohttp.ClientSession() as s:
            good = await _ws(s, stack.server.ws_url)
            assert (await _recv(good, "welcome"))["auth"] == "open"
            await good.send_str(
                '{"op":"subscribe","channel":"orderbook","exchange":"binance","symbol":"BTC-USDT","depth":10}'
            )
            snap = await _recv(good, "snapshot")
            bad = await _ws(s, stack.server.ws_url)
            await _recv(bad, "welcome")

            def sub(**kw: object) -> str:
                return orjson.dumps(
                    {"op": "subscribe", "exchange": "binance", "symbol": "BTC/USDT", **kw}
                ).decode()

            cases = {
                "not json": "malformed message",
                "[1,2,3]": "Expected `object`",
                '{"op": 5}': "Expected `str`",
                '{"op":"fly"}': "unknown op 'fly'",
                sub(channel="candles"): "unknown channel",
                sub(channel="trades", symbol="BTCUSDT"): "bad symbol",
                sub(channel="trades", exchange="kraken"): "not served",
                sub(channel="orderbook", depth=-3): "depth",
                sub(channel="trades").replace("subscribe", "unsubscribe"): "not subscribed",
                "x" * 20_000: "larger than",
            }
            for text, expect in cases.items():
                await bad.send_str(text)
                err = await _recv(bad, "error")
                assert expect in err["reason"], (text[:40], err)
            await bad.send_bytes(b"\xff\xfe")
            assert (await _recv(bad, "error"))["code"] == "bad_request"
            # the bad client is still served
            await bad.send_str('{"op":"ping","id":"p1"}')
            assert (await _recv(bad, "pong"))["id"] == "p1"
            # the good client kept a gap-free stream the whole time
            seq = snap["seq"]
            for _ in range(20):
                d = await _recv(good, "delta")
                assert d["seq"] == seq + 1
                seq = d["seq"]
            # a client that saw a gap asks for a resync: a fresh snapshot at the current position
            await good.send_str('{"op":"resync","exchange":"binance","symbol":"BTC/USDT"}')
            msg = await _recv(good, "snapshot")
            assert msg["seq"] >= seq and len(msg["data"]["bids"]) == 10
            nxt = await _recv(good, "delta")
            assert nxt["seq"] == msg["seq"] + 1
            await good.send_str('{"op":"resync","exchange":"binance","symbol":"ETH/USDT"}')
            assert (await _recv(good, "error"))["code"] == "not_subscribed"


def test_create_app_requires_keys_or_open_mode() -> None:
    with pytest.raises(ConfigError, match="open_mode"):
        create_app(object(), keys=None, open_mode=False)
    with pytest.raises(ConfigError):
        create_app(object(), keys=KeyStore(), open_mode=False)
