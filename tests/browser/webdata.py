"""Known liquidations, books and health for the web API and dashboard tests.

Everything is real: a DuckDB file written through ``connex.store.Store``, a
``connex.aggregate.HealthTracker`` fed with ``FeedStatus`` events, and a
``connex.aggregate.ConsolidatedBook`` fed with ``BookSnapshot`` events.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from fastapi import Depends, FastAPI, Header, HTTPException

from connex.aggregate import ConsolidatedBook, HealthTracker
from connex.model import (
    BookSnapshot,
    FeedState,
    FeedStatus,
    Liquidation,
    PositionSide,
    Side,
    Trade,
)
from connex.store import Store
from connex.web import build_router, create_web_app

EXCHANGES = ["binance", "bybit", "okx"]
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"
T0 = int(datetime(2026, 11, 21, tzinfo=UTC).timestamp()) * 1_000_000_000  # hour-aligned
S = 1_000_000_000

# Hand-checked set (interval 60 s, price bin 100): see tests/integration/test_web_api.py.
KNOWN: list[Liquidation] = [
    Liquidation(
        exchange="binance",
        symbol=BTC,
        side=PositionSide.LONG,
        price=Decimal("60010"),
        size=Decimal("0.5"),
        ts_exchange=T0 + 10 * S,
        liquidation_id="k1",
    ),
    Liquidation(
        exchange="binance",
        symbol=BTC,
        side=PositionSide.LONG,
        price=Decimal("60090.5"),
        size=Decimal("0.25"),
        ts_exchange=T0 + 20 * S,
        liquidation_id="k2",
    ),
    Liquidation(
        exchange="bybit",
        symbol=BTC,
        side=PositionSide.SHORT,
        price=Decimal("60050"),
        size=Decimal("1"),
        ts_exchange=T0 + 30 * S,
        liquidation_id="k3",
    ),
    Liquidation(
        exchange="okx",
        symbol=BTC,
        side=PositionSide.LONG,
        price=Decimal("59990"),
        size=Decimal("2"),
        ts_exchange=T0 + 45 * S,
        liquidation_id="k4",
    ),
    Liquidation(
        exchange="bybit",
        symbol=BTC,
        side=PositionSide.SHORT,
        price=Decimal("60150"),
        size=Decimal("0.1"),
        ts_exchange=T0 + 70 * S,
        liquidation_id="k5",
    ),
    Liquidation(
        exchange="okx",
        symbol=ETH,
        side=PositionSide.SHORT,
        price=Decimal("3000.5"),
        size=Decimal("3"),
        ts_exchange=T0 + 15 * S,
        liquidation_id="k6",
    ),
]


def synthetic(n: int, seed: int = 7, start_ns: int = T0 + 3600 * S) -> list[Liquidation]:
    """``n`` BTC liquidations over three hours on the three exchanges (seeded)."""
    rng = random.Random(seed)
    price = 60_000.0
    out = []
    for i in range(n):
        price += rng.gauss(0, 25)
        ex = rng.choices(EXCHANGES, weights=[5, 3, 2])[0]
        out.append(
            Liquidation(
                exchange=ex,
                symbol=BTC,
                side=PositionSide.LONG if rng.random() < 0.55 else PositionSide.SHORT,
                price=Decimal(f"{price + rng.gauss(0, 40):.1f}"),
                size=Decimal(f"{rng.uniform(0.001, 1.5):.3f}"),
                ts_exchange=start_ns + int(i * 3 * 3600 * S / n) + rng.randrange(S),
                liquidation_id=f"s{i}",
            )
        )
    return out


def synthetic_trades(n: int, seed: int = 11, start_ns: int = T0 + 3600 * S) -> list[Trade]:
    """``n`` BTC trades over the same three hours (input of the estimated layer)."""
    rng = random.Random(seed)
    price = 60_000.0
    out = []
    for i in range(n):
        price += rng.gauss(0, 12)
        out.append(
            Trade(
                exchange=EXCHANGES[i % 3],
                symbol=BTC,
                price=Decimal(f"{price:.1f}"),
                size=Decimal(f"{rng.uniform(0.01, 3):.3f}"),
                side=Side.BUY if rng.random() < 0.5 else Side.SELL,
                trade_id=f"t{i}",
                ts_exchange=start_ns + int(i * 3 * 3600 * S / n),
            )
        )
    return out


def snapshot(
    exchange: str, bid: str, ask: str, size: str = "1", ts: int | None = None
) -> BookSnapshot:
    """A three-level book around ``bid``/``ask`` (tick 1)."""
    b, a = Decimal(bid), Decimal(ask)
    return BookSnapshot(
        exchange=exchange,
        symbol=BTC,
        bids=tuple((str(b - i), size) for i in range(3)),
        asks=tuple((str(a + i), size) for i in range(3)),
        ts_local=ts if ts is not None else time.time_ns(),
    )


@dataclass
class WebEnv:
    """The real parts behind one test app."""

    store: Store
    tracker: HealthTracker
    book: ConsolidatedBook
    liquidations: list[Liquidation] = field(default_factory=list)

    def health(self) -> list:
        return self.tracker.snapshot(time.time_ns(), EXCHANGES)

    def start(self, exchange: str) -> None:
        self.tracker.on_event(FeedStatus(exchange=exchange, feed="ws", state=FeedState.CONNECTED))
        self.tracker.on_messages(exchange, 1, time.time_ns())

    def stop(self, exchange: str) -> None:
        self.tracker.on_event(
            FeedStatus(exchange=exchange, feed="ws", state=FeedState.DISCONNECTED)
        )


def make_env(db_path: Path, liquidations: list[Liquidation], trades: list[Trade] = ()) -> WebEnv:
    """Write events to a fresh DuckDB file; all exchanges up; crossed books."""
    store = Store.open(db_path)
    store.write_events([*liquidations, *trades])
    tracker = HealthTracker(stale_after_s=3600)
    env = WebEnv(
        store=store,
        tracker=tracker,
        book=ConsolidatedBook(
            taker_fees={ex: Decimal("0.0002") for ex in EXCHANGES}, max_age_ns=3600 * S
        ),
        liquidations=liquidations,
    )
    for ex in EXCHANGES:
        env.start(ex)
    # bybit bids above binance's ask: buy on binance, sell on bybit is profitable.
    env.book.on_events(
        [
            snapshot("binance", "60000", "60001"),
            snapshot("bybit", "60100", "60101"),
            snapshot("okx", "60002", "60004"),
        ]
    )
    return env


def make_app(env: WebEnv, health_ttl_s: float = 10.0):
    """The standalone web app over ``env``."""
    return create_web_app(
        lambda: env.store,
        env.health,
        env.book,
        EXCHANGES,
        symbols=[BTC, ETH],
        health_ttl_s=health_ttl_s,
    )


API_KEY = "test-key-123"


def require_key(x_connex_key: str | None = Header(None)) -> None:
    """A stand-in for the gateway's key check (FastAPI dependency)."""
    if x_connex_key != API_KEY:
        raise HTTPException(status_code=401, detail="missing or bad API key")


def make_keyed_app(env: WebEnv) -> FastAPI:
    """The router behind an API-key dependency, included the way the gateway does."""
    app = FastAPI()
    app.include_router(
        build_router(
            env.store,
            env.tracker,
            env.book,
            EXCHANGES,
            symbols=[BTC],
            dependencies=[Depends(require_key)],
        )
    )
    return app
