"""What every sans-I/O exchange protocol offers the runtime.

A *public protocol* object speaks one websocket connection of one exchange: it plans
which URL carries which subscriptions, builds the frames to send, turns each received
frame into normalized events, and describes the REST calls the runtime must make for
book snapshots. It never awaits, never opens a socket and never reads the clock: the
receive time is passed in.

Outgoing traffic is returned as data (``SendFrame`` commands, ``HttpRequest``
descriptions), the way ``h11`` returns bytes to send.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import msgspec

from connex.book import L2Book, SequenceRule
from connex.model import BookSnapshot, MarketType, SnapshotVia, parse_symbol
from connex.model.errors import UnsupportedChannelError

__all__ = [
    "Channel",
    "ConnectionSpec",
    "HttpRequest",
    "MarketEndpoints",
    "PublicProtocol",
    "SendFrame",
    "Subscription",
    "chunk_by_key",
]


class Channel(enum.StrEnum):
    """Normalized public channel names."""

    BOOK = "book"
    TRADES = "trades"
    TICKER = "ticker"
    LIQUIDATIONS = "liquidations"
    FUNDING = "funding"
    MARK_PRICE = "mark_price"


class Subscription(msgspec.Struct, frozen=True):
    """One normalized subscription: a channel for a unified symbol."""

    channel: Channel
    symbol: str

    @property
    def market_type(self) -> MarketType:
        return parse_symbol(self.symbol).market_type


class MarketEndpoints(msgspec.Struct, frozen=True):
    """Base URLs of one market of one exchange in one environment (prod, testnet, sim)."""

    ws: str
    rest: str


class ConnectionSpec(msgspec.Struct, frozen=True):
    """One websocket connection the runtime should open: URL and what it carries."""

    exchange: str
    name: str
    url: str
    market: str
    subscriptions: tuple[Subscription, ...]


class HttpRequest(msgspec.Struct, frozen=True):
    """A REST call described as data; ``weight`` feeds the rate limiter."""

    method: str
    url: str
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    weight: int = 1
    key: str = ""  # rate-limit bucket (usually the host)


class SendFrame(msgspec.Struct, frozen=True):
    """Command: send this text frame on the connection (a pong, a re-subscribe...)."""

    text: str


def chunk_by_key(
    subscriptions: Sequence[Subscription], key: Callable[[Subscription], str], limit: int
) -> list[list[Subscription]]:
    """Split ``subscriptions`` (in order) into groups that each carry at most ``limit``
    distinct keys (a venue stream or topic; several subscriptions may share one key)."""
    chunks: list[list[Subscription]] = [[]]
    keys: set[str] = set()
    for sub in subscriptions:
        k = key(sub)
        if k not in keys and len(keys) >= limit:
            chunks.append([])
            keys = set()
        keys.add(k)
        chunks[-1].append(sub)
    return chunks


class PublicProtocol(ABC):
    """Base class of each exchange's public session. See module docstring."""

    exchange: ClassVar[str]
    #: Normalized channels this exchange offers, by market type.
    channels: ClassVar[dict[MarketType, frozenset[Channel]]]
    #: Seconds between client keepalive frames (``ping_frame``); ``None`` = no client ping.
    ping_interval: ClassVar[float | None] = None
    #: Seconds of silence after which the stream is declared stale and reconnected.
    stale_after: ClassVar[float] = 30.0
    #: Seconds before the exchange's own connection lifetime cut, when we reconnect first.
    max_lifetime: ClassVar[float | None] = None
    #: ``receive`` accepts text frames as UTF-8 ``bytes`` (saves a decode per frame).
    text_as_bytes: ClassVar[bool] = False

    def __init__(self, spec: ConnectionSpec, endpoints: MarketEndpoints) -> None:
        self.spec = spec
        self.endpoints = endpoints
        #: Wall-clock time (ns) the driver last told us; protocols that must stamp
        #: outgoing requests (Gate.io's ``time``) use it instead of reading a clock.
        self.clock_ns = 0

    # -- planning -----------------------------------------------------------------
    @classmethod
    @abstractmethod
    def plan(
        cls, subscriptions: Sequence[Subscription], endpoints: dict[str, MarketEndpoints]
    ) -> list[ConnectionSpec]:
        """Group subscriptions into websocket connections (one per URL)."""

    @classmethod
    def connection_spec(
        cls, market: str, part: int, url: str, subs: Sequence[Subscription], tag: str = ""
    ) -> ConnectionSpec:
        """The ``ConnectionSpec`` of connection ``part`` of ``market`` (named
        ``<exchange>-<market>[-<tag>]-<part>``)."""
        name = f"{cls.exchange}-{market}{'-' + tag if tag else ''}-{part}"
        return ConnectionSpec(
            exchange=cls.exchange, name=name, url=url, market=market, subscriptions=tuple(subs)
        )

    @classmethod
    def check_subscription(cls, sub: Subscription) -> None:
        """Raise ``UnsupportedChannelError`` if the channel is not offered for the symbol."""
        mt = sub.market_type
        offered = cls.channels.get(mt, frozenset())
        if sub.channel not in offered:
            raise UnsupportedChannelError(
                f"{cls.exchange} does not offer channel {sub.channel.value!r} for "
                f"{sub.symbol} ({mt.value}); offered: {sorted(c.value for c in offered)}"
            )

    # -- outgoing -----------------------------------------------------------------
    @abstractmethod
    def subscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        """Frames that subscribe to ``subscriptions`` on an open connection."""

    @abstractmethod
    def unsubscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        """Frames that unsubscribe."""

    def ping_frame(self) -> str | None:
        """A client keepalive frame, or ``None`` when the protocol needs none."""
        return None

    # -- incoming -----------------------------------------------------------------
    @abstractmethod
    def receive(self, frame: str | bytes, ts_local: int) -> list[Any]:
        """Parse one frame into events (model events, ``SendFrame`` commands, ``FeedError``).

        Never raises on bad input: a malformed or unknown frame becomes a ``FeedError``.
        """

    # -- books --------------------------------------------------------------------
    @abstractmethod
    def sequence_rule(self, symbol: str) -> SequenceRule:
        """The rule that links this exchange's book updates for ``symbol``."""

    def snapshot_via(self, symbol: str) -> SnapshotVia:
        """Where fresh books come from: REST (default) or a resubscription."""
        return SnapshotVia.REST

    def checksum(self, symbol: str) -> Callable[[L2Book], int] | None:
        """The checksum function for ``symbol``'s book, if the exchange sends checksums."""
        return None

    def snapshot_request(self, symbol: str) -> HttpRequest:
        """The REST request for a book snapshot (only for ``SnapshotVia.REST``)."""
        raise NotImplementedError(f"{self.exchange} books are snapshotted in-stream")

    def parse_snapshot(self, symbol: str, body: bytes, ts_local: int) -> BookSnapshot:
        """Decode a REST snapshot body (raises ``RemoteProtocolError`` on bad bodies)."""
        raise NotImplementedError(f"{self.exchange} books are snapshotted in-stream")

    def resubscribe_frames(self, symbol: str) -> list[str]:
        """Frames that obtain a fresh in-stream snapshot (unsubscribe + subscribe)."""
        subs = [
            s for s in self.spec.subscriptions if s.symbol == symbol and s.channel is Channel.BOOK
        ]
        return self.unsubscribe_frames(subs) + self.subscribe_frames(subs)
