"""Gate wire messages -> normalized model events (pure functions).

Units (../shared/protocols/gateio.md §2-§5):
- Book levels and book tickers keep the venue's sizes: base amounts on spot, **contracts**
  on futures (exact strings; an integer size ``120`` becomes ``"120"``), unless the session
  runs with ``book_units="base"``: then futures sizes are multiplied by the contract's
  ``quanto_multiplier`` (exactly, as plain decimal strings).
- ``Trade.size`` and ``Liquidation.size`` on futures are converted to base units when the
  contract's ``quanto_multiplier`` is known (``mult``); otherwise they stay in contracts.
- Times: frames carry ms (``t``, ``time_ms``) or fractional-ms strings
  (``create_time_ms`` on spot trades); model times are integer ns.
"""

from __future__ import annotations

from decimal import Decimal

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

from .integrity import LIQUIDATION_SIGN_IS_POSITION
from .messages import (
    BookTicker,
    FuturesBookUpdate,
    FuturesLevel,
    FuturesSnapshot,
    FuturesTicker,
    FuturesTrade,
    PublicLiquidation,
    SpotBookUpdate,
    SpotSnapshot,
    SpotTrade,
)

__all__ = [
    "EXCHANGE",
    "contracts_to_base",
    "liquidation_side",
    "ms_string_to_ns",
    "parse_book_ticker",
    "parse_futures_snapshot",
    "parse_futures_ticker",
    "parse_futures_trade",
    "parse_futures_update",
    "parse_liquidation",
    "parse_spot_snapshot",
    "parse_spot_trade",
    "parse_spot_update",
]

EXCHANGE = "gateio"
_MS = 1_000_000  # ms -> ns
_S = 1_000_000_000  # s -> ns
#: A ``time`` below this is in seconds (Gate switched ``public_liquidates`` to ms in 2026).
_SECONDS_LIMIT = 100_000_000_000


def ms_string_to_ns(ms: str) -> int:
    """``"1606292218213.4578"`` (ms with a fraction) -> integer ns, exactly (truncated)."""
    whole, _, frac = ms.partition(".")
    return int(whole) * _MS + int((frac + "000000")[:6])


def _fut_levels(levels: tuple[FuturesLevel, ...], mult: Decimal | None) -> tuple[Level, ...]:
    if mult is None:
        return tuple((lv.p, lv.s if type(lv.s) is str else str(lv.s)) for lv in levels)
    return tuple((lv.p, contracts_to_base(lv.s, mult)) for lv in levels)


def contracts_to_base(size: int | str | Decimal, mult: Decimal) -> str:
    """Exact base amount of ``size`` contracts as a plain decimal string (``"0"`` stays)."""
    if size == 0 or size == "0":
        return "0"
    return format(Decimal(size) * mult, "f")


def parse_spot_update(m: SpotBookUpdate, symbol: str, ts_local: int) -> BookDelta | BookSnapshot:
    """A delta, or a ``BookSnapshot`` at ``u`` when the push says ``full: true``."""
    if m.full:
        return BookSnapshot(
            exchange=EXCHANGE,
            symbol=symbol,
            bids=m.b,
            asks=m.a,
            sequence=m.u,
            ts_exchange=m.t * _MS,
            ts_local=ts_local,
        )
    return BookDelta(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=m.b,
        asks=m.a,
        sequence=m.u,
        first_seq=m.U,
        ts_exchange=m.t * _MS,
        ts_local=ts_local,
    )


def parse_futures_update(
    m: FuturesBookUpdate, symbol: str, ts_local: int, mult: Decimal | None = None
) -> BookDelta | BookSnapshot:
    """As ``parse_spot_update``; sizes are contracts kept as exact strings, or base amounts
    when ``mult`` (the contract multiplier) is given."""
    if m.full:
        return BookSnapshot(
            exchange=EXCHANGE,
            symbol=symbol,
            bids=_fut_levels(m.b, mult),
            asks=_fut_levels(m.a, mult),
            sequence=m.u,
            ts_exchange=m.t * _MS,
            ts_local=ts_local,
        )
    return BookDelta(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=_fut_levels(m.b, mult),
        asks=_fut_levels(m.a, mult),
        sequence=m.u,
        first_seq=m.U,
        ts_exchange=m.t * _MS,
        ts_local=ts_local,
    )


def parse_spot_snapshot(m: SpotSnapshot, symbol: str, ts_local: int) -> BookSnapshot:
    return BookSnapshot(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=m.bids,
        asks=m.asks,
        sequence=m.id,
        ts_exchange=(m.update or m.current) * _MS,
        ts_local=ts_local,
    )


def parse_futures_snapshot(
    m: FuturesSnapshot, symbol: str, ts_local: int, mult: Decimal | None = None
) -> BookSnapshot:
    return BookSnapshot(
        exchange=EXCHANGE,
        symbol=symbol,
        bids=_fut_levels(m.bids, mult),
        asks=_fut_levels(m.asks, mult),
        sequence=m.id,
        ts_exchange=round((m.update or m.current) * 1000) * _MS,
        ts_local=ts_local,
    )


def parse_spot_trade(m: SpotTrade, symbol: str, ts_local: int) -> Trade:
    """``side`` is already the taker's side (Gate publishes only the taker leg)."""
    if m.side == "buy":
        side = Side.BUY
    elif m.side == "sell":
        side = Side.SELL
    else:
        raise ValueError(f"unknown trade side {m.side!r}")
    return Trade(
        exchange=EXCHANGE,
        symbol=symbol,
        price=m.price,
        size=m.amount,
        side=side,
        trade_id=str(m.id),
        ts_exchange=ms_string_to_ns(m.create_time_ms) if m.create_time_ms else m.create_time * _S,
        ts_local=ts_local,
    )


def parse_futures_trade(m: FuturesTrade, symbol: str, mult: Decimal | None, ts_local: int) -> Trade:
    """Signed ``size``: positive = taker bought. ``size`` is base units when ``mult`` is known."""
    if not m.size:
        raise ValueError(f"futures trade {m.id} has size 0")
    size = abs(m.size)
    if mult is not None:
        size *= mult
    return Trade(
        exchange=EXCHANGE,
        symbol=symbol,
        price=m.price,
        size=size,
        side=Side.BUY if m.size > 0 else Side.SELL,
        trade_id=str(m.id),
        ts_exchange=m.create_time_ms * _MS if m.create_time_ms else m.create_time * _S,
        ts_local=ts_local,
    )


def parse_book_ticker(
    m: BookTicker, symbol: str, ts_local: int, mult: Decimal | None = None
) -> Ticker | None:
    """``None`` when one side is empty (futures sends price ``""``); sizes are scaled by
    ``mult`` when given (futures contracts -> base)."""
    if not m.b or not m.a:
        return None
    return Ticker(
        exchange=EXCHANGE,
        symbol=symbol,
        bid_price=Decimal(m.b),
        bid_size=m.B if mult is None else m.B * mult,
        ask_price=Decimal(m.a),
        ask_size=m.A if mult is None else m.A * mult,
        ts_exchange=m.t * _MS,
        ts_local=ts_local,
    )


def liquidation_side(size: Decimal) -> PositionSide:
    """The liquidated *position* from the sign of ``size`` (inferred, see module docs).

    Gate does not state the side of ``futures.public_liquidates``. ``size`` follows Gate's
    position-size sign (REST ``liq_orders`` documents it as the user's position size, and
    the documented private example with size -124.5 is a short bought back), so
    ``size < 0`` is a liquidated SHORT (forced buy) and ``size > 0`` a liquidated LONG
    (forced sell). Unverified against live data: flip ``LIQUIDATION_SIGN_IS_POSITION``
    in ``integrity.py`` if it turns out wrong.
    """
    long = size > 0 if LIQUIDATION_SIGN_IS_POSITION else size < 0
    return PositionSide.LONG if long else PositionSide.SHORT


def _liquidation_time_ns(m: PublicLiquidation) -> int:
    if m.time_ms:
        return m.time_ms * _MS
    return m.time * _S if m.time < _SECONDS_LIMIT else m.time * _MS


def parse_liquidation(
    m: PublicLiquidation, symbol: str, mult: Decimal | None, ts_local: int
) -> Liquidation:
    """One public liquidation; ``size`` is base units when ``mult`` is known, else contracts."""
    if not m.size:
        raise ValueError(f"liquidation of {m.contract} has size 0")
    ts = _liquidation_time_ns(m)
    size = abs(m.size)
    if mult is not None:
        size *= mult
    return Liquidation(
        exchange=EXCHANGE,
        symbol=symbol,
        side=liquidation_side(m.size),
        price=m.price,
        size=size,
        ts_exchange=ts,
        ts_local=ts_local,
        liquidation_id=f"{m.contract}:{m.time_ms or m.time}:{m.size}:{m.price}",
    )


def _dec(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def parse_futures_ticker(
    m: FuturesTicker, symbol: str, mult: Decimal | None, ts_local: int, frame_ms: int
) -> list[MarkPrice | FundingRate]:
    """``MarkPrice`` (mark, index, open interest in base units when ``mult`` is known) and
    ``FundingRate`` (Gate's ticker carries no next-funding time: ``next_funding_ts = 0``)."""
    ts = (m.t or frame_ms) * _MS
    out: list[MarkPrice | FundingRate] = []
    mark = _dec(m.mark_price)
    if mark is not None:
        oi = None
        if mult is not None and m.total_size != "":
            oi = Decimal(m.total_size) * mult
        out.append(
            MarkPrice(
                exchange=EXCHANGE,
                symbol=symbol,
                mark_price=mark,
                index_price=_dec(m.index_price),
                open_interest=oi,
                ts_exchange=ts,
                ts_local=ts_local,
            )
        )
    rate = _dec(m.funding_rate)
    if rate is not None:
        out.append(
            FundingRate(
                exchange=EXCHANGE,
                symbol=symbol,
                rate=rate,
                mark_price=mark,
                ts_exchange=ts,
                ts_local=ts_local,
            )
        )
    return out
