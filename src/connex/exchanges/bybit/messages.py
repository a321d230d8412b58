"""Bybit v5 public wire messages, decoded with msgspec (venue field names kept).

Data frames are ``{"topic":..,"type":"snapshot"|"delta","ts":..,"data":..}``; control
replies ``{"success":..,"ret_msg":..,"conn_id":..,"req_id":..,"op":..}``. ``data`` stays
raw until the topic is known.

References (../shared/protocols/bybit.md):
- https://bybit-exchange.github.io/docs/v5/ws/connect
- https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
- https://bybit-exchange.github.io/docs/v5/websocket/public/trade
- https://bybit-exchange.github.io/docs/v5/websocket/public/all-liquidation
- https://bybit-exchange.github.io/docs/v5/websocket/public/ticker
"""

from __future__ import annotations

import msgspec

__all__ = ["BookData", "Envelope", "LiquidationData", "TickerData", "TradeData"]

Levels = tuple[tuple[str, str], ...]


class Envelope(msgspec.Struct, gc=False):
    """Every JSON frame: a data push (``topic``) or a control reply (``op``/``success``).

    ``request`` only appears in the retired v2 API's acks and marks such frames.
    """

    topic: str = ""
    type: str = ""
    ts: int = 0
    data: msgspec.Raw = msgspec.Raw(b"")
    cts: int = 0
    success: bool | None = None
    ret_msg: str = ""
    op: str = ""
    req_id: str = ""
    conn_id: str = ""
    request: msgspec.Raw = msgspec.Raw(b"")


class BookData(msgspec.Struct, gc=False):
    """``orderbook.{depth}.{symbol}``: ``u`` update id, ``seq`` cross sequence."""

    s: str
    b: Levels
    a: Levels
    u: int
    seq: int = 0


class TradeData(msgspec.Struct, gc=False):
    """``publicTrade``: ``S`` taker side, ``v`` size, ``p`` price, ``i`` trade id."""

    T: int
    s: str
    S: str
    v: str
    p: str
    i: str
    L: str = ""
    BT: bool = False
    seq: int = 0


class LiquidationData(msgspec.Struct, gc=False):
    """``allLiquidation``: ``S`` is the POSITION side (``Buy`` = a long was liquidated)."""

    T: int
    s: str
    S: str
    v: str
    p: str


class TickerData(msgspec.Struct, gc=False, omit_defaults=True):
    """``tickers``: linear sends a snapshot then deltas with only the changed fields."""

    symbol: str
    lastPrice: str | None = None
    markPrice: str | None = None
    indexPrice: str | None = None
    fundingRate: str | None = None
    nextFundingTime: str | None = None
    fundingIntervalHour: str | None = None
    openInterest: str | None = None
    openInterestValue: str | None = None
    bid1Price: str | None = None
    bid1Size: str | None = None
    ask1Price: str | None = None
    ask1Size: str | None = None
