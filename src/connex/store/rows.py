"""Normalized model events -> rows of the storage tables (pure, no I/O).

Each table has a natural key, so a replayed or duplicated event maps to the same key
and is stored once:

=================  ==========================================================
table              natural key
=================  ==========================================================
liquidations       (exchange, symbol, dedupe_key); dedupe_key is
                   ``id:<liquidation_id>`` when the exchange gives an id, else the
                   fingerprint ``fp:<side>|<price>|<size>|<ts_ns>`` (canonical
                   decimal strings, so ``1.50`` and ``1.5`` are the same)
trades             (exchange, symbol, trade_id)
top_of_book        (exchange, symbol, ts_ns)
funding            (exchange, symbol, kind, ts_ns); kind 'funding' or 'mark'
exchange_health    (exchange, ts_ns)
=================  ==========================================================

``ts_ns`` is the exchange's event time, or the receive time when the exchange sends
none.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

from connex.model import (
    BookSnapshot,
    ExchangeHealth,
    FundingRate,
    Liquidation,
    MarkPrice,
    Ticker,
    Trade,
)

__all__ = [
    "COLUMNS",
    "TABLES",
    "canonical",
    "dedupe_key",
    "event_ts",
    "exact_product",
    "row_for",
    "row_key",
]

TABLES = ("liquidations", "trades", "top_of_book", "funding", "exchange_health")

# Columns the writer supplies, in order, with their DuckDB list types. ``ts`` (TIMESTAMP)
# is derived from ts_ns in SQL.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "liquidations": (
        ("exchange", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("side", "VARCHAR"),
        ("price", "DECIMAL(38,18)"),
        ("size", "DECIMAL(38,18)"),
        ("notional", "DECIMAL(38,18)"),
        ("ts_ns", "BIGINT"),
        ("ts_local_ns", "BIGINT"),
        ("liquidation_id", "VARCHAR"),
        ("dedupe_key", "VARCHAR"),
    ),
    "trades": (
        ("exchange", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("side", "VARCHAR"),
        ("price", "DECIMAL(38,18)"),
        ("size", "DECIMAL(38,18)"),
        ("notional", "DECIMAL(38,18)"),
        ("ts_ns", "BIGINT"),
        ("ts_local_ns", "BIGINT"),
        ("trade_id", "VARCHAR"),
    ),
    "top_of_book": (
        ("exchange", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("bid_price", "DECIMAL(38,18)"),
        ("bid_size", "DECIMAL(38,18)"),
        ("ask_price", "DECIMAL(38,18)"),
        ("ask_size", "DECIMAL(38,18)"),
        ("ts_ns", "BIGINT"),
        ("ts_local_ns", "BIGINT"),
    ),
    "funding": (
        ("exchange", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("rate", "DECIMAL(38,18)"),
        ("next_funding_ts_ns", "BIGINT"),
        ("mark_price", "DECIMAL(38,18)"),
        ("index_price", "DECIMAL(38,18)"),
        ("open_interest", "DECIMAL(38,18)"),
        ("ts_ns", "BIGINT"),
        ("ts_local_ns", "BIGINT"),
    ),
    "exchange_health": (
        ("exchange", "VARCHAR"),
        ("connected", "BOOLEAN"),
        ("healthy", "BOOLEAN"),
        ("last_message_age_s", "DOUBLE"),
        ("msgs_per_s", "DOUBLE"),
        ("reconnects", "BIGINT"),
        ("errors", "BIGINT"),
        ("gaps", "BIGINT"),
        ("resyncs", "BIGINT"),
        ("books_live", "BIGINT"),
        ("books_total", "BIGINT"),
        ("detail", "VARCHAR"),
        ("ts_ns", "BIGINT"),
    ),
}

# Index of the natural-key columns in each table's row tuple.
_KEY_IDX: dict[str, tuple[int, ...]] = {
    "liquidations": (0, 1, 9),
    "trades": (0, 1, 8),
    "top_of_book": (0, 1, 6),
    "funding": (0, 1, 2, 8),
    "exchange_health": (0, 12),
}

_Q18 = Decimal(1).scaleb(-18)
_CTX = decimal.Context(prec=80)


def canonical(d: Decimal) -> str:
    """Exact decimal string without exponent or trailing zeros (``Decimal('1.50') -> '1.5'``)."""
    s = format(d.normalize(_CTX), "f")
    return "0" if s in ("-0", "") else s


def exact_product(a: Decimal, b: Decimal) -> Decimal:
    """``a * b`` rounded to the 18 decimals the DECIMAL(38,18) columns hold."""
    return _CTX.multiply(a, b).quantize(_Q18, context=_CTX)


def event_ts(ts_exchange: int, ts_local: int) -> int:
    """The event time stored as ``ts_ns``: the exchange's time, else the receive time."""
    return ts_exchange or ts_local


def dedupe_key(ev: Liquidation) -> str:
    """Natural key of a liquidation within (exchange, symbol); see the module docstring."""
    if ev.liquidation_id:
        return f"id:{ev.liquidation_id}"
    ts = event_ts(ev.ts_exchange, ev.ts_local)
    return f"fp:{ev.side.value}|{canonical(ev.price)}|{canonical(ev.size)}|{ts}"


def _best(levels: tuple[tuple[str, str], ...]) -> tuple[Decimal | None, Decimal | None]:
    if not levels:
        return None, None
    p, q = levels[0]
    return Decimal(p), Decimal(q)


def row_for(ev: Any) -> tuple[str, tuple[Any, ...]] | None:
    """``(table, row)`` for a storable event, ``None`` for anything else.

    ``Trade`` rows are returned too; whether trades are stored is the writer's choice.
    """
    if isinstance(ev, Liquidation):
        return "liquidations", (
            ev.exchange,
            ev.symbol,
            ev.side.value,
            ev.price,
            ev.size,
            exact_product(ev.price, ev.size),
            event_ts(ev.ts_exchange, ev.ts_local),
            ev.ts_local,
            ev.liquidation_id,
            dedupe_key(ev),
        )
    if isinstance(ev, Trade):
        return "trades", (
            ev.exchange,
            ev.symbol,
            ev.side.value,
            ev.price,
            ev.size,
            exact_product(ev.price, ev.size),
            event_ts(ev.ts_exchange, ev.ts_local),
            ev.ts_local,
            ev.trade_id,
        )
    if isinstance(ev, Ticker):
        return "top_of_book", (
            ev.exchange,
            ev.symbol,
            ev.bid_price,
            ev.bid_size,
            ev.ask_price,
            ev.ask_size,
            event_ts(ev.ts_exchange, ev.ts_local),
            ev.ts_local,
        )
    if isinstance(ev, BookSnapshot):
        bp, bq = _best(ev.bids)
        ap, aq = _best(ev.asks)
        return "top_of_book", (
            ev.exchange,
            ev.symbol,
            bp,
            bq,
            ap,
            aq,
            event_ts(ev.ts_exchange, ev.ts_local),
            ev.ts_local,
        )
    if isinstance(ev, FundingRate):
        return "funding", (
            ev.exchange,
            ev.symbol,
            "funding",
            ev.rate,
            ev.next_funding_ts,
            ev.mark_price,
            None,
            None,
            event_ts(ev.ts_exchange, ev.ts_local),
            ev.ts_local,
        )
    if isinstance(ev, MarkPrice):
        return "funding", (
            ev.exchange,
            ev.symbol,
            "mark",
            None,
            None,
            ev.mark_price,
            ev.index_price,
            ev.open_interest,
            event_ts(ev.ts_exchange, ev.ts_local),
            ev.ts_local,
        )
    if isinstance(ev, ExchangeHealth):
        return "exchange_health", (
            ev.exchange,
            ev.connected,
            ev.healthy,
            ev.last_message_age_s,
            ev.msgs_per_s,
            ev.reconnects,
            ev.errors,
            ev.gaps,
            ev.resyncs,
            ev.books_live,
            ev.books_total,
            ev.detail,
            ev.ts_local,
        )
    return None


def row_key(table: str, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The natural key of ``row`` in ``table``."""
    return tuple(row[i] for i in _KEY_IDX[table])
