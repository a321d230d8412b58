"""Hyperliquid book integrity rule.

There is no incremental book feed: every ``l2Book`` push is a complete snapshot
(``levels = [bids, asks]``, at most 20 levels a side) with the block ``time`` in ms. No
sequence ids, no checksum, no zero-size levels. The book is replaced on every push;
``BookSnapshot.sequence`` carries ``time``, and ``SnapshotOnlyRule(ordered=True)`` makes
the book sync ignore a push that is not newer than the book (out of order or repeated).
A missing push cannot be detected (nothing links pushes) and needs no repair: the next
one replaces the book. Silence is caught by the runtime's stale timer.
Source: ../shared/protocols/hyperliquid.md §2.
"""

from __future__ import annotations

from connex.book import SequenceRule, SnapshotOnlyRule

__all__ = ["BOOK_LEVELS", "sequence_rule"]

#: Levels per side in an ``l2Book`` push.
BOOK_LEVELS = 20

_RULE = SnapshotOnlyRule(ordered=True)


def sequence_rule() -> SequenceRule:
    return _RULE
