"""Binance wire messages, decoded in one step with msgspec (venue field names kept).

References:
- Spot streams: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
- USD-M streams: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
"""

from __future__ import annotations

import msgspec

__all__ = [
    "AggTrade",
    "BookTicker",
    "DepthEnvelope",
    "DepthSnapshot",
    "DepthUpdate",
    "Envelope",
    "ForceOrder",
    "ForceOrderBody",
    "MarkPriceUpdate",
    "RawTrade",
]

Levels = tuple[tuple[str, str], ...]


class Envelope(msgspec.Struct, gc=False):
    """Combined-stream wrapper ``{"stream": "btcusdt@depth@100ms", "data": {...}}``."""

    stream: str
    data: msgspec.Raw


class DepthUpdate(msgspec.Struct, gc=False):
    """``depthUpdate``: ``U`` first id, ``u`` last id, ``pu`` previous ``u`` (USD-M only)."""

    E: int
    s: str
    U: int
    u: int
    b: Levels
    a: Levels
    pu: int = -1
    T: int = 0


class DepthEnvelope(msgspec.Struct, gc=False):
    """A combined-stream ``depthUpdate``, decoded in one pass (the hot path)."""

    stream: str
    data: DepthUpdate


class DepthSnapshot(msgspec.Struct, gc=False):
    """REST ``/api/v3/depth`` and ``/fapi/v1/depth`` reply."""

    lastUpdateId: int
    bids: Levels
    asks: Levels
    E: int = 0
    T: int = 0


class AggTrade(msgspec.Struct, gc=False):
    """``aggTrade``: ``a`` aggregate id, ``m`` buyer is maker (taker sold)."""

    E: int
    s: str
    a: int
    p: str
    q: str
    T: int
    m: bool


class RawTrade(msgspec.Struct, gc=False):
    """``trade``: ``t`` trade id."""

    E: int
    s: str
    t: int
    p: str
    q: str
    T: int
    m: bool


class BookTicker(msgspec.Struct, gc=False):
    """``bookTicker`` (spot has no ``e``/``E``; USD-M adds them)."""

    s: str
    b: str
    B: str
    a: str
    A: str
    u: int = 0
    E: int = 0
    T: int = 0


class ForceOrderBody(msgspec.Struct, gc=False):
    s: str
    S: str
    q: str
    p: str
    ap: str
    X: str
    l: str  # noqa: E741 - venue field name
    z: str
    T: int


class ForceOrder(msgspec.Struct, gc=False):
    """``forceOrder``: one liquidation order, at most one per symbol per second."""

    E: int
    o: ForceOrderBody


class MarkPriceUpdate(msgspec.Struct, gc=False):
    """``markPriceUpdate``: ``p`` mark, ``i`` index, ``r`` funding rate, ``T`` next funding."""

    E: int
    s: str
    p: str
    r: str
    T: int
    i: str = ""
    P: str = ""


class ControlReply(msgspec.Struct, gc=False):
    """Reply to SUBSCRIBE & co: ``{"result":null,"id":1}`` or ``{"error":{...},"id":1}``."""

    id: int | str | None = None
    result: msgspec.Raw | None = None
    error: dict[str, object] | None = None
    code: int | None = None
    msg: str | None = None
