"""REST client over an httpx MockTransport: retries, 429 + Retry-After, errors."""

from __future__ import annotations

import httpx
import pytest

from connex.client import ConnexConfig, ConnexRESTClient
from connex.client.rest import ConnexAPIError
from connex.model.errors import AuthError, RateLimitedError, TransportError, UnknownSymbolError

KEY = "cx_rest_secret_0042"
BOOK = {
    "exchange": "binance",
    "symbol": "BTC/USDT:USDT",
    "sequence": 77,
    "ts_exchange": 5_000_000,
    "ts_local": 6_000_000,
    "bids": [["60000.1", "0.500"]],
    "asks": [["60000.2", "1.250"]],
}


def _client(responses: list, seen: list, **cfg) -> ConnexRESTClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        r = responses.pop(0)
        if isinstance(r, Exception):
            raise r
        return r

    config = ConnexConfig(
        api_key=KEY, rest_url="http://gw.test", backoff_initial=0.001, backoff_max=0.01, **cfg
    )
    return ConnexRESTClient(config, transport=httpx.MockTransport(handler))


async def test_orderbook_sends_key_and_dash_symbol() -> None:
    seen: list = []
    async with _client([httpx.Response(200, json=BOOK)], seen) as api:
        snap = await api.orderbook("binance", "BTC/USDT:USDT", depth=5)
    assert seen[0].url.path == "/v1/orderbook/binance/BTC-USDT:USDT"
    assert seen[0].url.params["depth"] == "5"
    assert seen[0].headers["X-Connex-Key"] == KEY
    assert (
        snap.sequence == 77
        and snap.bids == (("60000.1", "0.500"),)
        and snap.asks == (("60000.2", "1.250"),)
    )


async def test_429_waits_retry_after_then_succeeds() -> None:
    seen: list = []
    responses = [
        httpx.Response(
            429, headers={"Retry-After": "0"}, json={"error": "rate_limited", "detail": "slow down"}
        ),
        httpx.Response(503, json={"error": "book_not_live", "detail": "resyncing"}),
        httpx.Response(200, json={"exchanges": []}),
    ]
    async with _client(responses, seen) as api:
        assert await api.exchanges() == {"exchanges": []}
        assert api.retries == 2
    assert len(seen) == 3


async def test_give_up_after_max_retries() -> None:
    seen: list = []
    limited = [
        httpx.Response(
            429, headers={"Retry-After": "0"}, json={"error": "rate_limited", "detail": "x"}
        )
    ] * 3
    async with _client(limited, seen, max_retries=2) as api:
        with pytest.raises(RateLimitedError) as e:
            await api.status()
    assert len(seen) == 3 and e.value.retry_after == 0
    down = [httpx.Response(503, json={"error": "book_not_live", "detail": "resyncing"})] * 2
    async with _client(down, [], max_retries=1) as api:
        with pytest.raises(ConnexAPIError, match="503 book_not_live: resyncing"):
            await api.orderbook("binance", "BTC/USDT")
    errors = [httpx.ConnectError("refused")] * 2
    async with _client(errors, [], max_retries=1) as api:
        with pytest.raises(TransportError, match="ConnectError"):
            await api.status()


async def test_auth_and_symbol_errors_are_not_retried() -> None:
    seen: list = []
    responses = [
        httpx.Response(401, json={"error": "unauthorized", "detail": "invalid API key"}),
        httpx.Response(
            403, json={"error": "forbidden", "detail": "key 'k' may not read exchange 'okx'"}
        ),
        httpx.Response(
            404, json={"error": "unknown_symbol", "detail": "no order book for binance DOGE/USDT"}
        ),
    ]
    async with _client(responses, seen) as api:
        with pytest.raises(AuthError, match="invalid API key") as e1:
            await api.status()
        with pytest.raises(AuthError, match="may not read exchange 'okx'"):
            await api.orderbook("okx", "BTC/USDT")
        with pytest.raises(UnknownSymbolError, match="DOGE/USDT"):
            await api.orderbook("binance", "DOGE/USDT")
    assert len(seen) == 3
    assert KEY not in str(e1.value) and KEY not in repr(api)
