"""Normalized market-data and account events: the contract every consumer speaks.

Every event is an immutable, slotted ``msgspec.Struct``. Prices and sizes are exact:
``Decimal`` on scalar fields, and exact decimal *strings* (exactly as the exchange sent
them) inside book level arrays. Book levels stay strings because a busy book moves
hundreds of thousands of levels per second and converting each to ``Decimal`` would
cost more than everything else on the hot path together; ``levels_decimal`` and the
``Book`` accessors give ``Decimal`` whenever a consumer wants arithmetic.

Two timestamps ride on every event, both integer **nanoseconds** since the Unix epoch:
``ts_exchange`` (the exchange's own event time, 0 when it sends none) and ``ts_local``
(when Connex received the frame).

Unified symbols follow CCXT: ``BTC/USDT`` is spot, ``BTC/USDT:USDT`` is the linear
perpetual settled in USDT, ``BTC/USD:BTC`` an inverse perpetual.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import msgspec

__all__ = [
    "Balance",
    "BookDelta",
    "BookSnapshot",
    "ExchangeHealth",
    "Fill",
    "FundingRate",
    "Level",
    "Liquidation",
    "MarkPrice",
    "Order",
    "OrderStatus",
    "Position",
    "PositionSide",
    "Side",
    "Ticker",
    "Trade",
    "levels_decimal",
]

Level = tuple[str, str]
"""One book level: (price, size) as exact decimal strings. Size ``"0"`` removes the level."""


class Side(enum.StrEnum):
    """The aggressor (taker) side of a trade, or the side of an order."""

    BUY = "buy"
    SELL = "sell"


class PositionSide(enum.StrEnum):
    """Which position a liquidation closed: a ``LONG`` is liquidated by a forced sell."""

    LONG = "long"
    SHORT = "short"


class OrderStatus(enum.StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class BookSnapshot(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """A full L2 book (or its top part) at ``sequence``.

    Bids are best (highest) first, asks best (lowest) first.
    """

    exchange: str
    symbol: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    sequence: int = 0
    ts_exchange: int = 0
    ts_local: int = 0
    checksum: int | None = None


class BookDelta(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Absolute level changes to apply to a book (size ``"0"`` deletes a level).

    ``first_seq``/``sequence``/``prev_seq`` carry the exchange's update ids so the book
    sync can check continuity: ``first_seq`` is the first id covered by this update,
    ``sequence`` the last one, and ``prev_seq`` the last id of the previous update when
    the exchange links updates that way (``-1`` when it does not).
    """

    exchange: str
    symbol: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    sequence: int
    first_seq: int = -1
    prev_seq: int = -1
    ts_exchange: int = 0
    ts_local: int = 0
    checksum: int | None = None


class Trade(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """One public trade. ``side`` is the aggressor's side."""

    exchange: str
    symbol: str
    price: Decimal
    size: Decimal
    side: Side
    trade_id: str
    ts_exchange: int = 0
    ts_local: int = 0


class Liquidation(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """A forced close of a position.

    ``side`` is the *position* that was liquidated (``LONG`` when the exchange force-sold),
    never the side of the liquidation order; each connector documents how it maps its
    venue's field. ``price`` is the fill (or order) price and ``size`` the base quantity.
    """

    exchange: str
    symbol: str
    side: PositionSide
    price: Decimal
    size: Decimal
    ts_exchange: int = 0
    ts_local: int = 0
    liquidation_id: str = ""

    @property
    def notional(self) -> Decimal:
        """Price times size in the quote currency."""
        return self.price * self.size


class FundingRate(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Current funding rate of a perpetual and when it is next charged."""

    exchange: str
    symbol: str
    rate: Decimal
    next_funding_ts: int = 0
    mark_price: Decimal | None = None
    ts_exchange: int = 0
    ts_local: int = 0


class MarkPrice(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Mark (and index, when known) price of a derivative."""

    exchange: str
    symbol: str
    mark_price: Decimal
    index_price: Decimal | None = None
    open_interest: Decimal | None = None
    ts_exchange: int = 0
    ts_local: int = 0


class Ticker(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Best bid and ask as the exchange reports them (book ticker / bbo)."""

    exchange: str
    symbol: str
    bid_price: Decimal
    bid_size: Decimal
    ask_price: Decimal
    ask_size: Decimal
    ts_exchange: int = 0
    ts_local: int = 0


class Order(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """State of one of the account's orders (private stream)."""

    exchange: str
    symbol: str
    order_id: str
    client_order_id: str
    side: Side
    price: Decimal
    size: Decimal
    filled: Decimal
    status: OrderStatus
    ts_exchange: int = 0
    ts_local: int = 0


class Fill(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """One execution of one of the account's orders (private stream)."""

    exchange: str
    symbol: str
    order_id: str
    trade_id: str
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal
    fee_asset: str
    maker: bool
    ts_exchange: int = 0
    ts_local: int = 0


class Balance(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Free and locked amount of one asset (private stream)."""

    exchange: str
    asset: str
    free: Decimal
    locked: Decimal
    ts_exchange: int = 0
    ts_local: int = 0


class Position(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """An open derivatives position (private stream); ``size`` is signed (short < 0)."""

    exchange: str
    symbol: str
    size: Decimal
    entry_price: Decimal
    unrealized_pnl: Decimal
    ts_exchange: int = 0
    ts_local: int = 0


class ExchangeHealth(msgspec.Struct, frozen=True, kw_only=True):
    """Health of one exchange's feeds; shared by the CLI, the API and storage.

    ``last_message_age_s`` is ``None`` until a first message arrived.
    """

    exchange: str
    connected: bool
    healthy: bool
    last_message_age_s: float | None = None
    msgs_per_s: float = 0.0
    reconnects: int = 0
    errors: int = 0
    gaps: int = 0
    resyncs: int = 0
    books_live: int = 0
    books_total: int = 0
    detail: str = ""
    ts_local: int = 0


def levels_decimal(levels: tuple[Level, ...]) -> list[tuple[Decimal, Decimal]]:
    """Return book levels as ``Decimal`` pairs (exact)."""
    return [(Decimal(p), Decimal(q)) for p, q in levels]
