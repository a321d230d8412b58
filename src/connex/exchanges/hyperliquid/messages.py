"""Hyperliquid websocket messages, decoded in one step with msgspec (venue field names).

References:
- Subscriptions: https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions
- Notation ("side is aggressing side for trades"): https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/notation
- Heartbeats: https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/timeouts-and-heartbeats
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = [
    "ActiveAssetCtx",
    "BookPush",
    "Envelope",
    "FillLiquidation",
    "PerpAssetCtx",
    "SubscriptionResponse",
    "UserFills",
    "WsBbo",
    "WsBook",
    "WsFill",
    "WsLevel",
    "WsTrade",
]


class Envelope(msgspec.Struct, gc=False):
    """Every JSON frame: ``{"channel": "l2Book", "data": ...}`` (``pong`` has no data)."""

    channel: str
    data: msgspec.Raw = msgspec.Raw(b"null")


class WsLevel(msgspec.Struct, gc=False):
    """One level: price, size (strings) and order count."""

    px: str
    sz: str
    n: int = 0


class WsBook(msgspec.Struct, gc=False):
    """``l2Book``: ``levels = [bids best-first, asks best-first]``, ``time`` in ms."""

    coin: str
    time: int
    levels: tuple[list[WsLevel], list[WsLevel]]


class BookPush(msgspec.Struct, gc=False):
    """An ``l2Book`` push decoded in one pass (the hot path; ``Envelope`` + ``WsBook``)."""

    channel: str
    data: WsBook


class WsTrade(msgspec.Struct, gc=False):
    """``trades`` item; ``side`` is the aggressor (``B`` bought, ``A`` sold)."""

    coin: str
    side: str
    px: str
    sz: str
    time: int
    tid: int
    hash: str = ""
    users: list[str] = []


class WsBbo(msgspec.Struct, gc=False):
    """``bbo``: ``[bid, ask]``, either may be null."""

    coin: str
    time: int
    bbo: tuple[WsLevel | None, WsLevel | None]


class PerpAssetCtx(msgspec.Struct, gc=False):
    """Perp asset context. Documented as numbers, sent as decimal strings; ``Decimal``
    accepts both exactly."""

    funding: Decimal
    openInterest: Decimal
    markPx: Decimal
    oraclePx: Decimal | None = None
    midPx: Decimal | None = None
    premium: Decimal | None = None
    dayNtlVlm: Decimal | None = None
    prevDayPx: Decimal | None = None


class ActiveAssetCtx(msgspec.Struct, gc=False):
    """``activeAssetCtx``: ``{coin, ctx}``."""

    coin: str
    ctx: PerpAssetCtx


class FillLiquidation(msgspec.Struct, gc=False):
    """``liquidation`` on a fill; ``liquidatedUser`` names the liquidated account."""

    markPx: str = ""
    method: str = ""
    liquidatedUser: str | None = None


class WsFill(msgspec.Struct, gc=False):
    """A user's fill (``userFills``); ``side`` is that user's side, ``dir`` e.g.
    ``Close Long``; ``liquidation`` is present when the fill was part of one."""

    coin: str
    px: str
    sz: str
    side: str
    time: int
    tid: int = 0
    hash: str = ""
    dir: str = ""
    oid: int = 0
    crossed: bool = False
    liquidation: FillLiquidation | None = None


class UserFills(msgspec.Struct, gc=False):
    """``userFills``: the first message has ``isSnapshot: true`` (recent history)."""

    user: str
    fills: list[WsFill]
    isSnapshot: bool = False


class SubscriptionResponse(msgspec.Struct, gc=False):
    """``subscriptionResponse`` data: the request echoed back."""

    method: str
    subscription: dict[str, object]
