"""Binance request signing (HMAC-SHA256).

REST: ``signature = hex(HMAC_SHA256(secret, query + body))`` with no separator between
query string and body; non-ASCII must be percent-encoded before signing.
WS-API: all params except ``signature`` sorted by name, joined ``k=v`` with ``&`` (raw
UTF-8, no percent-encoding). Source: ../shared/protocols/binance.md §6 (test vectors
B1-B8 are checked in tests/unit/exchanges/test_binance_auth.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode

__all__ = ["Credentials", "sign", "sign_rest", "sign_ws_params"]


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


def sign(secret: bytes, payload: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``payload``."""
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def sign_rest(creds: Credentials, params: Mapping[str, str], body: str = "") -> str:
    """Signed query string for a REST call (``...&signature=...``)."""
    query = urlencode(params)
    return f"{query}&signature={creds.sign(query + body)}"


def sign_ws_params(creds: Credentials, params: Mapping[str, str]) -> str:
    """Signature for a WS-API request's ``params`` (sorted ``k=v`` joined by ``&``)."""
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
    return creds.sign(payload)
