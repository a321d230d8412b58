"""Book synchronisation: snapshot/delta alignment and integrity checks.

Theory of operation
-------------------
A ``BookSync`` owns one ``L2Book`` and walks a small state machine::

    AWAIT_SNAPSHOT --snapshot (+ aligned buffered deltas)--> LIVE
    LIVE --gap | checksum mismatch | crossed | reset()--> AWAIT_SNAPSHOT

While waiting, deltas are buffered (bounded). When a snapshot arrives, buffered deltas
are replayed through the exchange's ``SequenceRule.align`` until one applies; after
that every delta goes through ``SequenceRule.next``. A verdict of ``GAP`` never
patches the book: the sync emits ``BookReset`` for consumers and ``NeedSnapshot`` for
the driver, drops the book and starts buffering again. All transitions live in
``TRANSITIONS`` below; nothing else changes ``state``.

The sync is sans-I/O: it never reads a clock (times come from the events'
``ts_local``) and never fetches anything (it *asks* with ``NeedSnapshot``). Exchange
specific rules (which fields link updates, how the checksum is computed) are passed
in, so this module knows no exchange.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from typing import Protocol

from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    NeedSnapshot,
    ResetReason,
    SnapshotVia,
)

from .book import L2Book

__all__ = [
    "TRANSITIONS",
    "BookSync",
    "ContiguousRule",
    "MonotonicRule",
    "PrevLinkRule",
    "SequenceRule",
    "SnapshotOnlyRule",
    "SyncCounters",
    "SyncState",
    "Verdict",
]


class SyncState(enum.IntEnum):
    AWAIT_SNAPSHOT = 0
    LIVE = 1


class Verdict(enum.IntEnum):
    APPLY = 0
    SKIP = 1  # old or duplicate: ignore
    GAP = 2  # continuity broken: reset


class _Trigger(enum.Enum):
    SNAPSHOT_ALIGNED = "snapshot_aligned"
    SNAPSHOT_NEEDS_DELTAS = "snapshot_waiting_for_deltas"
    SNAPSHOT_TOO_OLD = "snapshot_too_old"
    INTEGRITY_FAILURE = "integrity_failure"
    RESET = "reset"


TRANSITIONS: dict[tuple[SyncState, _Trigger], SyncState] = {
    (SyncState.AWAIT_SNAPSHOT, _Trigger.SNAPSHOT_ALIGNED): SyncState.LIVE,
    (SyncState.AWAIT_SNAPSHOT, _Trigger.SNAPSHOT_NEEDS_DELTAS): SyncState.LIVE,
    (SyncState.AWAIT_SNAPSHOT, _Trigger.SNAPSHOT_TOO_OLD): SyncState.AWAIT_SNAPSHOT,
    (SyncState.AWAIT_SNAPSHOT, _Trigger.RESET): SyncState.AWAIT_SNAPSHOT,
    (SyncState.LIVE, _Trigger.SNAPSHOT_ALIGNED): SyncState.LIVE,
    (SyncState.LIVE, _Trigger.SNAPSHOT_NEEDS_DELTAS): SyncState.LIVE,
    (SyncState.LIVE, _Trigger.SNAPSHOT_TOO_OLD): SyncState.AWAIT_SNAPSHOT,
    (SyncState.LIVE, _Trigger.INTEGRITY_FAILURE): SyncState.AWAIT_SNAPSHOT,
    (SyncState.LIVE, _Trigger.RESET): SyncState.AWAIT_SNAPSHOT,
}


class SequenceRule(Protocol):
    """How an exchange links book updates. Implementations are tiny and stateless."""

    def align(self, snapshot_seq: int, delta: BookDelta) -> Verdict:
        """Verdict for a delta that would be the first one applied on top of a snapshot."""

    def next(self, last_seq: int, delta: BookDelta) -> Verdict:
        """Verdict for a delta following an applied update whose last id is ``last_seq``."""


class ContiguousRule:
    """Ids are contiguous: each update covers ``[first_seq, sequence]`` and the next
    starts at ``sequence + 1`` (Binance spot ``U``/``u``, Gate.io, MEXC versions).

    On top of a snapshot with id ``S``: deltas ending at or before ``S`` are stale; the
    first applied one must satisfy ``first_seq <= S + 1 <= sequence``.
    """

    __slots__ = ()

    def align(self, snapshot_seq: int, delta: BookDelta) -> Verdict:
        if delta.sequence <= snapshot_seq:
            return Verdict.SKIP
        return Verdict.APPLY if delta.first_seq <= snapshot_seq + 1 else Verdict.GAP

    def next(self, last_seq: int, delta: BookDelta) -> Verdict:
        if delta.first_seq == last_seq + 1:
            return Verdict.APPLY
        if delta.sequence <= last_seq:
            return Verdict.SKIP
        return Verdict.APPLY if delta.first_seq <= last_seq + 1 else Verdict.GAP


class PrevLinkRule:
    """Each update names the last id of its predecessor in ``prev_seq`` (Binance USD-M
    ``pu``, OKX ``prevSeqId``).

    ``window_align=True`` (Binance USD-M): the first delta on a REST snapshot ``S`` must
    satisfy ``first_seq <= S <= sequence``; with ``False`` (OKX, snapshot pushed in the
    stream) it must link to the snapshot: ``prev_seq == S``.
    """

    __slots__ = ("window_align",)

    def __init__(self, window_align: bool) -> None:
        self.window_align = window_align

    def align(self, snapshot_seq: int, delta: BookDelta) -> Verdict:
        if self.window_align:
            if delta.sequence < snapshot_seq:
                return Verdict.SKIP
            return Verdict.APPLY if delta.first_seq <= snapshot_seq else Verdict.GAP
        return self.next(snapshot_seq, delta)

    def next(self, last_seq: int, delta: BookDelta) -> Verdict:
        if delta.prev_seq == last_seq:
            return Verdict.APPLY
        if delta.sequence <= last_seq:
            return Verdict.SKIP
        return Verdict.GAP


class SnapshotOnlyRule:
    """No deltas are expected; snapshots replace the book (Hyperliquid ``l2Book``).
    A delta is treated as a gap so that a misrouted update can never patch a book.

    ``ordered=True``: snapshots carry an increasing ``sequence`` (Hyperliquid ``time``);
    while the book is live, a snapshot whose ``sequence`` is not newer than the book's is
    ignored (counted in ``duplicates``) instead of replacing a newer book.
    """

    __slots__ = ("ordered_snapshots",)

    def __init__(self, ordered: bool = False) -> None:
        self.ordered_snapshots = ordered

    def align(self, snapshot_seq: int, delta: BookDelta) -> Verdict:
        return Verdict.GAP

    def next(self, last_seq: int, delta: BookDelta) -> Verdict:
        return Verdict.GAP


class MonotonicRule:
    """Update ids only grow, but need not be contiguous (lenient Bybit mode).

    An update whose ``sequence`` is at or below the book's is stale (``SKIP``); any
    larger id applies. Missing updates cannot be detected with this rule: use it only
    where an exchange does not promise contiguous ids (checksums or crossed-book checks
    are then the only protection).
    """

    __slots__ = ()

    def align(self, snapshot_seq: int, delta: BookDelta) -> Verdict:
        return self.next(snapshot_seq, delta)

    def next(self, last_seq: int, delta: BookDelta) -> Verdict:
        return Verdict.APPLY if delta.sequence > last_seq else Verdict.SKIP


class SyncCounters:
    """Integrity counters of one book."""

    __slots__ = (
        "buffer_overflows",
        "checksum_failures",
        "checksums_verified",
        "crossed",
        "deltas_applied",
        "duplicates",
        "gaps",
        "last_resync_ns",
        "max_resync_ns",
        "resyncs",
        "skipped_before_snapshot",
        "snapshots",
        "stale_snapshots",
        "total_resync_ns",
    )

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


ChecksumFn = Callable[[L2Book], int]


class BookSync:
    """Keeps one verified book for (exchange, symbol).

    Feed it with ``on_delta`` / ``on_snapshot`` (and ``reset`` for out-of-band causes
    such as a reconnect); each call appends the events consumers should see, and
    ``NeedSnapshot`` commands for the driver, to ``out``.
    """

    __slots__ = (
        "_aligned",
        "_buffer",
        "_next",
        "_reset_at",
        "book",
        "buffer_limit",
        "check_crossed",
        "checksum",
        "counters",
        "exchange",
        "rule",
        "snapshot_via",
        "state",
        "symbol",
    )

    def __init__(
        self,
        exchange: str,
        symbol: str,
        rule: SequenceRule,
        *,
        checksum: ChecksumFn | None = None,
        snapshot_via: SnapshotVia = SnapshotVia.REST,
        depth_cap: int | None = None,
        buffer_limit: int = 10_000,
        check_crossed: bool = True,
    ) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.rule = rule
        self._next = rule.next  # the hot path calls it once per update
        self.checksum = checksum
        self.snapshot_via = snapshot_via
        self.book = L2Book(depth_cap)
        self.state = SyncState.AWAIT_SNAPSHOT
        self.counters = SyncCounters()
        self.buffer_limit = buffer_limit
        self.check_crossed = check_crossed
        self._buffer: deque[BookDelta] = deque()
        self._aligned = False
        self._reset_at = -1  # ts_local of the last reset, -1 when none pending

    @property
    def is_live(self) -> bool:
        """True when the book is verified and may be served."""
        return self.state is SyncState.LIVE

    def _go(self, trigger: _Trigger) -> None:
        self.state = TRANSITIONS[(self.state, trigger)]

    # -- inputs -------------------------------------------------------------------
    def on_delta(self, delta: BookDelta, out: list[object]) -> None:
        """Handle one update; on success ``delta`` itself is appended to ``out``."""
        if self._aligned and self.state is SyncState.LIVE:
            # hot path: a live book and the next update in sequence
            book = self.book
            if self._next(book.sequence, delta) is Verdict.APPLY:
                book.apply(delta.bids, delta.asks)
                book.sequence = delta.sequence
                book.ts_exchange = delta.ts_exchange
                book.ts_local = delta.ts_local
                self.counters.deltas_applied += 1
                if (
                    self.check_crossed and book._bk and book._ak and book._bk[-1] >= -book._ak[-1]
                ) or (delta.checksum and self.checksum is not None):
                    self._verify(delta, out)
                else:
                    out.append(delta)
                return
        if self.state is not SyncState.LIVE:
            buf = self._buffer
            if len(buf) >= self.buffer_limit:
                buf.popleft()
                self.counters.buffer_overflows += 1
            buf.append(delta)
            return
        book = self.book
        verdict = (
            self.rule.next(book.sequence, delta)
            if self._aligned
            else self.rule.align(book.sequence, delta)
        )
        if verdict is Verdict.APPLY:
            self._apply(delta, out)
        elif verdict is Verdict.SKIP:
            if self._aligned:
                self.counters.duplicates += 1
            else:
                self.counters.skipped_before_snapshot += 1
        else:
            self.counters.gaps += 1
            self._fail(
                ResetReason.GAP if self._aligned else ResetReason.SNAPSHOT_TOO_OLD,
                f"book at {book.sequence}, update {delta.first_seq}..{delta.sequence}"
                f" (prev {delta.prev_seq})",
                delta.ts_local,
                out,
            )
            self._buffer.append(delta)

    def _apply(self, delta: BookDelta, out: list[object]) -> None:
        book = self.book
        book.apply(delta.bids, delta.asks)
        book.sequence = delta.sequence
        book.ts_exchange = delta.ts_exchange
        book.ts_local = delta.ts_local
        self._aligned = True
        self.counters.deltas_applied += 1
        self._verify(delta, out)

    def _verify(self, delta: BookDelta, out: list[object]) -> None:
        """Crossed-book and checksum checks after an update was applied."""
        book = self.book
        if self.check_crossed and book.is_crossed():
            self.counters.crossed += 1
            self._fail(ResetReason.CROSSED, "best bid >= best ask", delta.ts_local, out)
            return
        cs = delta.checksum
        if cs and self.checksum is not None:
            got = self.checksum(book)
            if got != cs:
                self.counters.checksum_failures += 1
                self._fail(
                    ResetReason.CHECKSUM,
                    f"checksum {got} != {cs} at {delta.sequence}",
                    delta.ts_local,
                    out,
                )
                return
            self.counters.checksums_verified += 1
        out.append(delta)

    def on_snapshot(self, snap: BookSnapshot, out: list[object]) -> None:
        """Load a snapshot, replay what was buffered, and go live if it aligns."""
        if (
            self.state is SyncState.LIVE
            and getattr(self.rule, "ordered_snapshots", False)
            and snap.sequence <= self.book.sequence
        ):
            self.counters.duplicates += 1  # out-of-order or repeated full snapshot
            return
        self.counters.snapshots += 1
        book = self.book
        book.load(snap.bids, snap.asks)
        book.sequence = snap.sequence
        book.ts_exchange = snap.ts_exchange
        book.ts_local = snap.ts_local
        self._aligned = False
        if snap.checksum and self.checksum is not None:
            got = self.checksum(book)
            if got != snap.checksum:
                self.counters.checksum_failures += 1
                self._go(_Trigger.RESET)
                self._emit_reset(ResetReason.CHECKSUM, "snapshot checksum", snap.ts_local, out)
                return
            self.counters.checksums_verified += 1
        if self.check_crossed and book.is_crossed():
            self.counters.crossed += 1
            self._go(_Trigger.RESET)
            self._emit_reset(ResetReason.CROSSED, "crossed snapshot", snap.ts_local, out)
            return
        buffered = self._buffer
        self._buffer = deque()
        if self.snapshot_via is SnapshotVia.RESUBSCRIBE:
            # An in-stream snapshot already contains every update received before it on
            # this stream: buffered deltas are older, whatever their ids say (Bybit
            # ``u == 1`` after a restart, OKX seqId resets), so they are dropped.
            buffered.clear()
        self._go(_Trigger.SNAPSHOT_NEEDS_DELTAS)
        replay: list[object] = []
        for delta in buffered:
            if self.state is not SyncState.LIVE:
                self._buffer.append(delta)
                continue
            self.on_delta(delta, replay)
        if self.state is not SyncState.LIVE:
            # The snapshot predates (or skips past) what we buffered: ask again.
            self.counters.stale_snapshots += 1
            out.extend(e for e in replay if not isinstance(e, BookDelta))
            return
        if self._reset_at >= 0:
            took = max(0, snap.ts_local - self._reset_at)
            c = self.counters
            c.resyncs += 1
            c.last_resync_ns = took
            c.total_resync_ns += took
            c.max_resync_ns = max(c.max_resync_ns, took)
            self._reset_at = -1
        out.append(book.snapshot(self.exchange, self.symbol))

    def reset(
        self, reason: ResetReason, ts_local: int, out: list[object], detail: str = ""
    ) -> None:
        """Invalidate the book for an out-of-band reason (reconnect, stale stream...)."""
        self._go(_Trigger.RESET)
        self._buffer.clear()
        self._emit_reset(reason, detail, ts_local, out)

    # -- internals ----------------------------------------------------------------
    def _fail(self, reason: ResetReason, detail: str, ts_local: int, out: list[object]) -> None:
        self._go(
            _Trigger.SNAPSHOT_TOO_OLD
            if reason is ResetReason.SNAPSHOT_TOO_OLD
            else _Trigger.INTEGRITY_FAILURE
        )
        self._buffer.clear()
        self._emit_reset(reason, detail, ts_local, out)

    def _emit_reset(
        self, reason: ResetReason, detail: str, ts_local: int, out: list[object]
    ) -> None:
        self.book.clear()
        self._aligned = False
        if self._reset_at < 0:
            self._reset_at = ts_local
        out.append(
            BookReset(
                exchange=self.exchange,
                symbol=self.symbol,
                reason=reason,
                detail=detail,
                ts_local=ts_local,
            )
        )
        out.append(NeedSnapshot(exchange=self.exchange, symbol=self.symbol, via=self.snapshot_via))
