"""OKX request signing (HMAC-SHA256, Base64).

- REST: ``sign = Base64(HMAC_SHA256(secret, timestamp + METHOD + requestPath + body))``
  with ``timestamp`` in ISO-8601 UTC with milliseconds (``2020-12-08T09:08:57.715Z``);
  ``requestPath`` includes the query string of a GET; headers ``OK-ACCESS-KEY``,
  ``OK-ACCESS-SIGN``, ``OK-ACCESS-TIMESTAMP``, ``OK-ACCESS-PASSPHRASE``.
- WS login: the same with ``timestamp`` = Unix **seconds**, ``GET`` and
  ``/users/self/verify``.

Source: ../shared/protocols/okx.md §6 (vectors O3-O5 are checked in
tests/unit/exchanges/test_okx_auth.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["Credentials", "login_args", "rest_headers", "sign"]


class Credentials:
    """API key, secret and passphrase; the secret and passphrase never appear in repr."""

    __slots__ = ("_passphrase", "_secret", "api_key")

    def __init__(self, api_key: str, secret: str, passphrase: str) -> None:
        self.api_key = api_key
        self._secret = secret.encode()
        self._passphrase = passphrase

    def __repr__(self) -> str:
        return f"Credentials(api_key='{self.api_key[:4]}…', secret=<hidden>, passphrase=<hidden>)"

    __str__ = __repr__

    def sign(self, prehash: str) -> str:
        return sign(self._secret, prehash)


def sign(secret: bytes, prehash: str) -> str:
    """Base64 of HMAC-SHA256(secret, prehash)."""
    return base64.b64encode(hmac.new(secret, prehash.encode(), hashlib.sha256).digest()).decode()


def rest_headers(
    creds: Credentials, timestamp: str, method: str, request_path: str, body: str = ""
) -> dict[str, str]:
    """Signed REST headers; ``timestamp`` is ISO-8601 with ms, e.g. ``2020-12-08T09:08:57.715Z``."""
    return {
        "OK-ACCESS-KEY": creds.api_key,
        "OK-ACCESS-SIGN": creds.sign(timestamp + method.upper() + request_path + body),
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": creds._passphrase,
        "Content-Type": "application/json",
    }


def login_args(creds: Credentials, timestamp_s: str) -> dict[str, str]:
    """The ``args`` entry of a WS ``login`` request (``timestamp_s`` = Unix seconds)."""
    return {
        "apiKey": creds.api_key,
        "passphrase": creds._passphrase,
        "timestamp": timestamp_s,
        "sign": creds.sign(timestamp_s + "GET/users/self/verify"),
    }
