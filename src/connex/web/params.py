"""Query-parameter parsing for the web API: times, durations, price bins, exchange lists.

Every parser raises :class:`ParamError` naming the offending field; the router turns it
into a ``422`` whose body has the same shape as FastAPI's own validation errors
(``{"detail": [{"loc": ["query", field], "msg": ..., "type": ...}]}``), so a client
handles both the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

__all__ = [
    "ParamError",
    "UnknownExchangeError",
    "parse_exchanges",
    "parse_interval",
    "parse_positive_decimal",
    "parse_time",
]

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


class ParamError(ValueError):
    """A query parameter could not be parsed (answered with 422)."""

    def __init__(self, field: str, message: str, value: object = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.value = value

    def detail(self) -> list[dict[str, object]]:
        """FastAPI-compatible validation error list."""
        item: dict[str, object] = {
            "loc": ["query", self.field],
            "msg": self.message,
            "type": "value_error",
        }
        if self.value is not None:
            item["input"] = str(self.value)
        return [item]


class UnknownExchangeError(ValueError):
    """An exchange name that this deployment does not serve (answered with 400)."""

    def __init__(self, unknown: list[str], valid: list[str]) -> None:
        names = ", ".join(repr(u) for u in unknown)
        super().__init__(
            f"unknown exchange {names}; valid exchanges: {', '.join(valid)}",
        )
        self.unknown = unknown
        self.valid = valid


def parse_time(field: str, value: str | None, default_ns: int | None) -> int | None:
    """Parse a time bound into nanoseconds since the Unix epoch.

    Accepts an integer (nanoseconds since the epoch) or an ISO-8601 timestamp
    (``2026-11-22T05:00:00Z``; a timestamp without an offset is taken as UTC).
    """
    if value is None or value == "":
        return default_ns
    text = value.strip()
    if text.lstrip("-").isdigit():
        ns = int(text)
        if ns < 0:
            raise ParamError(field, "must not be negative", value)
        return ns
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ParamError(
            field, "expected nanoseconds since the epoch or an ISO-8601 timestamp", value
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    # Whole microseconds from datetime, exact integer arithmetic from there on.
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def parse_interval(field: str, value: str | None, default_s: int) -> int:
    """Parse a bucket width: whole seconds, or ``30s``/``5m``/``1h``/``1d``."""
    if value is None or value == "":
        return default_s
    m = _DURATION.match(value)
    if not m:
        raise ParamError(field, "expected seconds or a duration like 30s, 5m, 1h", value)
    seconds = int(m.group(1)) * _UNIT_S[m.group(2)]
    if seconds <= 0:
        raise ParamError(field, "must be greater than zero", value)
    return seconds


def parse_positive_decimal(field: str, value: str | None) -> Decimal | None:
    """Parse an exact positive decimal (``None`` when absent)."""
    if value is None or value == "":
        return None
    try:
        d = Decimal(value.strip())
    except InvalidOperation:
        raise ParamError(field, "expected a decimal number", value) from None
    if not d.is_finite() or d <= 0:
        raise ParamError(field, "must be a finite number greater than zero", value)
    return d


def parse_exchanges(value: str | None, valid: list[str]) -> list[str]:
    """Parse ``binance,bybit`` into a list; empty means every valid exchange.

    Raises:
        UnknownExchangeError: a name is not in ``valid``.
    """
    if value is None or value.strip() == "":
        return list(valid)
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise UnknownExchangeError(unknown, valid)
    # Keep the order the caller gave, drop duplicates.
    return list(dict.fromkeys(names))
