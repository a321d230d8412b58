"""Reconnect delays and the retryable/fatal classifier (pure, no I/O)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import aiohttp

from connex.model.errors import AuthError, ConfigError, ConnexError, LocalProtocolError

__all__ = ["backoff", "is_retryable"]


def backoff(
    initial: float = 0.5,
    factor: float = 2.0,
    cap: float = 30.0,
    jitter: float = 0.25,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Exponential delays ``initial * factor**n`` capped at ``cap``, each spread by
    ``±jitter`` (a fraction) so that many clients do not reconnect in lockstep."""
    rnd = rng or random.Random()
    delay = initial
    while True:
        spread = delay * jitter
        yield max(0.0, delay + rnd.uniform(-spread, spread))
        delay = min(cap, delay * factor)


def is_retryable(exc: BaseException) -> bool:
    """True for network trouble and remote hiccups; False for our own mistakes."""
    if isinstance(exc, (AuthError, ConfigError, LocalProtocolError)):
        return False
    if isinstance(exc, ConnexError):
        return exc.retryable
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return exc.status not in (400, 401, 403, 404)
    return isinstance(exc, (OSError, asyncio.TimeoutError, aiohttp.ClientError, EOFError))
