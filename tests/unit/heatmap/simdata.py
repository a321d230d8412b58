"""Model events from the simulator's MarketModel, stepped directly (no sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from connex.model import Liquidation, PositionSide, Side, Trade
from connex.sim.market import FairValue, MarketModel

START_MS = 1_763_000_000_000


def sim_events(
    *,
    steps: int,
    exchange: str = "binance",
    symbol: str = "BTC/USDT:USDT",
    seed: int = 11,
    step_ms: int = 250,
    vol_ticks: float = 40.0,
    swing_ticks: float = 0.0,
    swing_period_steps: int = 0,
    position_rate: float = 0.3,
    mark_source: str = "fair",
    initial_positions: int = 0,
) -> Iterator[Any]:
    """Trade and Liquidation events of a BTC perpetual at 60000.0 (1 price, 3 size decimals)."""
    fair = FairValue(
        600_000,
        seed,
        vol_ticks=vol_ticks,
        swing_ticks=swing_ticks,
        swing_period_steps=swing_period_steps,
    )
    model = MarketModel(
        symbol,
        fair,
        seed=seed + 1,
        price_decimals=1,
        size_decimals=3,
        derivative=True,
        position_rate=position_rate,
        mark_source=mark_source,
        initial_positions=initial_positions,
    )
    for i in range(steps):
        ts_ms = START_MS + i * step_ms
        fair.step()
        st = model.step(ts_ms)
        ts = ts_ms * 1_000_000
        for tr in st.trades:
            yield Trade(
                exchange=exchange,
                symbol=symbol,
                price=Decimal(tr.price).scaleb(-1),
                size=Decimal(tr.size).scaleb(-3),
                side=Side.BUY if tr.taker_buy else Side.SELL,
                trade_id=str(tr.trade_id),
                ts_exchange=ts,
            )
        for lq in st.liquidations:
            yield Liquidation(
                exchange=exchange,
                symbol=symbol,
                side=PositionSide.LONG if lq.long else PositionSide.SHORT,
                price=Decimal(lq.price).scaleb(-1),
                size=Decimal(lq.position.size).scaleb(-3),
                ts_exchange=ts,
                liquidation_id=str(lq.position.position_id),
            )
