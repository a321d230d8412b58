from __future__ import annotations

from connex.book import BookSync, ContiguousRule, PrevLinkRule, SyncState
from connex.model import BookDelta, BookReset, BookSnapshot, NeedSnapshot, ResetReason


def delta(
    first: int, last: int, prev: int = -1, bids=(), asks=(), ts: int = 0, checksum=None
) -> BookDelta:
    return BookDelta(
        exchange="x",
        symbol="A/B",
        bids=tuple(bids),
        asks=tuple(asks),
        sequence=last,
        first_seq=first,
        prev_seq=prev,
        ts_local=ts,
        checksum=checksum,
    )


def snap(
    seq: int, bids=(("10", "1"),), asks=(("11", "1"),), ts: int = 0, checksum=None
) -> BookSnapshot:
    return BookSnapshot(
        exchange="x",
        symbol="A/B",
        bids=tuple(bids),
        asks=tuple(asks),
        sequence=seq,
        ts_local=ts,
        checksum=checksum,
    )


def test_binance_spot_alignment_buffers_and_replays() -> None:
    s = BookSync("x", "A/B", ContiguousRule())
    out: list[object] = []
    for d in (
        delta(95, 99, bids=[("9", "1")]),
        delta(100, 103, bids=[("10", "5")]),
        delta(104, 104, asks=[("12", "2")]),
    ):
        s.on_delta(d, out)
    assert out == [] and s.state is SyncState.AWAIT_SNAPSHOT
    s.on_snapshot(snap(101), out)
    assert s.is_live and s.book.sequence == 104
    assert s.book.bids() == [("10", "5")] and s.book.asks() == [("11", "1"), ("12", "2")]
    assert isinstance(out[-1], BookSnapshot) and out[-1].sequence == 104
    assert s.counters.skipped_before_snapshot == 1


def test_gap_resets_and_asks_for_a_snapshot_never_patches() -> None:
    s = BookSync("x", "A/B", ContiguousRule())
    out: list[object] = []
    s.on_snapshot(snap(10), out)
    s.on_delta(delta(11, 12, bids=[("10", "2")], ts=1_000), out)
    out.clear()
    s.on_delta(delta(14, 15, bids=[("10", "3")], ts=2_000), out)  # 13 missing
    assert [type(e) for e in out] == [BookReset, NeedSnapshot]
    assert out[0].reason is ResetReason.GAP and "12" in out[0].detail
    assert s.state is SyncState.AWAIT_SNAPSHOT and len(s.book) == 0
    assert s.counters.gaps == 1
    out.clear()
    s.on_delta(delta(16, 16, asks=[("11", "9")], ts=3_000), out)
    s.on_snapshot(snap(15, bids=(("10", "3"),), ts=5_000), out)
    assert s.is_live and s.book.asks() == [("11", "9")]
    assert s.counters.resyncs == 1 and s.counters.last_resync_ns == 3_000


def test_duplicate_is_skipped_and_counted() -> None:
    s = BookSync("x", "A/B", ContiguousRule())
    out: list[object] = []
    s.on_snapshot(snap(10), out)
    d = delta(11, 12, bids=[("10", "2")])
    s.on_delta(d, out)
    s.on_delta(d, out)
    assert s.counters.duplicates == 1 and s.book.bids() == [("10", "2")] and s.is_live


def test_snapshot_too_old_asks_again() -> None:
    s = BookSync("x", "A/B", ContiguousRule())
    out: list[object] = []
    s.on_delta(delta(50, 55), out)
    s.on_snapshot(snap(40), out)
    assert not s.is_live and s.counters.stale_snapshots == 1
    assert any(isinstance(e, NeedSnapshot) for e in out)
    out.clear()
    s.on_snapshot(snap(52), out)
    assert s.is_live and s.book.sequence == 55


def test_um_prev_link_rule() -> None:
    s = BookSync("x", "A/B", PrevLinkRule(window_align=True))
    out: list[object] = []
    s.on_snapshot(snap(100), out)
    s.on_delta(delta(90, 99, prev=80), out)  # older than snapshot: skipped
    s.on_delta(delta(95, 105, prev=99, bids=[("10", "7")]), out)  # U <= 100 <= u: applies
    s.on_delta(delta(106, 110, prev=105), out)
    assert s.is_live and s.book.sequence == 110
    out.clear()
    s.on_delta(delta(112, 115, prev=111), out)
    assert isinstance(out[0], BookReset) and out[0].reason is ResetReason.GAP


def test_checksum_mismatch_resets() -> None:
    s = BookSync("x", "A/B", PrevLinkRule(window_align=False), checksum=lambda book: len(book))
    out: list[object] = []
    s.on_snapshot(snap(1, checksum=2), out)
    assert s.is_live and s.counters.checksums_verified == 1
    s.on_delta(delta(-1, 2, prev=1, bids=[("9", "1")], checksum=3), out)
    assert s.counters.checksums_verified == 2
    out.clear()
    s.on_delta(delta(-1, 3, prev=2, bids=[("8", "1")], checksum=99), out)
    assert isinstance(out[0], BookReset) and out[0].reason is ResetReason.CHECKSUM
    assert s.counters.checksum_failures == 1 and not s.is_live


def test_crossed_update_resets() -> None:
    s = BookSync("x", "A/B", ContiguousRule())
    out: list[object] = []
    s.on_snapshot(snap(1), out)
    out.clear()
    s.on_delta(delta(2, 2, bids=[("11.5", "1")]), out)
    assert isinstance(out[0], BookReset) and out[0].reason is ResetReason.CROSSED
    assert s.counters.crossed == 1


def test_reset_for_reconnect() -> None:
    s = BookSync("x", "A/B", ContiguousRule())
    out: list[object] = []
    s.on_snapshot(snap(1), out)
    out.clear()
    s.reset(ResetReason.RECONNECT, 7, out, "reconnected")
    assert out[0] == BookReset(
        exchange="x", symbol="A/B", reason=ResetReason.RECONNECT, detail="reconnected", ts_local=7
    )
    assert not s.is_live
