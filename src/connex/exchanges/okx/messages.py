"""OKX v5 public wire messages, decoded with msgspec (venue field names kept).

Every frame is either an event (``{"event":"subscribe"|"unsubscribe"|"error"|"notice"...}``)
or a push ``{"arg":{"channel":..,"instId":..},["action":..,]"data":[...]}``; the text
frame ``pong`` answers our ``ping``. ``data`` stays raw until the channel is known.

References (../shared/protocols/okx.md):
- https://www.okx.com/docs-v5/en/#overview-websocket-subscribe
- https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
- https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel
- https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-tickers-channel
- https://www.okx.com/docs-v5/en/#public-data-websocket-liquidation-orders-channel
- https://www.okx.com/docs-v5/en/#public-data-websocket-funding-rate-channel
- https://www.okx.com/docs-v5/en/#public-data-websocket-mark-price-channel
"""

from __future__ import annotations

import msgspec

__all__ = [
    "Arg",
    "BookData",
    "BooksPush",
    "Envelope",
    "FundingData",
    "LiquidationData",
    "LiquidationDetail",
    "MarkPriceData",
    "TickerData",
    "TradeData",
]

#: ``[price, size, "0" (deprecated), numOrders]`` — only the first two are used.
OkxLevels = tuple[tuple[str, ...], ...]


class Arg(msgspec.Struct, gc=False):
    """Subscription argument echoed on acks and pushes."""

    channel: str = ""
    instId: str = ""
    instType: str = ""
    instFamily: str = ""


class Envelope(msgspec.Struct, gc=False):
    """Every JSON frame: an event (``event`` set) or a data push (``arg`` + ``data``)."""

    arg: Arg | None = None
    action: str = ""
    data: msgspec.Raw = msgspec.Raw(b"")
    event: str = ""
    code: str | int = ""
    msg: str = ""
    id: str = ""
    connId: str = ""


class BookData(msgspec.Struct, gc=False):
    """``books``/``books5``/``bbo-tbt`` entry; ``seqId``/``prevSeqId`` absent before 2023."""

    asks: OkxLevels
    bids: OkxLevels
    ts: str = "0"
    checksum: int = 0
    prevSeqId: int | None = None
    seqId: int | None = None
    instId: str = ""


class BooksPush(msgspec.Struct, gc=False):
    """A ``books`` data push decoded in one pass (the hot path; same fields as
    ``Envelope`` + ``list[BookData]``, DOCS "Order book channel" push data)."""

    arg: Arg
    data: list[BookData]
    action: str = ""


class TradeData(msgspec.Struct, gc=False):
    """``trades``: ``side`` is the taker side; ``tradeId`` the last id of ``count`` fills."""

    instId: str
    tradeId: str
    px: str
    sz: str
    side: str
    ts: str
    count: str = ""
    source: str = ""
    seqId: int | None = None


class TickerData(msgspec.Struct, gc=False):
    """``tickers``: last trade, best bid/ask (``""`` when a side is empty) and 24 h stats."""

    instId: str
    instType: str = ""
    last: str = ""
    lastSz: str = ""
    askPx: str = ""
    askSz: str = ""
    bidPx: str = ""
    bidSz: str = ""
    ts: str = "0"


class LiquidationDetail(msgspec.Struct, gc=False):
    """One liquidation order: ``side`` is the ORDER side (``sell`` closes a long)."""

    side: str
    sz: str
    bkPx: str
    ts: str
    posSide: str = ""
    bkLoss: str = ""
    ccy: str = ""


class LiquidationData(msgspec.Struct, gc=False):
    """``liquidation-orders`` (subscribed per ``instType``) entry for one instrument."""

    instId: str
    details: tuple[LiquidationDetail, ...]
    instType: str = ""
    instFamily: str = ""
    uly: str = ""


class FundingData(msgspec.Struct, gc=False):
    """``funding-rate``: ``fundingTime`` = next settlement, ``nextFundingTime`` = the one after."""

    instId: str
    fundingRate: str
    fundingTime: str = "0"
    nextFundingTime: str = ""
    instType: str = ""
    method: str = ""
    ts: str = "0"


class MarkPriceData(msgspec.Struct, gc=False):
    """``mark-price``: pushed every 200 ms on change, else every 10 s."""

    instId: str
    markPx: str
    ts: str = "0"
    instType: str = ""
