"""Hyperliquid perpetuals connector (sans-I/O): full-snapshot books, trades, bbo, funding,
and liquidations of watched addresses."""

from .endpoints import PROD_ENDPOINTS, TESTNET_ENDPOINTS
from .public import PublicSession

__all__ = ["PROD_ENDPOINTS", "TESTNET_ENDPOINTS", "PublicSession"]
