"""I/O only: websocket sessions, REST calls, rate limits, backoff. Knows no exchange format."""

from .backoff import backoff, is_retryable
from .http import RestClient, WeightLimiter
from .ws import WsSession

__all__ = ["RestClient", "WeightLimiter", "WsSession", "backoff", "is_retryable"]
