"""REST client of the Connex API (httpx): status, exchanges, order book snapshots.

Retries: network errors, 5xx and 503 ("book resyncing") are retried up to
``config.max_retries`` times with exponential backoff and jitter; a 429 waits for the
server's ``Retry-After`` before retrying. 401/403 raise ``AuthError`` at once, a bad or
unknown symbol ``UnknownSymbolError``. Tests can pass an httpx ``transport``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from connex.model import BookSnapshot
from connex.model.errors import AuthError, RateLimitedError, TransportError, UnknownSymbolError
from connex.transport.backoff import backoff

from .config import ConnexConfig

__all__ = ["ConnexAPIError", "ConnexRESTClient"]

log = logging.getLogger("connex.client")


class ConnexAPIError(TransportError):
    """The gateway answered with an error status after all retries."""

    def __init__(self, message: str, status: int, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def path_symbol(symbol: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTC-USDT:USDT`` (the URL form the gateway accepts)."""
    return symbol.replace("/", "-")


class ConnexRESTClient:
    """REST client: ``async with ConnexRESTClient(cfg) as api: await api.orderbook(ex, sym)``."""

    def __init__(
        self,
        config: ConnexConfig | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config or ConnexConfig.from_env()
        headers = {"User-Agent": "connex-client"}
        if self.config.key:
            headers["X-Connex-Key"] = self.config.key
        self._http = httpx.AsyncClient(
            base_url=self.config.rest_url,
            headers=headers,
            timeout=httpx.Timeout(self.config.request_timeout, connect=self.config.connect_timeout),
            transport=transport,
        )
        self.retries = 0

    def __repr__(self) -> str:
        return f"ConnexRESTClient({self.config.rest_url!r})"

    async def __aenter__(self) -> ConnexRESTClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- endpoints --------------------------------------------------------------------
    async def status(self) -> dict[str, Any]:
        """``GET /v1/status``: service and per-exchange health."""
        return await self._get("/v1/status")

    async def exchanges(self) -> dict[str, Any]:
        """``GET /v1/exchanges``: exchanges, markets, channels, symbols."""
        return await self._get("/v1/exchanges")

    async def orderbook(self, exchange: str, symbol: str, depth: int | None = None) -> BookSnapshot:
        """``GET /v1/orderbook``: the verified book as a ``BookSnapshot`` (exact strings)."""
        params = {"depth": str(depth)} if depth else None
        body = await self._get(f"/v1/orderbook/{exchange}/{path_symbol(symbol)}", params)
        return BookSnapshot(
            exchange=body["exchange"],
            symbol=body["symbol"],
            bids=tuple((p, q) for p, q in body["bids"]),
            asks=tuple((p, q) for p, q in body["asks"]),
            sequence=int(body["sequence"]),
            ts_exchange=int(body.get("ts_exchange") or 0),
            ts_local=int(body.get("ts_local") or 0),
        )

    # -- plumbing ---------------------------------------------------------------------
    async def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        cfg = self.config
        delays = backoff(cfg.backoff_initial, 2.0, cfg.backoff_max)
        attempt = 0
        while True:
            try:
                resp = await self._http.get(path, params=params)
            except httpx.TransportError as exc:
                if attempt >= cfg.max_retries:
                    raise TransportError(f"GET {path}: {type(exc).__name__}: {exc}") from None
                attempt += 1
                self.retries += 1
                await asyncio.sleep(next(delays))
                continue
            if resp.status_code == 200:
                return resp.json()  # type: ignore[no-any-return]
            code, detail = _error_of(resp)
            status = resp.status_code
            if status in (401, 403):
                err = AuthError(f"GET {path}: {status} {code}: {detail}")
                err.status = status  # type: ignore[attr-defined]
                raise err
            if status in (400, 404):
                raise UnknownSymbolError(f"GET {path}: {status} {code}: {detail}")
            if status == 429:
                wait = _retry_after(resp, cfg.backoff_initial)
                if attempt >= cfg.max_retries:
                    raise RateLimitedError(f"GET {path}: rate limited: {detail}", retry_after=wait)
                log.info("GET %s rate limited; retrying in %.2f s", path, wait)
            elif status >= 500:
                if attempt >= cfg.max_retries:
                    raise ConnexAPIError(f"GET {path}: {status} {code}: {detail}", status, code)
                wait = next(delays)
            else:
                raise ConnexAPIError(f"GET {path}: {status} {code}: {detail}", status, code)
            attempt += 1
            self.retries += 1
            await asyncio.sleep(wait)


def _error_of(resp: httpx.Response) -> tuple[str, str]:
    try:
        body = resp.json()
        return str(body.get("error", "")), str(body.get("detail", ""))[:300]
    except Exception:
        return "", resp.text[:200]


def _retry_after(resp: httpx.Response, default: float) -> float:
    raw = resp.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else default
    except ValueError:
        return default
