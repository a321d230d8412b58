"""MEXC connector (sans-I/O): spot v3 (protobuf market data, JSON control frames) and
USDT-margined futures (JSON "contract" API)."""

from .endpoints import PROD_ENDPOINTS
from .public import PublicSession

__all__ = ["PROD_ENDPOINTS", "PublicSession"]
