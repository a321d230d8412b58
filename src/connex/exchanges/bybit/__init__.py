"""Bybit v5 spot and linear (USDT/USDC perpetual) public connector (sans-I/O)."""

from .endpoints import PROD_ENDPOINTS
from .public import PublicSession

__all__ = ["PROD_ENDPOINTS", "PublicSession"]
