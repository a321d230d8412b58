"""The Connex API: REST + websocket gateway over the runtime (FastAPI).

- ``create_app(runner, keys=..., open_mode=...)``: the app (``app.py``).
- ``KeyStore``/``hash_key``/``generate_key``: hashed API keys, permissions, rate limits
  (``keys.py``).
- ``Hub``: encode-once fan-out with per-client bounded queues (``stream.py``).
- ``GatewayServer``/``serve_command``: running it (``serve.py``).
- ``run_gateway_bench``: added latency and outbound message rate (``bench.py``).

The websocket protocol is documented in ``docs/api.md`` and defined in ``protocol.py``.
"""

from .app import GatewaySettings, create_app
from .keys import ApiKey, KeyStore, generate_key, hash_key
from .serve import GatewayServer, serve_command
from .stream import Hub

__all__ = [
    "ApiKey",
    "GatewayServer",
    "GatewaySettings",
    "Hub",
    "KeyStore",
    "create_app",
    "generate_key",
    "hash_key",
    "serve_command",
]
