"""Peers measured side by side with Connex in ``connex bench`` (when installed)."""

from __future__ import annotations

from typing import Any

__all__ = ["run_peers"]


def run_peers(messages: int, connex_rate: float) -> dict[str, Any]:
    """Placeholder until peers are wired: reports which are installed."""
    out: dict[str, Any] = {}
    for name, module in (("ccxt_pro", "ccxt.pro"), ("cryptofeed", "cryptofeed")):
        try:
            __import__(module)
            out[name] = {"skipped": "installed, measurement not wired yet"}
        except Exception as exc:
            out[name] = {"skipped": f"not installed ({exc.__class__.__name__})"}
    return out
