"""The sans-I/O heart of a feed: frames in, verified events out.

``FeedCore`` joins one exchange protocol (one connection) with the ``BookSync`` of each
symbol it carries. It is shared by the live runtime, by replay and by the benchmark,
so the exact same code path is exercised everywhere. It does no I/O: commands for the
driver (``NeedSnapshot``, ``SendFrame``) come out beside the events, and the driver
hands results back with ``on_snapshot``/``on_snapshot_error``.
"""

from __future__ import annotations

from typing import Any

from connex.book import BookSync
from connex.exchanges.base import Channel, PublicProtocol, SendFrame
from connex.model import (
    BookDelta,
    BookSnapshot,
    FeedError,
    NeedSnapshot,
    ResetReason,
    SnapshotVia,
)

__all__ = ["FeedCore", "FeedCounters"]


class FeedCounters:
    """Per-connection counters (books keep their own integrity counters)."""

    __slots__ = ("errors", "events", "frames", "malformed", "reconnects", "snapshot_failures")

    def __init__(self) -> None:
        self.frames = 0
        self.events = 0
        self.malformed = 0
        self.errors = 0
        self.reconnects = 0
        self.snapshot_failures = 0

    def as_dict(self) -> dict[str, int]:
        return {n: getattr(self, n) for n in self.__slots__}


class FeedCore:
    """Protocol + books for one connection. See the module docstring."""

    def __init__(self, protocol: PublicProtocol, *, depth_cap: int | None = None) -> None:
        self.protocol = protocol
        self.exchange = protocol.exchange
        self.counters = FeedCounters()
        self.books: dict[str, BookSync] = {}
        self.pending_snapshots: set[str] = set()
        for sub in protocol.spec.subscriptions:
            if sub.channel is Channel.BOOK and sub.symbol not in self.books:
                self.books[sub.symbol] = BookSync(
                    protocol.exchange,
                    sub.symbol,
                    protocol.sequence_rule(sub.symbol),
                    checksum=protocol.checksum(sub.symbol),
                    snapshot_via=protocol.snapshot_via(sub.symbol),
                    depth_cap=depth_cap,
                )

    def on_frame(self, frame: str | bytes, ts_local: int) -> list[Any]:
        """Parse a frame and run its book events through the syncs.

        Returns consumer events and driver commands in order; never raises on bad input.
        """
        self.counters.frames += 1
        events = self.protocol.receive(frame, ts_local)
        if len(events) == 1:
            ev = events[0]
            if type(ev) is BookDelta:
                sync = self.books.get(ev.symbol)
                if sync is not None:
                    out: list[Any] = []
                    sync.on_delta(ev, out)
                    if len(out) != 1:
                        self._track(out)
                    self.counters.events += len(out)
                    return out
                return []
        out = []
        for ev in events:
            t = type(ev)
            if t is BookDelta:
                sync = self.books.get(ev.symbol)
                if sync is not None:
                    sync.on_delta(ev, out)
                continue
            if t is BookSnapshot:
                sync = self.books.get(ev.symbol)
                if sync is not None:
                    self.pending_snapshots.discard(ev.symbol)
                    sync.on_snapshot(ev, out)
                continue
            if t is FeedError:
                self.counters.errors += 1
                if ev.kind == "malformed":
                    self.counters.malformed += 1
            out.append(ev)
        self._track(out)
        self.counters.events += len(out)
        return out

    def _track(self, out: list[Any]) -> None:
        """Keep one outstanding snapshot request per symbol; turn resubscribes into frames."""
        i = 0
        while i < len(out):
            ev = out[i]
            if type(ev) is NeedSnapshot:
                if ev.symbol in self.pending_snapshots:
                    del out[i]
                    continue
                self.pending_snapshots.add(ev.symbol)
                if ev.via is SnapshotVia.RESUBSCRIBE:
                    frames = self.protocol.resubscribe_frames(ev.symbol)
                    out[i : i + 1] = [SendFrame(f) for f in frames]
                    i += len(frames)
                    continue
            i += 1

    def start(self) -> list[Any]:
        """Commands to issue right after subscribing: the first REST snapshots."""
        out: list[Any] = []
        for symbol, sync in self.books.items():
            if sync.snapshot_via is SnapshotVia.REST:
                out.append(
                    NeedSnapshot(exchange=self.exchange, symbol=symbol, via=SnapshotVia.REST)
                )
        self._track(out)
        return out

    def on_snapshot(self, symbol: str, body: bytes, ts_local: int) -> list[Any]:
        """Feed a REST snapshot body for ``symbol``; returns events/commands."""
        self.pending_snapshots.discard(symbol)
        sync = self.books.get(symbol)
        out: list[Any] = []
        if sync is None:
            return out
        try:
            snap = self.protocol.parse_snapshot(symbol, body, ts_local)
        except Exception as exc:  # a bad body must not kill the feed
            self.counters.snapshot_failures += 1
            out.append(
                FeedError(
                    exchange=self.exchange, kind="bad_snapshot", message=str(exc), ts_local=ts_local
                )
            )
            out.append(NeedSnapshot(exchange=self.exchange, symbol=symbol, via=SnapshotVia.REST))
            self._track(out)
            return out
        sync.on_snapshot(snap, out)
        self._track(out)
        return out

    def on_snapshot_error(self, symbol: str) -> None:
        """The driver gave up on one snapshot attempt; allow a new request."""
        self.counters.snapshot_failures += 1
        self.pending_snapshots.discard(symbol)

    def reset_all(self, reason: ResetReason, ts_local: int, detail: str = "") -> list[Any]:
        """Invalidate every book (reconnect, stale stream); returns resets and commands."""
        out: list[Any] = []
        self.pending_snapshots.clear()
        for sync in self.books.values():
            sync.reset(reason, ts_local, out, detail)
        # After a reconnect, a resubscribe is implicit (fresh connection): in-stream
        # snapshots arrive by themselves, REST ones must be fetched again.
        kept: list[Any] = []
        for ev in out:
            if type(ev) is NeedSnapshot and ev.via is SnapshotVia.RESUBSCRIBE:
                continue
            kept.append(ev)
        self._track(kept)
        return kept
