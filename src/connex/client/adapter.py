"""Adapter from Connex books to the legacy dict format some trading systems expect.

::

    {"exchange": "binance", "symbol": "ETH/USDT",
     "bids": [["3000.10", "1.250"], ...], "asks": [["3000.20", "0.400"], ...],
     "timestamp": 1763782000123}

Number type: prices and quantities are **strings** holding the exact decimal text the
exchange sent (never floats: ``float("0.1") + float("0.2")`` is not ``0.3``); pass
``numbers="decimal"`` to get ``decimal.Decimal`` instead. Bids are best (highest) first,
asks best (lowest) first. ``timestamp`` is **milliseconds** since the epoch: the
exchange's event time when it sent one, else Connex's receive time. The symbol is the
unified symbol (``ETH/USDT`` spot, ``ETH/USDT:USDT`` linear perpetual).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from connex.book import L2Book
from connex.model import BookSnapshot

__all__ = ["ConnexOrderbookAdapter"]


class ConnexOrderbookAdapter:
    """Converts ``BookSnapshot``/``L2Book``/REST order book dicts to the legacy format."""

    @staticmethod
    def transform_to_legacy_format(
        book: BookSnapshot | L2Book | dict[str, Any],
        *,
        exchange: str | None = None,
        symbol: str | None = None,
        depth: int | None = None,
        numbers: Literal["str", "decimal"] = "str",
    ) -> dict[str, Any]:
        """Return ``{"exchange", "symbol", "bids", "asks", "timestamp"}`` (see module doc).

        ``exchange``/``symbol`` are required for an ``L2Book`` (it does not know them);
        ``depth`` limits the levels per side.
        """
        if isinstance(book, L2Book):
            if exchange is None or symbol is None:
                raise ValueError("transform_to_legacy_format(L2Book) needs exchange= and symbol=")
            bids: list[tuple[str, str]] | tuple[tuple[str, str], ...] = book.bids(depth)
            asks: list[tuple[str, str]] | tuple[tuple[str, str], ...] = book.asks(depth)
            ts_ex, ts_local = book.ts_exchange, book.ts_local
        elif isinstance(book, BookSnapshot):
            bids, asks = book.bids[:depth], book.asks[:depth]
            ts_ex, ts_local = book.ts_exchange, book.ts_local
            exchange = exchange or book.exchange
            symbol = symbol or book.symbol
        elif isinstance(book, dict):
            bids = [tuple(x) for x in book["bids"][:depth]]  # type: ignore[misc]
            asks = [tuple(x) for x in book["asks"][:depth]]  # type: ignore[misc]
            ts_ex, ts_local = int(book.get("ts_exchange") or 0), int(book.get("ts_local") or 0)
            exchange = exchange or book["exchange"]
            symbol = symbol or book["symbol"]
        else:
            raise TypeError(f"cannot convert {type(book).__name__} to the legacy book format")
        conv: Any = Decimal if numbers == "decimal" else str
        if numbers not in ("str", "decimal"):
            raise ValueError("numbers must be 'str' or 'decimal'")
        ts = ts_ex or ts_local
        return {
            "exchange": exchange,
            "symbol": symbol,
            "bids": [[conv(p), conv(q)] for p, q in bids],
            "asks": [[conv(p), conv(q)] for p, q in asks],
            "timestamp": ts // 1_000_000,
        }
