"""Bybit wire messages -> normalized model events (pure functions)."""

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

from .messages import BookData, LiquidationData, TickerData, TradeData

__all__ = [
    "LIQUIDATED_POSITION",
    "parse_book_delta",
    "parse_book_snapshot",
    "parse_funding",
    "parse_liquidation",
    "parse_mark_price",
    "parse_top_of_book",
    "parse_trade",
]

EXCHANGE = "bybit"
_MS = 1_000_000  # ms -> ns

#: ``allLiquidation.S`` -> liquidated position. Bybit documents ``S`` as the POSITION
#: side (``Buy`` = a long was liquidated), the opposite of Binance/OKX order sides
#: (../shared/protocols/bybit.md §4). One table so a correction is a one-line change.
LIQUIDATED_POSITION: dict[str, PositionSide] = {
    "Buy": PositionSide.LONG,
    "Sell": PositionSide.SHORT,
}


def parse_book_snapshot(m: BookData, symbol: str, ts_ms: int, ts_local: int) -> BookSnapshot:
    return BookSnapshot(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=m.b,
        asks=m.a,
        sequence=m.u,
        ts_exchange=ts_ms * _MS,
        ts_local=ts_local,
    )


def parse_book_delta(m: BookData, symbol: str, ts_ms: int, ts_local: int) -> BookDelta:
    """``first_seq == sequence == u`` (one update id per message)."""
    return BookDelta(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=m.b,
        asks=m.a,
        sequence=m.u,
        first_seq=m.u,
        ts_exchange=ts_ms * _MS,
        ts_local=ts_local,
    )


def parse_top_of_book(m: BookData, symbol: str, ts_ms: int, ts_local: int) -> Ticker | None:
    """``orderbook.1`` snapshot -> best bid/ask (``None`` while a side is empty)."""
    if not (m.b and m.a):
        return None
    return Ticker(
        exchange=EXCHANGE,
        symbol=symbol,
        bid_price=Decimal(m.b[0][0]),
        bid_size=Decimal(m.b[0][1]),
        ask_price=Decimal(m.a[0][0]),
        ask_size=Decimal(m.a[0][1]),
        ts_exchange=ts_ms * _MS,
        ts_local=ts_local,
    )


def parse_trade(m: TradeData, symbol: str, ts_local: int) -> Trade:
    """``S`` is the taker side."""
    return Trade(
        exchange=EXCHANGE,
        symbol=symbol,
        price=Decimal(m.p),
        size=Decimal(m.v),
        side=Side.BUY if m.S == "Buy" else Side.SELL,
        trade_id=m.i,
        ts_exchange=m.T * _MS,
        ts_local=ts_local,
    )


def parse_liquidation(m: LiquidationData, symbol: str, ts_local: int) -> Liquidation:
    """``p`` is the bankruptcy price, ``v`` the size (base coin on linear)."""
    side = LIQUIDATED_POSITION.get(m.S)
    if side is None:
        raise ValueError(f"bybit: unknown liquidation side {m.S!r}")
    return Liquidation(
        exchange=EXCHANGE,
        symbol=symbol,
        side=side,
        price=Decimal(m.p),
        size=Decimal(m.v),
        ts_exchange=m.T * _MS,
        ts_local=ts_local,
        liquidation_id=f"{m.s}:{m.T}:{m.S}:{m.v}:{m.p}",
    )


def parse_funding(t: TickerData, symbol: str, ts_ms: int, ts_local: int) -> FundingRate | None:
    """From the merged ticker state; ``None`` until a funding rate is known."""
    if not t.fundingRate:
        return None
    return FundingRate(
        exchange=EXCHANGE,
        symbol=symbol,
        rate=Decimal(t.fundingRate),
        next_funding_ts=int(t.nextFundingTime) * _MS if t.nextFundingTime else 0,
        mark_price=Decimal(t.markPrice) if t.markPrice else None,
        ts_exchange=ts_ms * _MS,
        ts_local=ts_local,
    )


def parse_mark_price(t: TickerData, symbol: str, ts_ms: int, ts_local: int) -> MarkPrice | None:
    """From the merged ticker state; ``None`` until a mark price is known."""
    if not t.markPrice:
        return None
    return MarkPrice(
        exchange=EXCHANGE,
        symbol=symbol,
        mark_price=Decimal(t.markPrice),
        index_price=Decimal(t.indexPrice) if t.indexPrice else None,
        open_interest=Decimal(t.openInterest) if t.openInterest else None,
        ts_exchange=ts_ms * _MS,
        ts_local=ts_local,
    )
