"""Control events and commands that travel beside market data.

Events tell consumers about the state of a feed or a book (``BookReset``,
``FeedStatus``, ``FeedError``). Commands are requests from a sans-I/O layer to the I/O
driver: ``NeedSnapshot`` asks the runtime to fetch (or resubscribe for) a fresh book,
the way h11 answers ``NEED_DATA`` instead of blocking.
"""

from __future__ import annotations

import enum

import msgspec

__all__ = [
    "BookReset",
    "FeedError",
    "FeedState",
    "FeedStatus",
    "NeedSnapshot",
    "ResetReason",
    "SnapshotVia",
    "Subscribed",
]


class ResetReason(enum.StrEnum):
    """Why a book stopped being trusted."""

    GAP = "gap"
    CHECKSUM = "checksum"
    CROSSED = "crossed"
    STALE = "stale"
    RECONNECT = "reconnect"
    SNAPSHOT_TOO_OLD = "snapshot_too_old"
    BAD_FRAME = "bad_frame"
    RESUBSCRIBE = "resubscribe"
    SLOW_CONSUMER = "slow_consumer"


class SnapshotVia(enum.StrEnum):
    """How a fresh snapshot is obtained: a REST call, or resubscribing to the channel."""

    REST = "rest"
    RESUBSCRIBE = "resubscribe"


class FeedState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RESYNCING = "resyncing"
    STALE = "stale"
    STOPPED = "stopped"


class BookReset(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """The book for ``symbol`` is invalid until the next ``BookSnapshot``."""

    exchange: str
    symbol: str
    reason: ResetReason
    detail: str = ""
    ts_local: int = 0


class NeedSnapshot(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Command: fetch a fresh snapshot for ``symbol`` (REST or resubscribe)."""

    exchange: str
    symbol: str
    via: SnapshotVia = SnapshotVia.REST


class FeedStatus(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Connection state of one feed (one websocket connection of one exchange)."""

    exchange: str
    feed: str
    state: FeedState
    detail: str = ""
    ts_local: int = 0


class FeedError(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """A frame could not be used, or the exchange answered with an error.

    The feed keeps running; ``snippet`` holds the start of the offending frame.
    """

    exchange: str
    kind: str
    message: str
    snippet: str = ""
    ts_local: int = 0


class Subscribed(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """The exchange acknowledged a subscription request."""

    exchange: str
    request_id: str
    channels: tuple[str, ...] = ()
