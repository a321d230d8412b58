"""Run an ASGI app with uvicorn on a loopback port in a background thread.

Used by the browser tests and the HTTP load benchmark: a real server on
``127.0.0.1:<free port>``, started and stopped from synchronous or async code.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

__all__ = ["LoopbackServer"]


class LoopbackServer:
    """``with LoopbackServer(app) as srv: httpx.get(srv.url + "/exchanges")``.

    Args:
        app: the ASGI app.
        host: interface to bind (loopback by default).
        port: 0 picks a free port; the bound one is in ``port`` / ``url`` once started.
        **config: extra ``uvicorn.Config`` options.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        config.setdefault("log_level", "warning")
        config.setdefault("lifespan", "off")
        config.setdefault("access_log", False)
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **config))
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43123``."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> LoopbackServer:
        """Start serving; returns once the socket accepts connections."""
        self._thread = threading.Thread(
            target=self._server.run, name="uvicorn-loopback", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("uvicorn exited during startup")
            if time.monotonic() > deadline:
                raise TimeoutError("uvicorn did not start")
            time.sleep(0.01)
        sockets = [s for srv in self._server.servers for s in srv.sockets]
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
