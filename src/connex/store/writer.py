"""``StoreWriter``: batched, bounded, asynchronous writing of model events to a ``Store``.

Theory of operation
-------------------
``put(ev)`` turns an event into a row (``rows.row_for``) and appends it to the pending
batch. A background task flushes the batch when it reaches ``flush_rows`` rows or every
``flush_interval_s`` seconds, whichever comes first: the batch is inserted in one
transaction (``Store.insert_rows``, run in a worker thread so the event loop keeps
going) and only after its COMMIT returns does ``stored`` grow by the rows it newly
inserted.

Backpressure policy ``BLOCK``: at most ``max_pending`` rows are held (waiting or being
flushed). When that many are held, ``await put(ev)`` waits until a flush commits and
frees room; ``put_nowait`` raises ``StoreFull`` instead. Nothing is dropped silently.

Durability: a process killed (even SIGKILL) loses at most the rows not yet committed
(the pending batch); every row counted in ``stored`` was committed to the DuckDB WAL
and is there when the file is reopened. A batch whose insert fails is retried on the
next flush; after ``max_retries`` failures it is dropped and counted in ``dropped``.

Sampling: ``Trade`` events are stored only with ``store_trades=True`` (they are many);
``BookSnapshot``/``Ticker`` events become ``top_of_book`` rows at most once per
``book_sample_interval_s`` per (exchange, symbol) (by event time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .db import Store
from .rows import row_for

__all__ = ["StoreFull", "StoreWriter", "WriterStats"]

log = logging.getLogger(__name__)


class StoreFull(Exception):
    """``put_nowait`` found ``max_pending`` rows already waiting."""


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counters of a ``StoreWriter`` (all monotonic except ``pending``)."""

    stored: int
    duplicates: int
    pending: int
    flushes: int
    errors: int
    dropped: int
    skipped: int
    blocked: int


class StoreWriter:
    """Batches events into a ``Store``. Use ``async with StoreWriter(store) as w: await w.put(ev)``.

    Args:
        store: the open, migrated ``Store``.
        max_pending: most rows held in memory (waiting + being flushed).
        flush_rows: flush as soon as this many rows wait.
        flush_interval_s: flush at least this often while rows wait.
        store_trades: also store ``Trade`` events (off by default).
        book_sample_interval_s: top-of-book sampling period per (exchange, symbol).
        max_retries: failed flushes of one batch before it is dropped.
        on_commit: called (in the event loop) with ``stored`` after every commit.
    """

    POLICY = "BLOCK"

    def __init__(
        self,
        store: Store,
        *,
        max_pending: int = 100_000,
        flush_rows: int = 5_000,
        flush_interval_s: float = 1.0,
        store_trades: bool = False,
        book_sample_interval_s: float = 1.0,
        max_retries: int = 3,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        if max_pending < 1 or flush_rows < 1 or flush_interval_s <= 0:
            raise ValueError("max_pending, flush_rows and flush_interval_s must be positive")
        self.store = store
        self.max_pending = max_pending
        self.flush_rows = min(flush_rows, max_pending)
        self.flush_interval_s = flush_interval_s
        self.store_trades = store_trades
        self.book_sample_ns = int(book_sample_interval_s * 1e9)
        self.max_retries = max_retries
        self.on_commit = on_commit
        self.stored = 0
        self.duplicates = 0
        self.flushes = 0
        self.errors = 0
        self.dropped = 0
        self.skipped = 0
        self.blocked = 0
        self._buf: dict[str, list[tuple[Any, ...]]] = {}
        self._n_buf = 0
        self._inflight = 0
        self._retry: tuple[dict[str, list[tuple[Any, ...]]], int, int] | None = None
        self._last_tob: dict[tuple[str, str], int] = {}
        self._kick = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._flush_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        """Start the background flusher."""
        if self._task is None:
            self._closing = False
            self._task = asyncio.create_task(self._run(), name="connex-store-writer")

    async def stop(self) -> None:
        """Flush what is pending and stop the flusher."""
        self._closing = True
        self._kick.set()
        if self._task is not None:
            # let the flusher finish the flush it may be in: cancelling it mid-commit would
            # lose track of a batch that the database thread still commits
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=30)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            except Exception:  # the flusher's own errors were counted and logged
                pass
            self._task = None
        await self.flush()

    async def __aenter__(self) -> StoreWriter:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- input ----------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Rows held in memory: waiting for a flush or being flushed."""
        retry = self._retry[1] if self._retry else 0
        return self._n_buf + self._inflight + retry

    def _accept(self, ev: Any) -> tuple[str, tuple[Any, ...]] | None:
        tr = row_for(ev)
        if tr is None:
            self.skipped += 1
            return None
        table, row = tr
        if table == "trades" and not self.store_trades:
            self.skipped += 1
            return None
        if table == "top_of_book":
            key = (row[0], row[1])
            last = self._last_tob.get(key)
            if last is not None and row[6] - last < self.book_sample_ns:
                self.skipped += 1
                return None
            self._last_tob[key] = row[6]
        elif table == "exchange_health" and row[-1] == 0:
            row = (*row[:-1], time.time_ns())
        return table, row

    def _append(self, table: str, row: tuple[Any, ...]) -> None:
        self._buf.setdefault(table, []).append(row)
        self._n_buf += 1
        if self.pending >= self.max_pending:
            self._room.clear()
        if self._n_buf >= self.flush_rows:
            self._kick.set()

    async def put(self, ev: Any) -> None:
        """Queue one event; waits while ``max_pending`` rows are held (policy BLOCK)."""
        tr = self._accept(ev)
        if tr is None:
            return
        if self.pending >= self.max_pending:
            self.blocked += 1
            self._kick.set()
            while self.pending >= self.max_pending:
                self._room.clear()
                await self._room.wait()
        self._append(*tr)

    def put_nowait(self, ev: Any) -> None:
        """Queue one event or raise ``StoreFull`` when ``max_pending`` rows are held."""
        if self.pending >= self.max_pending:
            self._kick.set()
            raise StoreFull(f"{self.pending} rows pending (max {self.max_pending})")
        tr = self._accept(ev)
        if tr is not None:
            self._append(*tr)

    # -- flushing -------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), timeout=self.flush_interval_s)
            self._kick.clear()
            try:
                await self.flush()
            except Exception:  # counted in flush; keep the flusher alive
                log.exception("store flush failed")
                await asyncio.sleep(min(1.0, self.flush_interval_s))

    async def flush(self) -> int:
        """Insert everything pending now, in one transaction; return rows newly stored."""
        async with self._flush_lock:
            if self._retry is not None:
                rows, n, attempts = self._retry
                self._retry = None
            else:
                if not self._n_buf:
                    return 0
                rows, n, attempts = self._buf, self._n_buf, 0
                self._buf, self._n_buf = {}, 0
            self._inflight = n
            try:
                inserted = await asyncio.to_thread(self.store.insert_rows, rows)
            except Exception:
                self.errors += 1
                self._inflight = 0
                if attempts + 1 >= self.max_retries:
                    self.dropped += n
                    log.error(
                        "dropping a batch of %d rows after %d failed flushes", n, attempts + 1
                    )
                    self._room.set()
                else:
                    self._retry = (rows, n, attempts + 1)
                raise
            new = sum(inserted.values())
            self._inflight = 0
            self.stored += new
            self.duplicates += n - new
            self.flushes += 1
            if self.pending < self.max_pending:
                self._room.set()
            if self.on_commit is not None:
                self.on_commit(self.stored)
            return new

    def stats(self) -> WriterStats:
        """A snapshot of the counters."""
        return WriterStats(
            stored=self.stored,
            duplicates=self.duplicates,
            pending=self.pending,
            flushes=self.flushes,
            errors=self.errors,
            dropped=self.dropped,
            skipped=self.skipped,
            blocked=self.blocked,
        )
