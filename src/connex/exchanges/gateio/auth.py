"""Gate request signing (HMAC-SHA512, lower-case hex).

- REST: ``SIGN = hex(HMAC_SHA512(secret, METHOD\\nPATH\\nQUERY\\nhex(SHA512(body))\\nTIMESTAMP))``;
  ``PATH`` includes ``/api/v4``, ``QUERY`` is raw (not URL-encoded) in request order,
  ``""`` when empty; an empty body hashes ``""``. Headers ``KEY``, ``Timestamp``, ``SIGN``.
- WS channel auth: ``SIGN`` of ``channel=<channel>&event=<event>&time=<time>``.
- WS trading-API login: signature of ``api\\n<channel>\\n<req_param>\\n<timestamp>``.

Source: ../shared/protocols/gateio.md §6 (the official REST test vectors and two
constructed WS vectors are checked in tests/unit/exchanges/test_gateio_auth.py).
The caller passes every timestamp: this module never reads the clock.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "Credentials",
    "body_hash",
    "rest_headers",
    "rest_sign_payload",
    "sign",
    "ws_channel_auth",
    "ws_login_signature",
]


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
    """Lower-case hex HMAC-SHA512 of ``payload``."""
    return hmac.new(secret, payload.encode(), hashlib.sha512).hexdigest()


def body_hash(body: str) -> str:
    """Hex SHA-512 of the request body (``""`` for none)."""
    return hashlib.sha512(body.encode()).hexdigest()


def rest_sign_payload(method: str, path: str, query: str, body: str, timestamp: int | str) -> str:
    """The string Gate signs for a REST call."""
    return f"{method.upper()}\n{path}\n{query}\n{body_hash(body)}\n{timestamp}"


def rest_headers(
    creds: Credentials, method: str, path: str, query: str, body: str, timestamp: int | str
) -> dict[str, str]:
    """``KEY``/``Timestamp``/``SIGN`` headers for a signed REST call."""
    return {
        "KEY": creds.api_key,
        "Timestamp": str(timestamp),
        "SIGN": creds.sign(rest_sign_payload(method, path, query, body, timestamp)),
    }


def ws_channel_auth(creds: Credentials, channel: str, event: str, time_s: int) -> dict[str, str]:
    """The ``auth`` object of a private subscribe/unsubscribe request."""
    return {
        "method": "api_key",
        "KEY": creds.api_key,
        "SIGN": creds.sign(f"channel={channel}&event={event}&time={time_s}"),
    }


def ws_login_signature(
    creds: Credentials, channel: str, timestamp: int | str, req_param: str = ""
) -> str:
    """Signature of a WS trading-API request (``spot.login``/``futures.login``: empty param)."""
    return creds.sign(f"api\n{channel}\n{req_param}\n{timestamp}")
