"""MEXC spot REST request signing (HMAC-SHA256).

``totalParams`` is the query string immediately followed by the request body (no
separator); ``signature = lowercase hex HMAC_SHA256(secretKey, totalParams)``; the key
travels in the ``X-MEXC-APIKEY`` header; params include ``timestamp`` (ms) and optionally
``recvWindow`` (default 5000, max 60000). Source: ../shared/protocols/mexc.md §7 (the
official vectors are checked in tests/unit/exchanges/test_mexc_auth.py). Public market
data needs no signing; this module exists for the private session to come.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode

__all__ = ["API_KEY_HEADER", "Credentials", "sign", "sign_rest"]

API_KEY_HEADER = "X-MEXC-APIKEY"


class Credentials:
    """API key and secret. The secret never appears in ``repr``/``str``."""

    __slots__ = ("_secret", "api_key")

    def __init__(self, api_key: str, secret: str) -> None:
        self.api_key = api_key
        self._secret = secret.encode()

    def __repr__(self) -> str:
        return f"Credentials(api_key='{self.api_key[:4]}…', secret=<hidden>)"

    __str__ = __repr__

    def sign(self, payload: str) -> str:
        return sign(self._secret, payload)

    def headers(self) -> dict[str, str]:
        """Headers every signed request carries."""
        return {API_KEY_HEADER: self.api_key, "Content-Type": "application/json"}


def sign(secret: bytes, total_params: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``total_params``."""
    return hmac.new(secret, total_params.encode(), hashlib.sha256).hexdigest()


def sign_rest(creds: Credentials, query: Mapping[str, str], body: str = "") -> str:
    """Signed query string (``...&signature=...``) for a request with ``query`` and ``body``."""
    qs = urlencode(query)
    sig = creds.sign(qs + body)
    return f"{qs}&signature={sig}" if qs else f"signature={sig}"
