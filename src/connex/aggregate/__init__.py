"""Aggregation over normalized events: liquidation merge, exchange health, consolidated book.

Everything here speaks only ``connex.model`` events, so it works with any exchange and
with events coming from the runtime, a replay, or the Connex gateway.
"""

from .consolidated import (
    ArbOpportunity,
    BasisQuote,
    ConsolidatedBook,
    ConsolidatedDepth,
    ConsolidatedLevel,
    ConsolidatedQuote,
    VenueQuote,
)
from .health import HealthTracker
from .liquidations import (
    Backoff,
    Deduper,
    EventStreamSource,
    LiquidationAggregator,
    LiquidationSource,
    RunnerSource,
    SourceState,
    SourceStatus,
    dedupe_key,
    normalize_liquidation,
)

__all__ = [
    "ArbOpportunity",
    "Backoff",
    "BasisQuote",
    "ConsolidatedBook",
    "ConsolidatedDepth",
    "ConsolidatedLevel",
    "ConsolidatedQuote",
    "Deduper",
    "EventStreamSource",
    "HealthTracker",
    "LiquidationAggregator",
    "LiquidationSource",
    "RunnerSource",
    "SourceState",
    "SourceStatus",
    "VenueQuote",
    "dedupe_key",
    "normalize_liquidation",
]
