"""Connex's normalized model: the contract between every layer.

It imports nothing else from ``connex``.
"""

from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all
from .events import *  # noqa: F403
from .events import __all__ as _events_all
from .symbols import MarketType, UnifiedSymbol, parse_symbol
from .types import *  # noqa: F403
from .types import __all__ as _types_all

__all__ = [*_types_all, *_events_all, *_errors_all, "MarketType", "UnifiedSymbol", "parse_symbol"]
