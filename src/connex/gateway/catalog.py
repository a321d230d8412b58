"""What the runtime carries, seen from the API: exchanges, markets, channels, symbols.

The gateway only needs a few things from a ``connex.runtime.Runner``: its feeds (each
with ``exchange``, ``spec.market`` and ``spec.subscriptions``), ``book(exchange,
symbol)``, ``health()`` and a way to receive events (``on_event`` or ``events()``).
``RunnerView`` reads those and nothing else, so any object offering them can stand in
for a runner (a replay, a bus consumer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["API_CHANNEL", "RunnerView"]

log = logging.getLogger("connex.gateway")

#: Runtime channel name -> Connex API channel name.
API_CHANNEL: dict[str, str] = {
    "book": "orderbook",
    "trades": "trades",
    "liquidations": "liquidations",
    "funding": "funding",
    "ticker": "ticker",
    "mark_price": "mark_price",
}


class RunnerView:
    """Read-only view of a runner for the API (see module docstring)."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self._n_feeds = -1
        self._catalog: dict[str, dict[str, dict[str, Any]]] = {}
        self._detach: Callable[[], None] | None = None
        self._pump: asyncio.Task[None] | None = None

    # -- catalog ----------------------------------------------------------------------
    def catalog(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{exchange: {symbol: {"market": str, "channels": set[str]}}}`` (API channel names)."""
        feeds = getattr(self.runner, "feeds", [])
        if len(feeds) != self._n_feeds:
            out: dict[str, dict[str, dict[str, Any]]] = {}
            for feed in feeds:
                spec = feed.spec
                for sub in spec.subscriptions:
                    ch = API_CHANNEL.get(str(getattr(sub.channel, "value", sub.channel)))
                    if ch is None:
                        continue
                    entry = out.setdefault(feed.exchange, {}).setdefault(
                        sub.symbol, {"market": spec.market, "channels": set()}
                    )
                    entry["channels"].add(ch)
            self._catalog = out
            self._n_feeds = len(feeds)
        return self._catalog

    def has(self, channel: str, exchange: str, symbol: str) -> bool:
        entry = self.catalog().get(exchange, {}).get(symbol)
        return entry is not None and channel in entry["channels"]

    def exchanges(self) -> list[str]:
        return sorted(self.catalog())

    def book(self, exchange: str, symbol: str) -> Any | None:
        """The runner's ``BookSync`` or ``None`` when that book is not carried."""
        try:
            return self.runner.book(exchange, symbol)
        except KeyError:
            return None

    def health(self) -> list[Any]:
        fn = getattr(self.runner, "health", None)
        return list(fn()) if fn is not None else []

    # -- events -----------------------------------------------------------------------
    def attach(self, publish: Callable[[Any], None]) -> None:
        """Start delivering the runner's events to ``publish`` (sync, inline)."""
        active = [True]

        def forward(ev: Any) -> None:
            if active[0]:
                publish(ev)

        on_event = getattr(self.runner, "on_event", None)
        if on_event is not None:
            on_event(forward)

            def detach() -> None:
                active[0] = False
                off = getattr(self.runner, "off_event", None)
                if off is not None:
                    off(forward)
                else:  # older runners: drop our callback so restarts do not pile up
                    with contextlib.suppress(AttributeError, ValueError):
                        self.runner._callbacks.remove(forward)

            self._detach = detach
            return
        stream = self.runner.events(policy="drop")

        async def pump() -> None:
            async for ev in stream:
                forward(ev)

        self._pump = asyncio.ensure_future(pump())

        def detach_stream() -> None:
            active[0] = False
            with contextlib.suppress(Exception):
                stream.close()

        self._detach = detach_stream

    def detach(self) -> None:
        if self._detach is not None:
            self._detach()
            self._detach = None
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None

    def live_books(self) -> list[tuple[str, str, Any]]:
        """``(exchange, symbol, L2Book)`` of every book that is live right now."""
        out = []
        books = getattr(self.runner, "books", None)
        if books is None:
            return out
        for (ex, sym), sync in books().items():
            if sync.is_live:
                out.append((ex, sym, sync.book))
        return out
