"""The one exception tree of Connex.

::

    ConnexError
    ├── ConfigError                 bad configuration (names the field)
    ├── LocalProtocolError          we misused an API (bad symbol, unsupported channel)
    │   ├── UnknownSymbolError
    │   └── UnsupportedChannelError
    ├── RemoteProtocolError         the peer broke its protocol (malformed frame, bad reply)
    │   ├── MalformedFrameError
    │   └── ExchangeError           the exchange answered with an error message/code
    ├── BookIntegrityError          a sequence gap / checksum mismatch / crossed book
    ├── TransportError              network level; ``retryable`` tells the driver what to do
    │   ├── ConnectionClosedError
    │   └── RateLimitedError        HTTP 429/418 with ``retry_after`` seconds
    └── AuthError                   credentials refused (never retryable)

Sans-I/O layers raise ``LocalProtocolError``/``RemoteProtocolError``; the transport
translates library exceptions into ``TransportError`` at exactly one boundary.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BookIntegrityError",
    "ConfigError",
    "ConnectionClosedError",
    "ConnexError",
    "ExchangeError",
    "LocalProtocolError",
    "MalformedFrameError",
    "RateLimitedError",
    "RemoteProtocolError",
    "TransportError",
    "UnknownSymbolError",
    "UnsupportedChannelError",
]


class ConnexError(Exception):
    """Base of every error Connex raises on purpose."""

    retryable: bool = False


class ConfigError(ConnexError):
    """Invalid configuration; the message names the offending field."""


class LocalProtocolError(ConnexError):
    """The caller asked for something the protocol cannot do."""


class UnknownSymbolError(LocalProtocolError):
    """A symbol is not known to (or not valid on) the exchange."""


class UnsupportedChannelError(LocalProtocolError):
    """A channel is not offered by the exchange or market type."""


class RemoteProtocolError(ConnexError):
    """The remote side sent something that breaks its protocol."""

    retryable = True


class MalformedFrameError(RemoteProtocolError):
    """A frame could not be decoded; ``snippet`` holds its start."""

    def __init__(self, message: str, snippet: str = "") -> None:
        super().__init__(f"{message}: {snippet!r}" if snippet else message)
        self.snippet = snippet


class ExchangeError(RemoteProtocolError):
    """The exchange answered with an error (``code`` is the venue's own code)."""

    def __init__(self, message: str, code: str | int | None = None) -> None:
        super().__init__(message if code is None else f"{message} (code {code})")
        self.code = code


class BookIntegrityError(ConnexError):
    """A book failed a sequence, checksum or crossed-book check."""

    retryable = True


class TransportError(ConnexError):
    """A network-level failure."""

    retryable = True


class ConnectionClosedError(TransportError):
    """The connection closed (cleanly or not)."""


class RateLimitedError(TransportError):
    """The server rate-limited us; wait ``retry_after`` seconds before trying again."""

    def __init__(self, message: str, retry_after: float, status: int = 429) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class AuthError(ConnexError):
    """Credentials were refused. Never retryable, never echoes the secret."""
