"""The one-setting switch (direct connectors vs gateway) and ``connex compare``."""

from __future__ import annotations

import asyncio

from msgspec.structs import replace

from connex.client import ConnexConfig, SourceConfig, open_source, run_compare
from connex.client.source import ConnexSource, DirectSource
from connex.config import ExchangeConfig
from connex.model import BookDelta, BookSnapshot, Trade
from tests.helpers import wait_for

from .gateway_support import book_vs_truth, gateway_stack

SYMBOLS = ["BTC/USDT", "ETH/USDT"]


async def _drain(source, into: list) -> None:
    async for ev in source.events():
        into.append(ev)


async def test_direct_and_connex_sources_yield_the_same_events() -> None:
    async with gateway_stack(SYMBOLS, open_mode=True, rate=20) as stack:
        exchanges = {
            "binance": ExchangeConfig(
                symbols=SYMBOLS,
                channels=["book", "trades"],
                endpoints=stack.sim.endpoints()["binance"],
            )
        }
        env_off = {"CONNEX_WS_URL": stack.server.ws_url, "CONNEX_REST_URL": stack.server.http_url}
        env_on = {**env_off, "CONNEX_ENABLED": "1"}
        direct = open_source(SourceConfig.from_env(exchanges, env=env_off), env=env_off)
        connex = open_source(SourceConfig.from_env(exchanges, env=env_on), env=env_on)
        assert isinstance(direct, DirectSource) and isinstance(connex, ConnexSource)
        got_d: list = []
        got_c: list = []
        async with direct, connex:
            tasks = [
                asyncio.ensure_future(_drain(direct, got_d)),
                asyncio.ensure_future(_drain(connex, got_c)),
            ]
            for sym in SYMBOLS:
                assert await wait_for(lambda s=sym: direct.book("binance", s) is not None, 10)
                assert await wait_for(lambda s=sym: connex.book("binance", s) is not None, 10)
            await asyncio.sleep(1.0)
            stack.sim.pause()
            for sym in SYMBOLS:
                for src in (direct, connex):
                    ok = await wait_for(
                        lambda s=sym, x=src: (
                            book_vs_truth(x.book("binance", s), stack.sim, s, 100) is None
                        ),
                        10,
                    )
                    assert ok, (src.kind, sym)
            await asyncio.sleep(0.3)
            for t in tasks:
                t.cancel()
        # the same model types, and the same deltas (by exchange sequence) and trades
        assert (
            {type(e) for e in got_d} == {type(e) for e in got_c} == {BookSnapshot, BookDelta, Trade}
        )
        for sym in SYMBOLS:
            d = {e.sequence: e for e in got_d if type(e) is BookDelta and e.symbol == sym}
            c = {e.sequence: e for e in got_c if type(e) is BookDelta and e.symbol == sym}
            common = set(d) & set(c)
            assert len(common) > 10
            # equal except the receive time, which each connection stamps itself
            assert all(replace(d[s], ts_local=0) == replace(c[s], ts_local=0) for s in common)
            td = [e.trade_id for e in got_d if type(e) is Trade and e.symbol == sym]
            tc = [e.trade_id for e in got_c if type(e) is Trade and e.symbol == sym]
            lo = max(int(td[0]), int(tc[0]))  # the later of the two starts
            assert [t for t in tc if int(t) >= lo] == [t for t in td if int(t) >= lo]
            assert len([t for t in tc if int(t) >= lo]) > 3


async def test_run_compare_reports_equal_books_and_latency() -> None:
    async with gateway_stack(SYMBOLS, open_mode=True, rate=20) as stack:
        config = SourceConfig(
            exchanges={
                "binance": ExchangeConfig(
                    symbols=SYMBOLS,
                    channels=["book", "trades"],
                    endpoints=stack.sim.endpoints()["binance"],
                )
            },
            connex=ConnexConfig(ws_url=stack.server.ws_url, rest_url=stack.server.http_url),
        )
        report = await run_compare(config, duration=2.5, depth=10)
    assert report["ok"], report
    for sym in SYMBOLS:
        book = report["books"][f"binance {sym}"]
        assert book["compared"] > 10 and book["mismatched"] == 0
    lat = report["latency_ms"]["binance"]
    assert lat["samples"] > 20 and lat["p50"] is not None and lat["p99"] >= lat["p50"]
    assert report["events"]["direct"] > 0 and report["events"]["connex"] > 0
