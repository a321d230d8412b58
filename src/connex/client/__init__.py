"""Python client of the Connex API, and the switch between direct connectors and it.

- ``ConnexConfig``: settings (``ConnexConfig.from_env()`` reads ``CONNEX_*``).
- ``ConnexRESTClient``: status, exchanges, order book snapshots (httpx, retries, 429).
- ``ConnexWebSocketClient``: the ``/v1/stream`` websocket, yielding ``connex.model``
  events (reconnect, resubscribe, gap detection and book resync).
- ``ConnexOrderbookAdapter``: books in the legacy ``{"bids": [[price, qty]], ...}`` format.
- ``open_source``: one setting (``source: direct | connex``, or ``CONNEX_ENABLED=1``)
  picks direct connectors or the gateway behind the same ``events()``/``book()`` API.
- ``run_compare``: both side by side, with discrepancies and added latency.
"""

from .adapter import ConnexOrderbookAdapter
from .compare import run_compare
from .config import ConnexConfig
from .rest import ConnexAPIError, ConnexRESTClient
from .source import ConnexSource, DirectSource, EventSource, SourceConfig, open_source
from .ws import ConnexWebSocketClient

__all__ = [
    "ConnexAPIError",
    "ConnexConfig",
    "ConnexOrderbookAdapter",
    "ConnexRESTClient",
    "ConnexSource",
    "ConnexWebSocketClient",
    "DirectSource",
    "EventSource",
    "SourceConfig",
    "open_source",
    "run_compare",
]
