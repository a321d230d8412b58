"""OKX v5 spot, perpetual swap (and dated futures) public connector (sans-I/O)."""

from .endpoints import PROD_ENDPOINTS
from .public import PublicSession

__all__ = ["PROD_ENDPOINTS", "PublicSession"]
