"""Handing events to consumers without unbounded queues.

Two ways to consume:

- **Callbacks** (``Runner.on_event``) run inline on the feed's task: the cheapest path,
  for consumers that do little work per event.
- **Event streams** (``Runner.events()``) are bounded queues read with ``async for``.
  Backpressure policy **"pause"** (default): when a stream's queue is full the feeds
  stop reading their sockets until the consumer catches up, so nothing is dropped
  and memory stays bounded (the kernel's TCP buffers, then the exchange, absorb the
  lag; a consumer slow for long will see the exchange disconnect, after which books
  resync). Policy **"drop"**: the oldest events are dropped, counted in ``dropped``,
  and a ``BookReset(slow_consumer)`` is put in the stream so that a book consumer
  knows its view broke.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from connex.model import BookDelta, BookReset, BookSnapshot, ResetReason

from .metrics import LatencyWindow

__all__ = ["EventStream"]


class EventStream:
    """A bounded async stream of events. See the module docstring for the policies."""

    def __init__(
        self, maxsize: int = 10_000, policy: str = "pause", types: tuple[type, ...] | None = None
    ) -> None:
        if policy not in ("pause", "drop"):
            raise ValueError(f"backpressure policy must be 'pause' or 'drop', not {policy!r}")
        self.maxsize = maxsize
        self.policy = policy
        self.types = types
        self.dropped = 0
        self.latency = LatencyWindow()
        self._q: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._space = asyncio.Event()
        self._space.set()
        self._closed = False

    def full(self) -> bool:
        return len(self._q) >= self.maxsize

    def put(self, ev: Any) -> None:
        """Add an event (never blocks; ``full()`` tells the feed to pause)."""
        if self.types is not None and not isinstance(ev, self.types):
            return
        q = self._q
        if len(q) >= self.maxsize:
            if self.policy == "drop":
                old = q.popleft()
                self.dropped += 1
                if isinstance(old, (BookDelta, BookSnapshot)):
                    q.append(
                        BookReset(
                            exchange=old.exchange,
                            symbol=old.symbol,
                            reason=ResetReason.SLOW_CONSUMER,
                        )
                    )
            else:
                self._space.clear()
        q.append(ev)
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def wait_space(self) -> None:
        """Wait until the stream is below its limit (used by feeds under "pause")."""
        while len(self._q) >= self.maxsize and not self._closed:
            self._space.clear()
            await self._space.wait()

    def close(self) -> None:
        self._closed = True
        self._space.set()
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Any]:
        q = self._q
        while True:
            while not q:
                if self._closed:
                    return
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
                self._waiter = None
            ev = q.popleft()
            ts = getattr(ev, "ts_local", 0)
            if ts:
                self.latency.add(time.time_ns() - ts)
            if len(q) < self.maxsize and not self._space.is_set():
                self._space.set()
            yield ev

    async def get(self, timeout: float | None = None) -> Any:
        """The next event (raises ``TimeoutError`` after ``timeout`` seconds)."""
        it = self._iter()
        return await asyncio.wait_for(it.__anext__(), timeout)

    def get_nowait(self) -> Any | None:
        if not self._q:
            return None
        ev = self._q.popleft()
        if len(self._q) < self.maxsize:
            self._space.set()
        return ev

    def __len__(self) -> int:
        return len(self._q)
