"""End to end over loopback: simulator -> Runner -> gateway (uvicorn) -> Python client."""

from __future__ import annotations

import asyncio

import httpx

from connex.client import (
    ConnexConfig,
    ConnexOrderbookAdapter,
    ConnexRESTClient,
    ConnexWebSocketClient,
)
from connex.exchanges.base import Channel
from connex.model import BookDelta, BookReset, BookSnapshot, Liquidation, ResetReason, Trade
from connex.sim import Fault
from tests.helpers import wait_for

from .gateway_support import KEY, book_vs_truth, gateway_stack

SPOT = "BTC/USDT"
PERP = "XRP/USDT:USDT"  # coarse ticks: a small move liquidates 100x positions


def _config(stack, **kw) -> ConnexConfig:
    return ConnexConfig(
        api_key=KEY,
        ws_url=stack.server.ws_url,
        rest_url=stack.server.http_url,
        backoff_initial=0.05,
        backoff_max=0.5,
        **kw,
    )


async def _collect(client: ConnexWebSocketClient, into: list) -> None:
    async for ev in client.events():
        into.append(ev)


async def test_client_books_equal_truth_and_trades_liquidations_complete() -> None:
    async with gateway_stack(
        [SPOT, PERP], channels=(Channel.BOOK, Channel.TRADES, Channel.LIQUIDATIONS), rate=40
    ) as stack:
        full = ConnexWebSocketClient(_config(stack))
        top = ConnexWebSocketClient(_config(stack))
        got_full: list = []
        got_top: list = []
        async with full, top:
            await full.subscribe("orderbook", "binance", SPOT)
            await full.subscribe("orderbook", "binance", "XRP-USDT:USDT")
            await full.subscribe("trades", "binance", PERP)
            await full.subscribe("liquidations", "binance", PERP)
            await top.subscribe("orderbook", "binance", SPOT, depth=20)
            tasks = [
                asyncio.ensure_future(_collect(full, got_full)),
                asyncio.ensure_future(_collect(top, got_top)),
            ]
            assert await wait_for(lambda: full.book("binance", SPOT) is not None, 10)
            assert await wait_for(lambda: top.book("binance", SPOT) is not None, 10)
            # let the market move, with liquidations, then freeze it and compare with the truth
            n0 = len(stack.seen)
            await asyncio.sleep(1.0)  # leveraged positions open at the current price
            stack.sim.fair["XRP"].ticks += 60  # a 1% move up liquidates high-leverage shorts
            assert await wait_for(
                lambda: (
                    sum(type(e) is Liquidation for e in stack.seen[n0:]) >= 2
                    and sum(type(e) is Trade for e in stack.seen[n0:]) >= 20
                ),
                20,
            )
            stack.sim.pause()
            for sym, client, depth in ((SPOT, full, 100), (PERP, full, 100), (SPOT, top, 20)):
                ok = await wait_for(
                    lambda s=sym, c=client, d=depth: (
                        book_vs_truth(c.book("binance", s), stack.sim, s, d) is None
                    ),
                    10,
                )
                assert ok, (
                    f"{sym}: {book_vs_truth(client.book('binance', sym), stack.sim, sym, depth)}"
                )
            # full-depth client: same book as the runner, at the same exchange sequence
            for sym in (SPOT, PERP):
                sync = stack.runner.book("binance", sym)
                assert full.book("binance", sym).sequence == sync.book.sequence
                assert full.book("binance", sym).bids() == sync.book.bids()
                assert full.book("binance", sym).asks() == sync.book.asks()
            # depth-20 client holds exactly the top 20
            tb = top.book("binance", SPOT)
            assert tb.bids() == stack.runner.book("binance", SPOT).book.bids(20)
            assert tb.asks() == stack.runner.book("binance", SPOT).book.asks(20)
            await asyncio.sleep(0.2)
            for t in tasks:
                t.cancel()

        # trades and liquidations: a contiguous, in-order run of what the runner produced
        for kind in (Trade, Liquidation):
            sent = [e for e in stack.seen if type(e) is kind and e.symbol == PERP]
            recv = [e for e in got_full if type(e) is kind]
            assert recv, f"no {kind.__name__} received"
            start = sent.index(recv[0])
            assert recv == sent[start : start + len(recv)]
            assert recv[-1] == sent[-1], f"last {kind.__name__} missing"
        # the client saw the same model events the connectors emit: the full-depth deltas
        # of the spot book are the runner's own deltas, in order
        runner_deltas = [e for e in stack.seen if type(e) is BookDelta and e.symbol == SPOT]
        client_deltas = [e for e in got_full if type(e) is BookDelta and e.symbol == SPOT]
        start = runner_deltas.index(client_deltas[0])
        assert client_deltas == runner_deltas[start : start + len(client_deltas)]
        assert isinstance(got_full[0], BookSnapshot)
        assert full.state.gaps == 0 and top.state.gaps == 0


async def test_rest_orderbook_status_exchanges_and_legacy_format() -> None:
    async with (
        gateway_stack([SPOT, PERP], rate=20) as stack,
        ConnexRESTClient(_config(stack)) as api,
    ):
        assert await wait_for(lambda: stack.runner.book("binance", SPOT).is_live, 10)
        ex = await api.exchanges()
        (binance,) = ex["exchanges"]
        assert binance["exchange"] == "binance"
        assert {s["symbol"] for s in binance["symbols"]} == {SPOT, PERP}
        assert binance["markets"] == ["linear", "spot"]
        status = await api.status()
        assert status["exchanges"][0]["exchange"] == "binance"
        assert status["exchanges"][0]["books_total"] == 2

        stack.sim.pause()
        await asyncio.sleep(0.3)
        snap = await api.orderbook("binance", SPOT, depth=10)
        sync = stack.runner.book("binance", SPOT)
        assert snap.sequence == sync.book.sequence
        assert list(snap.bids) == sync.book.bids(10)
        assert list(snap.asks) == sync.book.asks(10)
        # URL-encoded slash works as well as the dash form
        async with httpx.AsyncClient(
            base_url=stack.server.http_url, headers={"X-Connex-Key": KEY}
        ) as h:
            r = await h.get("/v1/orderbook/binance/XRP%2FUSDT%3AUSDT", params={"depth": 5})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["symbol"] == PERP
            assert body["bids"] == [
                list(x) for x in stack.runner.book("binance", PERP).book.bids(5)
            ]
            r = await h.get("/v1/orderbook/binance/DOGE-USDT")
            assert r.status_code == 404 and "DOGE/USDT" in r.json()["detail"]
            r = await h.get("/v1/orderbook/binance/NOSLASH")
            assert r.status_code == 400 and "BTC-USDT" in r.json()["detail"]
            r = await h.get("/metrics")
            assert r.status_code == 200
            assert 'connex_books_live{exchange="binance"} 2.0' in r.text
        legacy = ConnexOrderbookAdapter.transform_to_legacy_format(snap)
        assert legacy["symbol"] == SPOT and legacy["exchange"] == "binance"
        assert legacy["bids"][0] == [snap.bids[0][0], snap.bids[0][1]]
        assert legacy["timestamp"] == snap.ts_exchange // 1_000_000


async def test_upstream_gap_gives_503_then_reset_and_fresh_snapshot_on_the_stream() -> None:
    async with gateway_stack([SPOT], rate=20) as stack:
        client = ConnexWebSocketClient(_config(stack))
        got: list = []
        async with client:
            await client.subscribe("orderbook", "binance", SPOT, depth=50)
            task = asyncio.ensure_future(_collect(client, got))
            assert await wait_for(lambda: client.book("binance", SPOT) is not None, 10)
            # mid-stream: the runtime has applied updates after its snapshot (a drop right
            # after the snapshot is classified snapshot_too_old, not gap)
            assert await wait_for(lambda: any(isinstance(e, BookDelta) for e in got), 10)
            # (the HTTP client is made first: its TLS setup must not delay the GET below)
            async with httpx.AsyncClient(
                base_url=stack.server.http_url, headers={"X-Connex-Key": KEY}
            ) as h:
                # a dropped update makes the runtime's book invalid; 429s delay its new
                # snapshot
                stack.sim.inject("binance", SPOT, Fault.HTTP_429, count=2)
                stack.sim.inject("binance", SPOT, Fault.DROP)
                assert await wait_for(lambda: not stack.runner.book("binance", SPOT).is_live, 10)
                r = await h.get("/v1/orderbook/binance/BTC-USDT")
                assert r.status_code == 503, r.text
                assert r.json()["error"] == "book_not_live"
                assert "gap" in r.json()["detail"]
                assert r.headers["Retry-After"] == "1"
                assert await wait_for(lambda: stack.runner.book("binance", SPOT).is_live, 15)
                r = await h.get("/v1/orderbook/binance/BTC-USDT")
                assert r.status_code == 200
            resets = [e for e in got if isinstance(e, BookReset)]
            assert resets and resets[0].reason is ResetReason.GAP
            after = got[got.index(resets[0]) + 1 :]
            assert await wait_for(lambda: client.book("binance", SPOT) is not None, 10)
            assert any(isinstance(e, BookSnapshot) for e in got[got.index(resets[0]) :])
            first_book = next(e for e in after if isinstance(e, (BookSnapshot, BookDelta)))
            assert isinstance(first_book, BookSnapshot)  # never a delta on an invalid book
            stack.sim.pause()
            ok = await wait_for(
                lambda: book_vs_truth(client.book("binance", SPOT), stack.sim, SPOT, 50) is None, 10
            )
            assert ok, book_vs_truth(client.book("binance", SPOT), stack.sim, SPOT, 50)
            task.cancel()
