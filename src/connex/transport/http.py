"""REST calls with weight-based rate limiting, 429/418 + Retry-After, and proxies.

``RestClient`` executes ``HttpRequest`` descriptions built by the sans-I/O exchange
layer. The httpx transport is injectable (``transport=``), which is the seam tests use
when a real server cannot be had (here the simulator always can).
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import httpx

from connex.model.errors import ExchangeError, RateLimitedError, TransportError

__all__ = ["RequestLike", "RestClient", "WeightLimiter"]


class RequestLike(Protocol):
    """What ``RestClient.fetch`` needs (``connex.exchanges.base.HttpRequest`` fits)."""

    method: str
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    weight: int
    key: str


class WeightLimiter:
    """Token bucket per key: ``capacity`` weight refilled over ``period`` seconds.

    ``acquire(weight)`` waits until the weight fits. ``block_until`` holds every call
    after a 429/418 until the server's Retry-After has passed.
    """

    def __init__(self, capacity: float = 6000.0, period: float = 60.0) -> None:
        self.capacity = capacity
        self.rate = capacity / period
        self._tokens: dict[str, float] = {}
        self._stamp: dict[str, float] = {}
        self._blocked_until: dict[str, float] = {}

    def block_until(self, key: str, until: float) -> None:
        self._blocked_until[key] = max(self._blocked_until.get(key, 0.0), until)

    def delay_for(self, key: str, weight: float, now: float) -> float:
        """Seconds to wait before ``weight`` may be spent (0 = now); reserves it if 0."""
        blocked = self._blocked_until.get(key, 0.0) - now
        if blocked > 0:
            return blocked
        tokens = self._tokens.get(key, self.capacity)
        last = self._stamp.get(key, now)
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        self._stamp[key] = now
        if tokens >= weight:
            self._tokens[key] = tokens - weight
            return 0.0
        self._tokens[key] = tokens
        return (weight - tokens) / self.rate

    async def acquire(self, key: str, weight: float) -> None:
        while True:
            wait = self.delay_for(key, weight, time.monotonic())
            if wait <= 0:
                return
            await asyncio.sleep(wait)


class RestClient:
    """Executes request descriptions. Raises ``RateLimitedError`` on 429/418 (after
    blocking the limiter key), ``ExchangeError`` on other 4xx/5xx, ``TransportError``
    on network failures."""

    def __init__(
        self,
        *,
        proxy: str | None = None,
        timeout: float = 10.0,
        limiter: WeightLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.limiter = limiter or WeightLimiter()
        self._client = httpx.AsyncClient(proxy=proxy, timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, req: RequestLike) -> bytes:
        key = req.key or req.url
        await self.limiter.acquire(key, req.weight)
        try:
            resp = await self._client.request(
                req.method, req.url, params=req.params, headers=req.headers
            )
        except httpx.HTTPError as exc:
            raise TransportError(f"{req.method} {req.url}: {exc!r}") from exc
        if resp.status_code in (429, 418):
            retry_after = _retry_after(resp.headers.get("Retry-After"))
            self.limiter.block_until(key, time.monotonic() + retry_after)
            raise RateLimitedError(
                f"{req.url} answered {resp.status_code}; retry after {retry_after:g}s",
                retry_after=retry_after,
                status=resp.status_code,
            )
        if resp.status_code >= 400:
            raise ExchangeError(
                f"{req.method} {req.url} answered {resp.status_code}: {resp.text[:200]}",
                code=resp.status_code,
            )
        return resp.content


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 1.0
    except ValueError:
        return 1.0
