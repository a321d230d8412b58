"""MEXC wire messages -> normalized model events (pure functions).

Protobuf strings are exact decimal text and stay strings in book levels; scalar prices
become ``Decimal``. Versions are decimal strings on the wire and are parsed as integers
here (an empty or non-numeric version raises ``ValueError``, which the session turns into
a ``FeedError``).
"""

from __future__ import annotations

from decimal import Decimal
from operator import attrgetter
from typing import Any

from connex.model import BookDelta, BookSnapshot, FundingRate, MarkPrice, Side, Ticker, Trade

from .messages import (
    DepthSnapshot,
    FuturesDeal,
    FuturesDepth,
    FuturesDepthSnapshot,
    FuturesFairPrice,
    FuturesFundingRate,
    FuturesLevels,
)

__all__ = [
    "futures_levels",
    "parse_aggre_book_ticker",
    "parse_aggre_deals",
    "parse_aggre_depth",
    "parse_depth_snapshot",
    "parse_futures_deals",
    "parse_futures_depth",
    "parse_futures_fair_price",
    "parse_futures_funding",
    "parse_futures_snapshot",
    "trade_side",
]

_MS = 1_000_000  # ms -> ns
EXCHANGE = "mexc"

#: ``tradeType`` -> aggressor side (1 = buy, 2 = sell; mexc.md §4: the docs do not say
#: "taker" explicitly; ccxt reads it as the taker side, as do we).
TRADE_TYPE: dict[int, Side] = {1: Side.BUY, 2: Side.SELL}


def trade_side(trade_type: int) -> Side:
    """Aggressor side of a deal's ``tradeType``; raises ``ValueError`` on other values."""
    side = TRADE_TYPE.get(trade_type)
    if side is None:
        raise ValueError(f"unknown tradeType {trade_type}")
    return side


#: ``item -> (item.price, item.quantity)`` in C (no Python frame per level).
_PRICE_QTY = attrgetter("price", "quantity")


def _levels(items: Any) -> tuple[tuple[str, str], ...]:
    return tuple(map(_PRICE_QTY, items))


def parse_aggre_depth(body: Any, symbol: str, send_time_ms: int, ts_local: int) -> BookDelta:
    """``PublicAggreDepthsV3Api`` -> ``BookDelta`` (``first_seq`` = ``fromVersion``)."""
    return BookDelta(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=_levels(body.bids),
        asks=_levels(body.asks),
        sequence=int(body.toVersion),
        first_seq=int(body.fromVersion),
        ts_exchange=send_time_ms * _MS,
        ts_local=ts_local,
    )


def parse_aggre_deals(body: Any, symbol: str, ts_local: int) -> list[Trade]:
    """``PublicAggreDealsV3Api`` -> one ``Trade`` per deal.

    ``trade_id`` is MEXC's ``tradeId`` (sent since 2026-06); older servers omit it, and
    then the id is ``<time>-<price>-<quantity>`` (stable across duplicates, so consumers
    can still dedupe).
    """
    out = []
    for d in body.deals:
        out.append(
            Trade(
                exchange=EXCHANGE,
                symbol=symbol,
                price=Decimal(d.price),
                size=Decimal(d.quantity),
                side=trade_side(d.tradeType),
                trade_id=d.tradeId or f"{d.time}-{d.price}-{d.quantity}",
                ts_exchange=d.time * _MS,
                ts_local=ts_local,
            )
        )
    return out


def parse_aggre_book_ticker(body: Any, symbol: str, send_time_ms: int, ts_local: int) -> Ticker:
    """``PublicAggreBookTickerV3Api`` -> ``Ticker``."""
    return Ticker(
        exchange=EXCHANGE,
        symbol=symbol,
        bid_price=Decimal(body.bidPrice),
        bid_size=Decimal(body.bidQuantity),
        ask_price=Decimal(body.askPrice),
        ask_size=Decimal(body.askQuantity),
        ts_exchange=send_time_ms * _MS,
        ts_local=ts_local,
    )


def parse_depth_snapshot(m: DepthSnapshot, symbol: str, ts_local: int) -> BookSnapshot:
    """REST ``/api/v3/depth`` -> ``BookSnapshot`` at ``lastUpdateId``."""
    return BookSnapshot(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=m.bids,
        asks=m.asks,
        sequence=m.lastUpdateId,
        ts_exchange=m.timestamp * _MS,
        ts_local=ts_local,
    )


# -- futures ----------------------------------------------------------------------------------
def _dec_str(d: Decimal) -> str:
    """Plain decimal text of a ``Decimal`` (no exponent)."""
    text = str(d)
    return format(d, "f") if "E" in text else text


def futures_levels(
    levels: FuturesLevels, contract_size: Decimal | None
) -> tuple[tuple[str, str], ...]:
    """``[[price, contracts, orders], ...]`` -> exact ``(price, size)`` strings; sizes in
    contracts, or in base units when ``contract_size`` is given."""
    if contract_size is None:
        return tuple([(_dec_str(lv[0]), _dec_str(lv[1])) for lv in levels])
    return tuple([(_dec_str(lv[0]), _dec_str(lv[1] * contract_size)) for lv in levels])


def parse_futures_depth(
    m: FuturesDepth, symbol: str, ts_ms: int, ts_local: int, contract_size: Decimal | None
) -> BookDelta:
    """``push.depth`` -> ``BookDelta``: ``sequence`` = ``version``; ``first_seq`` = ``begin``
    for merged pushes, else ``version`` (one version per push)."""
    return BookDelta(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=futures_levels(m.bids, contract_size),
        asks=futures_levels(m.asks, contract_size),
        sequence=m.version,
        first_seq=m.begin if m.begin >= 0 else m.version,
        ts_exchange=ts_ms * _MS,
        ts_local=ts_local,
    )


def parse_futures_snapshot(
    m: FuturesDepthSnapshot, symbol: str, ts_local: int, contract_size: Decimal | None
) -> BookSnapshot:
    d = m.data
    return BookSnapshot(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=futures_levels(d.bids, contract_size),
        asks=futures_levels(d.asks, contract_size),
        sequence=d.version,
        ts_exchange=d.timestamp * _MS,
        ts_local=ts_local,
    )


def parse_futures_deals(
    deals: list[FuturesDeal], symbol: str, ts_local: int, contract_size: Decimal | None
) -> list[Trade]:
    """``push.deal`` -> ``Trade``s; ``T`` 1 = buy, 2 = sell (aggressor, as on spot). Sizes
    are base units when ``contract_size`` is known, else contracts."""
    out = []
    for d in deals:
        size = d.v * contract_size if contract_size is not None else d.v
        out.append(
            Trade(
                exchange=EXCHANGE,
                symbol=symbol,
                price=d.p,
                size=size,
                side=trade_side(d.T),
                trade_id=str(d.i) if d.i is not None else f"{d.t}-{d.p}-{d.v}",
                ts_exchange=d.t * _MS,
                ts_local=ts_local,
            )
        )
    return out


def parse_futures_funding(
    m: FuturesFundingRate, symbol: str, ts_ms: int, ts_local: int
) -> FundingRate:
    rate = m.rate if m.rate is not None else m.fundingRate
    if rate is None:
        raise ValueError("push.funding.rate without rate")
    return FundingRate(
        exchange=EXCHANGE,
        symbol=symbol,
        rate=rate,
        next_funding_ts=m.nextSettleTime * _MS,
        ts_exchange=ts_ms * _MS,
        ts_local=ts_local,
    )


def parse_futures_fair_price(
    m: FuturesFairPrice, symbol: str, ts_ms: int, ts_local: int
) -> MarkPrice:
    return MarkPrice(
        exchange=EXCHANGE,
        symbol=symbol,
        mark_price=m.price,
        ts_exchange=ts_ms * _MS,
        ts_local=ts_local,
    )
