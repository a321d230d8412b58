"""The gateway restarts mid-stream: 100 real clients reconnect, resubscribe and resync."""

from __future__ import annotations

import asyncio

from connex.client import ConnexConfig, ConnexWebSocketClient
from connex.gateway import GatewayServer, create_app
from connex.model import BookReset, BookSnapshot, ResetReason, Trade
from tests.helpers import wait_for

from .gateway_support import book_vs_truth, gateway_stack

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
N_CLIENTS = 100


async def _collect(client: ConnexWebSocketClient, into: list) -> None:
    async for ev in client.events():
        into.append(ev)


async def test_all_clients_recover_after_gateway_restart() -> None:
    async with gateway_stack(SYMBOLS, open_mode=True, rate=10) as stack:
        port = stack.server.port
        cfg = ConnexConfig(
            ws_url=stack.server.ws_url,
            rest_url=stack.server.http_url,
            backoff_initial=0.1,
            backoff_max=1.0,
            heartbeat_timeout=5.0,
        )
        clients = [ConnexWebSocketClient(cfg) for _ in range(N_CLIENTS)]
        got: list[list] = [[] for _ in clients]
        for i, c in enumerate(clients):
            await c.subscribe("orderbook", "binance", SYMBOLS[i % 2], depth=10)
            await c.subscribe("trades", "binance", SYMBOLS[i % 2])
            await c.start()
        tasks = [asyncio.ensure_future(_collect(c, g)) for c, g in zip(clients, got, strict=True)]
        try:
            assert await wait_for(
                lambda: all(c.book("binance", SYMBOLS[i % 2]) for i, c in enumerate(clients)), 20
            )
            old_hub = stack.server.app.state.hub
            await stack.server.stop()
            events_in = old_hub.stats.events_in
            assert await wait_for(
                lambda: all(
                    c.book("binance", SYMBOLS[i % 2]) is None for i, c in enumerate(clients)
                ),
                10,
            )
            await asyncio.sleep(0.5)
            # a new gateway process would do exactly this: a new app on the same runner and port
            server = GatewayServer(create_app(stack.runner, keys=None, open_mode=True), port=port)
            await server.start()
            try:
                assert await wait_for(
                    lambda: all(c.book("binance", SYMBOLS[i % 2]) for i, c in enumerate(clients)),
                    20,
                ), "not every client recovered its book"

                # trades flow again after the restart, in order and without holes
                def traded_since_reset(g: list) -> bool:
                    resets = [k for k, e in enumerate(g) if isinstance(e, BookReset)]
                    return bool(resets) and any(type(e) is Trade for e in g[resets[-1] :])

                assert await wait_for(lambda: all(traded_since_reset(g) for g in got), 10)
                assert old_hub.stats.events_in == events_in  # the stopped gateway detached
                stack.sim.pause()
                await asyncio.sleep(0.3)
                for i, c in enumerate(clients):
                    sym = SYMBOLS[i % 2]
                    ok = await wait_for(
                        lambda c=c, s=sym: (
                            book_vs_truth(c.book("binance", s), stack.sim, s, 10) is None
                        ),
                        5,
                    )
                    assert ok, (i, book_vs_truth(c.book("binance", sym), stack.sim, sym, 10))
                for i, (c, g) in enumerate(zip(clients, got, strict=True)):
                    sym = SYMBOLS[i % 2]
                    resets = [e for e in g if isinstance(e, BookReset)]
                    assert [r.reason for r in resets] == [ResetReason.RECONNECT]
                    after = g[g.index(resets[0]) :]
                    assert any(isinstance(e, BookSnapshot) for e in after)
                    assert c.reconnects >= 1 and c.connections == 2
                    sent = [e for e in stack.seen if type(e) is Trade and e.symbol == sym]
                    recv = [e for e in after if type(e) is Trade]
                    start = sent.index(recv[0])
                    assert recv == sent[start : start + len(recv)], (
                        f"client {i}: trades out of order or missing"
                    )
            finally:
                await server.stop()
        finally:
            for c in clients:
                await c.stop()
            for t in tasks:
                t.cancel()
