"""A short-lived response cache with single-flight, for expensive read endpoints.

Many dashboards looking at the same view send the same heatmap request; computing it
once and handing every waiter the same bytes keeps DuckDB and the two cores free.

- ``ttl_s``: a computed body is reused for this long (``0`` disables reuse, but
  concurrent identical requests still share one computation);
- single-flight: while a key is being computed, identical requests await that
  computation instead of starting their own;
- ``max_concurrent``: at most this many computations run at once (others queue in
  FIFO order), so a burst does not start dozens of DuckDB queries on two cores;
- at most ``max_entries`` bodies are kept (oldest evicted first).

A computation that raises is not cached; every waiter gets the exception.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

__all__ = ["ResponseCache"]

T = TypeVar("T")


class ResponseCache:
    """Cache of computed response values keyed by normalized request parameters."""

    def __init__(
        self,
        ttl_s: float = 2.0,
        *,
        max_entries: int = 256,
        max_concurrent: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._done: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Future[object]] = {}
        self._sem = asyncio.Semaphore(max_concurrent)
        self.hits = 0
        self.misses = 0
        self.joined = 0

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """The cached value for ``key``, or ``await compute()`` (once for all waiters).

        The computation runs in its own task, so a caller that goes away (client
        disconnect) does not cancel it for the others.
        """
        entry = self._done.get(key)
        if entry is not None and self._clock() - entry[0] < self.ttl_s:
            self.hits += 1
            return entry[1]  # type: ignore[return-value]
        task = self._inflight.get(key)
        if task is not None:
            self.joined += 1
        else:
            self.misses += 1
            task = asyncio.ensure_future(self._run(key, compute))
            self._inflight[key] = task
        return await asyncio.shield(task)  # type: ignore[return-value]

    async def _run(self, key: Hashable, compute: Callable[[], Awaitable[object]]) -> object:
        try:
            async with self._sem:
                value = await compute()
            if self.ttl_s > 0:
                self._done[key] = (self._clock(), value)
                self._done.move_to_end(key)
                while len(self._done) > self.max_entries:
                    self._done.popitem(last=False)
            return value
        finally:
            del self._inflight[key]
