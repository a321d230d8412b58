"""Binance wire messages -> normalized model events (pure functions)."""

from __future__ import annotations

from decimal import Decimal

from connex.model import (
    BookDelta,
    BookSnapshot,
    FundingRate,
    Liquidation,
    MarkPrice,
    PositionSide,
    Side,
    Ticker,
    Trade,
)

from .messages import (
    AggTrade,
    BookTicker,
    DepthSnapshot,
    DepthUpdate,
    ForceOrder,
    MarkPriceUpdate,
    RawTrade,
)

__all__ = [
    "parse_agg_trade",
    "parse_book_ticker",
    "parse_depth_snapshot",
    "parse_depth_update",
    "parse_force_order",
    "parse_mark_price",
    "parse_raw_trade",
]

_MS = 1_000_000  # ms -> ns
EXCHANGE = "binance"


def parse_depth_update(m: DepthUpdate, symbol: str, ts_local: int) -> BookDelta:
    return BookDelta(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=m.b,
        asks=m.a,
        sequence=m.u,
        first_seq=m.U,
        prev_seq=m.pu,
        ts_exchange=m.E * _MS,
        ts_local=ts_local,
    )


def parse_depth_snapshot(m: DepthSnapshot, symbol: str, ts_local: int) -> BookSnapshot:
    return BookSnapshot(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=m.bids,
        asks=m.asks,
        sequence=m.lastUpdateId,
        ts_exchange=(m.E or m.T) * _MS,
        ts_local=ts_local,
    )


def parse_agg_trade(m: AggTrade, symbol: str, ts_local: int) -> Trade:
    return Trade(
        exchange=EXCHANGE,
        symbol=symbol,
        price=Decimal(m.p),
        size=Decimal(m.q),
        side=Side.SELL if m.m else Side.BUY,
        trade_id=str(m.a),
        ts_exchange=m.T * _MS,
        ts_local=ts_local,
    )


def parse_raw_trade(m: RawTrade, symbol: str, ts_local: int) -> Trade:
    return Trade(
        exchange=EXCHANGE,
        symbol=symbol,
        price=Decimal(m.p),
        size=Decimal(m.q),
        side=Side.SELL if m.m else Side.BUY,
        trade_id=str(m.t),
        ts_exchange=m.T * _MS,
        ts_local=ts_local,
    )


def parse_book_ticker(m: BookTicker, symbol: str, ts_local: int) -> Ticker:
    return Ticker(
        exchange=EXCHANGE,
        symbol=symbol,
        bid_price=Decimal(m.b),
        bid_size=Decimal(m.B),
        ask_price=Decimal(m.a),
        ask_size=Decimal(m.A),
        ts_exchange=(m.E or m.T) * _MS,
        ts_local=ts_local,
    )


def parse_force_order(m: ForceOrder, symbol: str, ts_local: int) -> Liquidation:
    """A ``SELL`` liquidation order closes a long; a ``BUY`` closes a short.

    Price is the average fill price ``ap`` (the order price ``p`` when nothing filled);
    size is the cumulative filled quantity ``z`` (the order quantity ``q`` if zero).
    """
    o = m.o
    price = Decimal(o.ap)
    if not price:
        price = Decimal(o.p)
    size = Decimal(o.z)
    if not size:
        size = Decimal(o.q)
    return Liquidation(
        exchange=EXCHANGE,
        symbol=symbol,
        side=PositionSide.LONG if o.S == "SELL" else PositionSide.SHORT,
        price=price,
        size=size,
        ts_exchange=o.T * _MS,
        ts_local=ts_local,
        liquidation_id=f"{o.s}:{o.T}:{o.S}:{o.q}",
    )


def parse_mark_price(
    m: MarkPriceUpdate, symbol: str, ts_local: int
) -> tuple[MarkPrice, FundingRate]:
    mark = Decimal(m.p)
    ts = m.E * _MS
    return (
        MarkPrice(
            exchange=EXCHANGE,
            symbol=symbol,
            mark_price=mark,
            index_price=Decimal(m.i) if m.i else None,
            ts_exchange=ts,
            ts_local=ts_local,
        ),
        FundingRate(
            exchange=EXCHANGE,
            symbol=symbol,
            rate=Decimal(m.r) if m.r else Decimal(0),
            next_funding_ts=m.T * _MS,
            mark_price=mark,
            ts_exchange=ts,
            ts_local=ts_local,
        ),
    )
