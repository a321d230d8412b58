"""Gate v4 wire messages, decoded in one step with msgspec (venue field names kept).

Every server frame is an ``Envelope`` whose ``result`` stays raw until the channel has
chosen its typed decoder. Numbers that may arrive either as JSON strings or as JSON
numbers (futures sizes: integers without the ``X-Gate-Size-Decimal`` header, strings with
it) are typed ``Decimal`` or ``int | str`` so both decode exactly; never ``float``.

References (../shared/protocols/gateio.md):
- Spot WebSocket v4: https://www.gate.com/docs/developers/apiv4/ws/en/
- Futures WebSocket v4: https://www.gate.com/docs/developers/futures/ws/en/
- REST order books: https://www.gate.com/docs/developers/apiv4/en/#retrieve-order-book
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

__all__ = [
    "BookTicker",
    "Envelope",
    "ErrorBody",
    "FuturesBookUpdate",
    "FuturesLevel",
    "FuturesSnapshot",
    "FuturesTicker",
    "FuturesTrade",
    "PublicLiquidation",
    "SpotBookUpdate",
    "SpotSnapshot",
    "SpotTrade",
]

Levels = tuple[tuple[str, str], ...]


class ErrorBody(msgspec.Struct, gc=False):
    """``"error": {"code": 2, "message": "unknown currency pair: NOPE_USD"}`` (§9)."""

    code: int | str | None = None
    message: str | None = ""


class Envelope(msgspec.Struct, gc=False):
    """Every server frame: ``{"time","time_ms","channel","event","error","result",...}`` (§1).

    ``event`` is ``subscribe``/``unsubscribe`` (acks), ``update`` (pushes) or ``all``
    (full snapshots); the pong has ``event: ""``.
    """

    channel: str = ""
    event: str = ""
    time: int = 0
    time_ms: int = 0
    error: ErrorBody | None = None
    result: msgspec.Raw = msgspec.Raw(b"null")
    id: int | str | None = None
    payload: list[Any] | None = None


class SpotBookUpdate(msgspec.Struct, gc=False):
    """``spot.order_book_update`` / ``spot.obu`` result (§2).

    ``U``/``u`` first/last update id; ``full`` is present (``true``) only on full pushes;
    ``s`` is the pair (``BTC_USDT``) or, for ``obu``, the stream name ``ob.BTC_USDT.400``.
    """

    t: int
    s: str
    u: int
    U: int = -1
    b: Levels = ()
    a: Levels = ()
    full: bool = False


class FuturesLevel(msgspec.Struct, gc=False):
    """One futures level ``{"p": "26000.1", "s": 120}``; ``s`` is a size in contracts."""

    p: str
    s: int | str


class FuturesBookUpdate(msgspec.Struct, gc=False):
    """``futures.order_book_update`` result: levels are objects ``{p, s}`` (§2)."""

    t: int
    s: str
    u: int
    U: int = -1
    b: tuple[FuturesLevel, ...] = ()
    a: tuple[FuturesLevel, ...] = ()
    full: bool = False


class SpotSnapshot(msgspec.Struct, gc=False):
    """REST ``/api/v4/spot/order_book?with_id=true``: ``current``/``update`` in ms."""

    id: int
    bids: Levels
    asks: Levels
    current: int = 0
    update: int = 0


class FuturesSnapshot(msgspec.Struct, gc=False):
    """REST ``/api/v4/futures/usdt/order_book?with_id=true``: times in (fractional) s."""

    id: int
    bids: tuple[FuturesLevel, ...]
    asks: tuple[FuturesLevel, ...]
    current: float = 0.0
    update: float = 0.0


class SpotTrade(msgspec.Struct, gc=False):
    """``spot.trades`` result (one trade per push): ``side`` is the taker's side (§3)."""

    id: int
    create_time_ms: str
    side: str
    currency_pair: str
    amount: Decimal
    price: Decimal
    create_time: int = 0


class FuturesTrade(msgspec.Struct, gc=False):
    """``futures.trades`` element: ``size`` signed (+ taker buy, - taker sell), contracts."""

    id: int
    contract: str
    size: Decimal
    price: Decimal
    create_time_ms: int = 0
    create_time: int = 0
    is_internal: bool = False


class BookTicker(msgspec.Struct, gc=False):
    """``spot.book_ticker`` / ``futures.book_ticker``: best bid/ask (futures sizes in contracts).

    An empty futures side has price ``""`` and size ``0``.
    """

    s: str
    b: str
    B: Decimal
    a: str
    A: Decimal
    t: int = 0
    u: int = 0


class PublicLiquidation(msgspec.Struct, gc=False):
    """``futures.public_liquidates`` element ``{price, size, time, contract}`` (§4).

    ``size`` is signed contracts; ``time`` was seconds before 2026-08-20 and is ms since;
    the field table names it ``time_ms``.
    """

    contract: str
    price: Decimal
    size: Decimal
    time: int = 0
    time_ms: int = 0


class FuturesTicker(msgspec.Struct, gc=False):
    """``futures.tickers`` element (§5): funding, mark and index price (decimal strings;
    ``total_size``, the open interest in contracts, is a number without the size header)."""

    contract: str
    mark_price: str = ""
    index_price: str = ""
    funding_rate: str = ""
    last: str = ""
    total_size: int | str = ""
    t: int = 0
