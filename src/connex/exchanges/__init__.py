"""Sans-I/O exchange protocols, one folder per exchange with the same file names.

``REGISTRY`` maps an exchange id to its public protocol class; ``PROD_ENDPOINTS`` to its
production URLs. Both are filled lazily so importing one exchange does not import all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from connex.model.errors import ConfigError

if TYPE_CHECKING:
    from .base import MarketEndpoints, PublicProtocol

__all__ = ["EXCHANGES", "prod_endpoints", "protocol_class"]

#: Exchange ids with a native connector, in display order.
EXCHANGES: tuple[str, ...] = ("binance", "okx", "bybit", "gateio", "mexc", "hyperliquid")


def _module(exchange: str):  # type: ignore[no-untyped-def]
    if exchange not in EXCHANGES:
        raise ConfigError(f"unknown exchange {exchange!r}; valid exchanges: {', '.join(EXCHANGES)}")
    try:
        return importlib.import_module(f"connex.exchanges.{exchange}")
    except ModuleNotFoundError as exc:  # pragma: no cover - only while a venue is missing
        raise ConfigError(f"exchange {exchange!r} is not available in this build") from exc


def protocol_class(exchange: str) -> type[PublicProtocol]:
    """The public protocol class of ``exchange``."""
    return _module(exchange).PublicSession  # type: ignore[no-any-return]


def prod_endpoints(exchange: str) -> dict[str, MarketEndpoints]:
    """Production endpoints of ``exchange`` keyed by market (``spot``, ``linear``...)."""
    return dict(_module(exchange).PROD_ENDPOINTS)


def available_exchanges() -> list[str]:
    """Exchanges whose connector package is present."""
    out = []
    for name in EXCHANGES:
        try:
            importlib.import_module(f"connex.exchanges.{name}")
        except ModuleNotFoundError:
            continue
        out.append(name)
    return out
