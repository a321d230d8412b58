"""Gate (gate.io) spot and USDT-settled perpetual connector (sans-I/O)."""

from .endpoints import PROD_ENDPOINTS
from .public import PublicSession

__all__ = ["PROD_ENDPOINTS", "PublicSession"]
