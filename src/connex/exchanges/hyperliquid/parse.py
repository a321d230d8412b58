"""Hyperliquid wire messages -> normalized model events (pure functions)."""

from __future__ import annotations

from decimal import Decimal
from operator import attrgetter

from connex.model import (
    BookSnapshot,
    FundingRate,
    Liquidation,
    MarkPrice,
    PositionSide,
    Side,
    Ticker,
    Trade,
)

from .messages import ActiveAssetCtx, WsBbo, WsBook, WsFill, WsTrade

__all__ = [
    "AGGRESSOR_SIDE",
    "FUNDING_INTERVAL_NS",
    "liquidated_position",
    "parse_active_asset_ctx",
    "parse_bbo",
    "parse_book",
    "parse_liquidation_fill",
    "parse_trade",
]

_MS = 1_000_000  # ms -> ns
EXCHANGE = "hyperliquid"

#: ``trades[].side`` is the aggressing side: ``B`` = taker bought, ``A`` = taker sold
#: (hyperliquid.md §3, docs "Notation").
AGGRESSOR_SIDE: dict[str, Side] = {"B": Side.BUY, "A": Side.SELL}

#: Funding is charged every hour on the hour (hyperliquid.md §5).
FUNDING_INTERVAL_NS = 3_600_000_000_000


#: ``level -> (level.px, level.sz)`` in C (no Python frame per level).
_PX_SZ = attrgetter("px", "sz")


def parse_book(m: WsBook, symbol: str, ts_local: int) -> BookSnapshot:
    """``l2Book`` -> ``BookSnapshot`` with ``sequence = time`` (ms)."""
    bids, asks = m.levels
    return BookSnapshot(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=tuple(map(_PX_SZ, bids)),
        asks=tuple(map(_PX_SZ, asks)),
        sequence=m.time,
        ts_exchange=m.time * _MS,
        ts_local=ts_local,
    )


def parse_trade(m: WsTrade, symbol: str, ts_local: int) -> Trade:
    side = AGGRESSOR_SIDE.get(m.side)
    if side is None:
        raise ValueError(f"unknown trade side {m.side!r}")
    return Trade(
        exchange=EXCHANGE,
        symbol=symbol,
        price=Decimal(m.px),
        size=Decimal(m.sz),
        side=side,
        trade_id=str(m.tid),
        ts_exchange=m.time * _MS,
        ts_local=ts_local,
    )


def parse_bbo(m: WsBbo, symbol: str, ts_local: int) -> Ticker | None:
    """``bbo`` -> ``Ticker``; ``None`` while one side of the book is empty."""
    bid, ask = m.bbo
    if bid is None or ask is None:
        return None
    return Ticker(
        exchange=EXCHANGE,
        symbol=symbol,
        bid_price=Decimal(bid.px),
        bid_size=Decimal(bid.sz),
        ask_price=Decimal(ask.px),
        ask_size=Decimal(ask.sz),
        ts_exchange=m.time * _MS,
        ts_local=ts_local,
    )


def parse_active_asset_ctx(
    m: ActiveAssetCtx, symbol: str, ts_local: int
) -> tuple[FundingRate, MarkPrice]:
    """``activeAssetCtx`` -> ``FundingRate`` + ``MarkPrice`` (index = oracle price).

    The context has no timestamp (``ts_exchange`` = 0); ``next_funding_ts`` is the next
    full hour after ``ts_local``, since Hyperliquid charges funding hourly.
    """
    ctx = m.ctx
    next_funding = (ts_local // FUNDING_INTERVAL_NS + 1) * FUNDING_INTERVAL_NS
    return (
        FundingRate(
            exchange=EXCHANGE,
            symbol=symbol,
            rate=ctx.funding,
            next_funding_ts=next_funding,
            mark_price=ctx.markPx,
            ts_local=ts_local,
        ),
        MarkPrice(
            exchange=EXCHANGE,
            symbol=symbol,
            mark_price=ctx.markPx,
            index_price=ctx.oraclePx,
            open_interest=ctx.openInterest,
            ts_local=ts_local,
        ),
    )


def liquidated_position(fill: WsFill, watched_user: str) -> PositionSide:
    """Which position a liquidation fill closed.

    On the liquidated account's own fill the closing side is that account's side: a sell
    (``A``, ``dir`` ``Close Long``) closes a long. On the liquidator's fill
    (``liquidation.liquidatedUser`` names someone else) the liquidated account was the
    counterparty, so the side is inverted: the liquidator buying (``B``) means a long was
    liquidated.
    """
    liq = fill.liquidation
    victim = liq.liquidatedUser if liq is not None else None
    own = victim is None or victim.lower() == watched_user.lower()
    if fill.side not in ("A", "B"):
        raise ValueError(f"unknown fill side {fill.side!r}")
    sold = fill.side == "A"
    return PositionSide.LONG if sold == own else PositionSide.SHORT


def parse_liquidation_fill(
    fill: WsFill, watched_user: str, symbol: str, ts_local: int
) -> Liquidation:
    """A ``userFills`` fill carrying ``liquidation`` -> ``Liquidation``.

    ``liquidation_id`` is ``<hash>:<tid>``: both sides of one liquidation trade share it,
    so watching the liquidated account and its liquidator yields one id twice (dedupe
    downstream).
    """
    return Liquidation(
        exchange=EXCHANGE,
        symbol=symbol,
        side=liquidated_position(fill, watched_user),
        price=Decimal(fill.px),
        size=Decimal(fill.sz),
        ts_exchange=fill.time * _MS,
        ts_local=ts_local,
        liquidation_id=f"{fill.hash}:{fill.tid}",
    )
