"""Callback-driven websocket client on picows (Cython): the fast path for market data.

Frames are handed to ``on_message`` synchronously from the socket read callback, one
call per complete message, with no task switch per frame (see ../shared/PERF-NOTES.md:
about 2M frames/s receive-only here, against ~1M for aiohttp). Fragmented messages are
reassembled; pings are answered by picows. The payload is copied out of picows' read
buffer before the callback (``str`` for text, ``bytes`` for binary).

``aiohttp`` (``ws.WsSession``) stays the path for proxies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from connex.model.errors import ConnectionClosedError, TransportError

__all__ = ["FastWsSession", "available"]

try:
    import picows
    from picows import WSListener, WSMsgType
except ImportError:  # pragma: no cover - picows is a declared dependency
    picows = None
    WSListener = object  # type: ignore[assignment,misc]


def available() -> bool:
    """True when picows is importable."""
    return picows is not None


class _Listener(WSListener):  # type: ignore[misc]
    def __init__(self, on_message: Callable[[str | bytes], None], text_as_bytes: bool) -> None:
        self.on_message = on_message
        self.text_as_bytes = text_as_bytes
        self.fragments: list[bytes] = []
        self.fragment_binary = False
        self.close_code: int | None = None

    def on_ws_frame(self, transport, frame) -> None:  # type: ignore[no-untyped-def]
        t = frame.msg_type
        if t is WSMsgType.TEXT or t is WSMsgType.BINARY:
            if frame.fin:
                if t is WSMsgType.BINARY or self.text_as_bytes:
                    self.on_message(frame.get_payload_as_bytes())
                else:
                    self.on_message(frame.get_payload_as_utf8_text())
            else:
                self.fragments = [frame.get_payload_as_bytes()]
                self.fragment_binary = t is WSMsgType.BINARY
        elif t is WSMsgType.CONTINUATION:
            self.fragments.append(frame.get_payload_as_bytes())
            if frame.fin:
                data = b"".join(self.fragments)
                self.fragments = []
                binary = self.fragment_binary or self.text_as_bytes
                self.on_message(data if binary else data.decode("utf-8"))
        elif t is WSMsgType.CLOSE:
            self.close_code = frame.get_close_code()
            transport.send_close(frame.get_close_code())
            transport.disconnect()


class FastWsSession:
    """One picows connection: ``await connect()``, ``send()``, ``close()``, ``wait_closed()``."""

    def __init__(
        self,
        url: str,
        on_message: Callable[[str | bytes], None],
        *,
        connect_timeout: float = 10.0,
        text_as_bytes: bool = False,
    ) -> None:
        self.url = url
        self.text_as_bytes = text_as_bytes
        self._on_message = on_message
        self.connect_timeout = connect_timeout
        self._transport = None
        self._listener: _Listener | None = None

    async def connect(self) -> None:
        if picows is None:  # pragma: no cover
            raise TransportError("picows is not installed")
        try:
            self._transport, self._listener = await asyncio.wait_for(
                picows.ws_connect(
                    lambda: _Listener(self._on_message, self.text_as_bytes),
                    self.url,
                    websocket_handshake_timeout=self.connect_timeout,
                    enable_auto_pong=True,
                    max_frame_size=64 * 1024 * 1024,
                ),
                self.connect_timeout + 1,
            )
        except (OSError, TimeoutError, picows.WSError) as exc:
            err = TransportError(f"cannot connect to {self.url}: {exc}")
            status = getattr(getattr(exc, "response", None), "status", None)
            if status is not None and int(status) in (400, 401, 403, 404):
                err.retryable = False
            raise err from exc

    def send(self, text: str) -> None:
        """Queue a text frame (never blocks)."""
        if self._transport is None or self._transport.is_disconnected:
            raise ConnectionClosedError(f"{self.url}: send on a closed connection")
        self._transport.send(WSMsgType.TEXT, text.encode())

    def pause_reading(self) -> None:
        if self._transport is not None:
            self._transport.underlying_transport.pause_reading()

    def resume_reading(self) -> None:
        if self._transport is not None:
            self._transport.underlying_transport.resume_reading()

    async def wait_closed(self) -> None:
        """Return when the connection is closed; raises ``ConnectionClosedError``."""
        assert self._transport is not None
        try:
            await self._transport.wait_disconnected()
        except Exception as exc:  # an exception raised by our own callback ends up here
            raise ConnectionClosedError(f"{self.url}: {exc!r}") from exc
        code = self._listener.close_code if self._listener else None
        raise ConnectionClosedError(f"{self.url} closed ({code})")

    async def close(self) -> None:
        t = self._transport
        if t is not None and not t.is_disconnected:
            with contextlib.suppress(Exception):
                t.send_close()
            t.disconnect()
