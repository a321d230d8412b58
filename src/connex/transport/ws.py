"""Websocket client sessions (aiohttp), with HTTP and SOCKS proxy support.

The session moves bytes only: it knows no exchange format. Library exceptions are
translated into ``connex`` errors here, at one boundary. Server ping frames are
answered automatically (``autoping``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import TracebackType

import aiohttp

from connex.model.errors import ConnectionClosedError, TransportError

__all__ = ["WsSession", "make_session"]


def make_session(proxy: str | None = None) -> aiohttp.ClientSession:
    """An aiohttp session; SOCKS proxies go through a connector, HTTP ones per request."""
    if proxy and proxy.startswith("socks"):
        from aiohttp_socks import ProxyConnector

        return aiohttp.ClientSession(connector=ProxyConnector.from_url(proxy))
    return aiohttp.ClientSession()


class WsSession:
    """One websocket connection. ``async with WsSession(url) as ws: await ws.recv()``."""

    def __init__(
        self,
        url: str,
        *,
        proxy: str | None = None,
        connect_timeout: float = 10.0,
        max_msg_size: int = 64 * 1024 * 1024,
    ) -> None:
        self.url = url
        self.proxy = proxy
        self.connect_timeout = connect_timeout
        self.max_msg_size = max_msg_size
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> WsSession:
        self._session = make_session(self.proxy)
        http_proxy = self.proxy if self.proxy and not self.proxy.startswith("socks") else None
        try:
            self._ws = await self._session.ws_connect(
                self.url,
                proxy=http_proxy,
                autoping=True,
                heartbeat=None,
                max_msg_size=self.max_msg_size,
                timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
                compress=0,
            )
        except aiohttp.WSServerHandshakeError as exc:
            await self._session.close()
            err = TransportError(
                f"cannot connect to {self.url}: handshake answered {exc.status} {exc.message}"
            )
            # a wrong path or a refused request will not fix itself by retrying
            err.retryable = exc.status not in (400, 401, 403, 404)
            raise err from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self._session.close()
            raise TransportError(f"cannot connect to {self.url}: {exc}") from exc
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()

    async def recv(self) -> str | bytes:
        """Next text or binary frame; raises ``ConnectionClosedError`` when closed."""
        ws = self._ws
        assert ws is not None
        msg = await ws.receive()
        t = msg.type
        if t is aiohttp.WSMsgType.TEXT or t is aiohttp.WSMsgType.BINARY:
            return msg.data  # type: ignore[no-any-return]
        if t is aiohttp.WSMsgType.ERROR:
            raise ConnectionClosedError(f"{self.url}: {ws.exception()}")
        raise ConnectionClosedError(f"{self.url} closed ({ws.close_code})")

    async def frames(self) -> AsyncIterator[str | bytes]:
        while True:
            yield await self.recv()

    async def send(self, text: str) -> None:
        assert self._ws is not None
        try:
            await self._ws.send_str(text)
        except (ConnectionError, RuntimeError) as exc:
            raise ConnectionClosedError(f"{self.url}: send failed: {exc}") from exc
