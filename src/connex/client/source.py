"""One setting to switch a trading system between direct connectors and the gateway.

::

    source = open_source(config)          # config.source: "direct" | "connex"
    async with source:
        async for ev in source.events():  # BookSnapshot, BookDelta, BookReset, Trade, ...
            book = source.book("binance", "BTC/USDT")   # verified L2Book or None

``direct`` runs a ``connex.runtime.Runner`` in the process (connectors to the
exchanges); ``connex`` reads the same streams from a Connex gateway with
``ConnexWebSocketClient``. Both yield the same model events (market data only:
``BookSnapshot``, ``BookDelta``, ``BookReset``, ``Trade``, ``Liquidation``,
``FundingRate``, ``Ticker``, ``MarkPrice``), and ``book()`` returns a live ``L2Book`` or
``None``. ``CONNEX_ENABLED=1`` in the environment selects ``connex`` whatever the
config says. With ``source="connex"`` and ``depth`` set, books hold the gateway's top
``depth`` levels (rounded up to the gateway's depth buckets).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connex.book import L2Book
from connex.config import ExchangeConfig
from connex.exchanges import protocol_class
from connex.exchanges.base import Channel, Subscription
from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    FundingRate,
    Liquidation,
    MarkPrice,
    Ticker,
    Trade,
)

from .config import ConnexConfig
from .ws import ConnexWebSocketClient

__all__ = [
    "MARKET_EVENTS",
    "ConnexSource",
    "DirectSource",
    "EventSource",
    "SourceConfig",
    "open_source",
]

#: The event types both sources yield.
MARKET_EVENTS: tuple[type, ...] = (
    BookSnapshot,
    BookDelta,
    BookReset,
    Trade,
    Liquidation,
    FundingRate,
    Ticker,
    MarkPrice,
)

#: Runtime channel -> Connex API channel.
API_CHANNEL: dict[Channel, str] = {
    Channel.BOOK: "orderbook",
    Channel.TRADES: "trades",
    Channel.LIQUIDATIONS: "liquidations",
    Channel.FUNDING: "funding",
    Channel.TICKER: "ticker",
    Channel.MARK_PRICE: "mark_price",
}


class SourceConfig(BaseModel):
    """What to read and from where. ``exchanges`` uses the same shape as ``connex.config``."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["direct", "connex"] = "direct"
    exchanges: dict[str, ExchangeConfig] = {}
    connex: ConnexConfig = Field(default_factory=ConnexConfig)
    depth: int | None = Field(default=None, ge=1)

    @classmethod
    def from_env(
        cls, exchanges: Mapping[str, Any], env: Mapping[str, str] | None = None, **kw: Any
    ) -> SourceConfig:
        """``exchanges`` from code; source and gateway settings from ``CONNEX_*`` variables."""
        connex = ConnexConfig.from_env(env)
        return cls(source=connex.source, exchanges=dict(exchanges), connex=connex, **kw)


class EventSource(ABC):
    """The common face of both sources."""

    kind: str

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    def events(self) -> AsyncIterator[Any]:
        """Market-data model events in arrival order."""

    @abstractmethod
    def book(self, exchange: str, symbol: str) -> L2Book | None:
        """The live verified book, or ``None`` while it is (re)syncing."""

    async def __aenter__(self) -> EventSource:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _subscriptions(exchanges: Mapping[str, Any]) -> list[tuple[str, Channel, str]]:
    """(exchange, channel, symbol) for every offered combination (as ``Runner.add`` does)."""
    out = []
    for name, ec in exchanges.items():
        cls = protocol_class(name)
        for ch in ec.channels:
            ch = Channel(ch)
            for sym in ec.symbols:
                if ch in cls.channels.get(Subscription(ch, sym).market_type, frozenset()):
                    out.append((name, ch, sym))
    return out


class DirectSource(EventSource):
    """Direct connectors: a ``Runner`` in this process."""

    kind = "direct"

    def __init__(self, config: SourceConfig, runner: Any = None) -> None:
        from connex.runtime import Runner

        self.config = config
        self.runner = runner if runner is not None else Runner()
        if runner is None:
            for name, ec in config.exchanges.items():
                endpoints = {m: {"ws": e.ws, "rest": e.rest} for m, e in ec.endpoints.items()}
                self.runner.add(name, ec.symbols, ec.channels, endpoints=endpoints or None)
        self._stream = self.runner.events(types=MARKET_EVENTS)
        self._own = runner is None

    async def start(self) -> None:
        if self._own:
            await self.runner.start()

    async def stop(self) -> None:
        if self._own:
            await self.runner.stop()
        else:
            self._stream.close()

    async def events(self) -> AsyncIterator[Any]:
        async for ev in self._stream:
            yield ev

    def book(self, exchange: str, symbol: str) -> L2Book | None:
        try:
            sync = self.runner.book(exchange, symbol)
        except KeyError:
            return None
        return sync.book if sync.is_live else None


class ConnexSource(EventSource):
    """The Connex gateway, through ``ConnexWebSocketClient``."""

    kind = "connex"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.client = ConnexWebSocketClient(config.connex)
        for ex, ch, sym in _subscriptions(config.exchanges):
            self.client.state.add(
                API_CHANNEL[ch], ex, sym, config.depth if ch is Channel.BOOK else None
            )

    async def start(self) -> None:
        await self.client.start()

    async def stop(self) -> None:
        await self.client.stop()

    async def events(self) -> AsyncIterator[Any]:
        async for ev in self.client.events():
            if isinstance(ev, MARKET_EVENTS):
                yield ev

    def book(self, exchange: str, symbol: str) -> L2Book | None:
        return self.client.book(exchange, symbol)


def _env_enabled(env: Mapping[str, str]) -> bool:
    return env.get("CONNEX_ENABLED", "").strip().lower() in ("1", "true", "yes", "on")


def open_source(
    config: Any, *, runner: Any = None, env: Mapping[str, str] | None = None
) -> EventSource:
    """The event source ``config`` selects (``SourceConfig``, or ``connex.config.ConnexSettings``).

    ``CONNEX_ENABLED=1`` forces the gateway. ``runner`` lets the direct source reuse a
    runner the caller already configured (it is then neither started nor stopped here).
    """
    env = os.environ if env is None else env
    if not isinstance(config, SourceConfig):
        exchanges = getattr(config, "exchanges", {})
        config = SourceConfig(
            source=getattr(config, "source", "direct"),
            exchanges={
                k: (v if isinstance(v, ExchangeConfig) else ExchangeConfig.model_validate(v))
                for k, v in exchanges.items()
            },
            connex=getattr(config, "connex", None) or ConnexConfig.from_env(env),
        )
    if _env_enabled(env) or config.source == "connex":
        return ConnexSource(config)
    return DirectSource(config, runner)
