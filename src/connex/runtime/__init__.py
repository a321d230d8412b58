"""The driver: frames -> protocol -> books -> consumers. The only layer that joins
``exchanges``, ``book`` and ``transport``."""

from .consumers import EventStream
from .core import FeedCore, FeedCounters
from .feed import Feed
from .metrics import FeedMetrics, LatencyWindow
from .runner import Runner, coerce_endpoints

__all__ = [
    "EventStream",
    "Feed",
    "FeedCore",
    "FeedCounters",
    "FeedMetrics",
    "LatencyWindow",
    "Runner",
    "coerce_endpoints",
]
