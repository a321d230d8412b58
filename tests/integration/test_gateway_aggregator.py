"""The liquidation aggregator runs unchanged on the gateway (``source: connex``) and on
direct connectors (``source: direct``) and sees the same liquidations."""

from __future__ import annotations

import asyncio
import contextlib

from connex.aggregate import LiquidationAggregator
from connex.aggregate.liquidations import EventStreamSource
from connex.client import SourceConfig, open_source
from connex.config import ExchangeConfig
from connex.exchanges.base import Channel
from connex.model import Liquidation, PositionSide
from tests.helpers import wait_for

from .gateway_support import gateway_stack

PERP = "BTC/USDT:USDT"


async def _collect(
    source_cfg_env: dict[str, str], exchanges: dict, into: list[Liquidation]
) -> None:
    """The same consumer code for both sources: open the source, aggregate, collect."""
    source = open_source(SourceConfig.from_env(exchanges, env=source_cfg_env), env=source_cfg_env)
    async with source:
        agg = LiquidationAggregator([EventStreamSource("binance", source.events)])
        async with agg:
            async for liq in agg:
                into.append(liq)


async def test_aggregator_runs_unchanged_on_the_gateway() -> None:
    async with gateway_stack(
        [PERP], channels=(Channel.BOOK, Channel.LIQUIDATIONS), open_mode=True, rate=200
    ) as stack:
        stack.sim.model("binance", PERP).seed_open_interest()  # liquidations within seconds
        exchanges = {
            "binance": ExchangeConfig(
                symbols=[PERP],
                channels=["liquidations"],
                endpoints=stack.sim.endpoints()["binance"],
            )
        }
        env_direct = {
            "CONNEX_WS_URL": stack.server.ws_url,
            "CONNEX_REST_URL": stack.server.http_url,
        }
        env_connex = {**env_direct, "CONNEX_ENABLED": "1"}
        direct: list[Liquidation] = []
        via_gateway: list[Liquidation] = []
        tasks = [
            asyncio.ensure_future(_collect(env_direct, exchanges, direct)),
            asyncio.ensure_future(_collect(env_connex, exchanges, via_gateway)),
        ]
        try:
            assert await wait_for(lambda: len(direct) >= 3 and len(via_gateway) >= 3, 30), (
                f"direct {len(direct)}, gateway {len(via_gateway)}"
            )
            await asyncio.sleep(1.5)  # let both see the same latest pushes
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
    for liq in via_gateway:
        assert liq.exchange == "binance" and liq.symbol == PERP
        assert liq.side in (PositionSide.LONG, PositionSide.SHORT) and liq.size > 0
    key = lambda lq: (lq.side, lq.price, lq.size, lq.ts_exchange)  # noqa: E731
    both = {key(x) for x in direct} & {key(x) for x in via_gateway}
    # both sources started at about the same time: they share liquidations, and the
    # gateway's copies carry the same exchange data as the direct ones
    assert len(both) >= 2, (sorted(map(key, direct))[:5], sorted(map(key, via_gateway))[:5])
