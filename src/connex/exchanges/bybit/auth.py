"""Bybit v5 request signing (HMAC-SHA256, lower-case hex).

- REST: prehash ``timestamp + apiKey + recvWindow + (queryString | rawJsonBody)``;
  headers ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP`` (ms), ``X-BAPI-SIGN``,
  ``X-BAPI-RECV-WINDOW``.
- WS auth: ``signature = hex(HMAC_SHA256(secret, "GET/realtime" + str(expires_ms)))``,
  sent as ``{"op":"auth","args":[apiKey, expires_ms, signature]}``.

Source: ../shared/protocols/bybit.md §6 (vectors Y1-Y3 are checked in
tests/unit/exchanges/test_bybit_auth.py).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["Credentials", "auth_args", "rest_headers", "sign"]


class Credentials:
    """API key and secret; the secret never appears in ``repr``/``str``."""

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


def rest_headers(
    creds: Credentials, timestamp_ms: int, payload: str, recv_window: int = 5000
) -> dict[str, str]:
    """Signed REST headers; ``payload`` is the query string (GET) or the raw JSON body (POST)."""
    ts = str(timestamp_ms)
    rw = str(recv_window)
    return {
        "X-BAPI-API-KEY": creds.api_key,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": rw,
        "X-BAPI-SIGN": creds.sign(ts + creds.api_key + rw + payload),
    }


def auth_args(creds: Credentials, expires_ms: int) -> list[object]:
    """``args`` of the WS ``auth`` op."""
    return [creds.api_key, expires_ms, creds.sign(f"GET/realtime{expires_ms}")]
