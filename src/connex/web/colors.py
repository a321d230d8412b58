"""Fixed dashboard colors per exchange (the same exchange is always the same color)."""

from __future__ import annotations

__all__ = ["EXCHANGE_COLORS", "FALLBACK_PALETTE", "exchange_colors"]

EXCHANGE_COLORS: dict[str, str] = {
    "binance": "#f0b90b",
    "bybit": "#e4572e",
    "okx": "#2e86de",
    "gateio": "#27ae60",
    "hyperliquid": "#8e44ad",
    "mexc": "#16a5a5",
}

# For exchanges without a fixed color, picked by a stable hash of the name.
FALLBACK_PALETTE = ["#7f8c8d", "#d35400", "#c0392b", "#2c3e50", "#f39c12", "#1abc9c"]


def exchange_colors(exchanges: list[str]) -> dict[str, str]:
    """Map every exchange to its color."""
    out: dict[str, str] = {}
    for name in exchanges:
        color = EXCHANGE_COLORS.get(name)
        if color is None:
            color = FALLBACK_PALETTE[sum(name.encode()) % len(FALLBACK_PALETTE)]
        out[name] = color
    return out
