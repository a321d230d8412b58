"""Sans-I/O L2 book engine and sync state machine. Imports ``connex.model`` only."""

from .book import L2Book, is_zero
from .sync import (
    TRANSITIONS,
    BookSync,
    ContiguousRule,
    MonotonicRule,
    PrevLinkRule,
    SequenceRule,
    SnapshotOnlyRule,
    SyncCounters,
    SyncState,
    Verdict,
)

__all__ = [
    "TRANSITIONS",
    "BookSync",
    "ContiguousRule",
    "L2Book",
    "MonotonicRule",
    "PrevLinkRule",
    "SequenceRule",
    "SnapshotOnlyRule",
    "SyncCounters",
    "SyncState",
    "Verdict",
    "is_zero",
]
