"""Binance spot and USD-M futures connector (sans-I/O)."""

from .endpoints import PROD_ENDPOINTS
from .public import PublicSession

__all__ = ["PROD_ENDPOINTS", "PublicSession"]
