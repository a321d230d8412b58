"""OKX wire messages -> normalized model events (pure functions)."""

from __future__ import annotations

from decimal import Decimal
from operator import itemgetter

from connex.model import (
    BookDelta,
    BookSnapshot,
    FundingRate,
    Level,
    Liquidation,
    MarkPrice,
    PositionSide,
    Side,
    Ticker,
    Trade,
)

from .messages import (
    BookData,
    FundingData,
    LiquidationDetail,
    MarkPriceData,
    OkxLevels,
    TickerData,
    TradeData,
)

__all__ = [
    "LIQUIDATED_POSITION",
    "liquidated_position",
    "parse_book_delta",
    "parse_book_snapshot",
    "parse_funding",
    "parse_liquidation",
    "parse_mark_price",
    "parse_ticker",
    "parse_trade",
]

EXCHANGE = "okx"
_MS = 1_000_000  # ms -> ns

#: Liquidation ORDER side -> the position that was liquidated (okx.md §4: ``sell`` ⇒ a
#: long was liquidated, ``buy`` ⇒ a short). ``posSide`` (``long``/``short``) wins when
#: the account is in hedge mode; in net mode it is ``net`` and the order side decides.
LIQUIDATED_POSITION: dict[str, PositionSide] = {
    "sell": PositionSide.LONG,
    "buy": PositionSide.SHORT,
}
_POS_SIDE: dict[str, PositionSide] = {"long": PositionSide.LONG, "short": PositionSide.SHORT}


#: ``[px, sz, ...] -> (px, sz)`` in C (no Python frame per level).
_PX_SZ = itemgetter(0, 1)


def _levels(raw: OkxLevels) -> tuple[Level, ...]:
    return tuple(map(_PX_SZ, raw))


def _ms(text: str) -> int:
    return int(text) * _MS if text else 0


def parse_book_snapshot(m: BookData, symbol: str, ts_local: int) -> BookSnapshot:
    """``action: snapshot`` (or ``books5``/``bbo-tbt``): ``sequence`` = ``seqId`` (-1 if absent)."""
    return BookSnapshot(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=_levels(m.bids),
        asks=_levels(m.asks),
        sequence=-1 if m.seqId is None else m.seqId,
        ts_exchange=_ms(m.ts),
        ts_local=ts_local,
        checksum=m.checksum or None,
    )


def parse_book_delta(m: BookData, symbol: str, ts_local: int) -> BookDelta:
    """``action: update``: ``sequence`` = ``seqId``, ``prev_seq`` = ``prevSeqId`` (-1 if absent)."""
    seq = -1 if m.seqId is None else m.seqId
    return BookDelta(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=_levels(m.bids),
        asks=_levels(m.asks),
        sequence=seq,
        first_seq=seq,
        prev_seq=-1 if m.prevSeqId is None else m.prevSeqId,
        ts_exchange=_ms(m.ts),
        ts_local=ts_local,
        checksum=m.checksum or None,
    )


def parse_trade(m: TradeData, symbol: str, ts_local: int, contract: Decimal | None = None) -> Trade:
    """``side`` is the taker side; derivative ``sz`` (contracts) times ``contract`` if known."""
    size = Decimal(m.sz)
    if contract is not None:
        size *= contract
    return Trade(
        exchange=EXCHANGE,
        symbol=symbol,
        price=Decimal(m.px),
        size=size,
        side=Side.BUY if m.side == "buy" else Side.SELL,
        trade_id=m.tradeId,
        ts_exchange=_ms(m.ts),
        ts_local=ts_local,
    )


def parse_ticker(m: TickerData, symbol: str, ts_local: int) -> Ticker | None:
    """Best bid/ask from ``tickers``; ``None`` while one side of the book is empty."""
    if not (m.bidPx and m.askPx):
        return None
    return Ticker(
        exchange=EXCHANGE,
        symbol=symbol,
        bid_price=Decimal(m.bidPx),
        bid_size=Decimal(m.bidSz or "0"),
        ask_price=Decimal(m.askPx),
        ask_size=Decimal(m.askSz or "0"),
        ts_exchange=_ms(m.ts),
        ts_local=ts_local,
    )


def liquidated_position(d: LiquidationDetail) -> PositionSide:
    """Which position a liquidation order closed (see ``LIQUIDATED_POSITION``)."""
    pos = _POS_SIDE.get(d.posSide)
    if pos is not None:
        return pos
    side = LIQUIDATED_POSITION.get(d.side)
    if side is None:
        raise ValueError(f"okx: unknown liquidation side {d.side!r}")
    return side


def parse_liquidation(
    inst_id: str, d: LiquidationDetail, symbol: str, ts_local: int, contract: Decimal | None = None
) -> Liquidation:
    """``price`` = bankruptcy price ``bkPx``; ``size`` = ``sz`` (contracts, times ``contract``)."""
    size = Decimal(d.sz)
    if contract is not None:
        size *= contract
    return Liquidation(
        exchange=EXCHANGE,
        symbol=symbol,
        side=liquidated_position(d),
        price=Decimal(d.bkPx),
        size=size,
        ts_exchange=_ms(d.ts),
        ts_local=ts_local,
        liquidation_id=f"{inst_id}:{d.ts}:{d.side}:{d.sz}:{d.bkPx}",
    )


def parse_funding(m: FundingData, symbol: str, ts_local: int) -> FundingRate:
    """``next_funding_ts`` is ``fundingTime`` (the upcoming settlement)."""
    return FundingRate(
        exchange=EXCHANGE,
        symbol=symbol,
        rate=Decimal(m.fundingRate) if m.fundingRate else Decimal(0),
        next_funding_ts=_ms(m.fundingTime),
        ts_exchange=_ms(m.ts),
        ts_local=ts_local,
    )


def parse_mark_price(m: MarkPriceData, symbol: str, ts_local: int) -> MarkPrice:
    return MarkPrice(
        exchange=EXCHANGE,
        symbol=symbol,
        mark_price=Decimal(m.markPx),
        ts_exchange=_ms(m.ts),
        ts_local=ts_local,
    )
