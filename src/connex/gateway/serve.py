"""Running the gateway: an in-loop uvicorn server and the ``connex serve`` command.

``GatewayServer`` runs uvicorn inside the current event loop (beside the runner), on a
given or free port, and stops it cleanly; tests, the benchmark and ``serve_command``
all use it. ``serve_command`` loads the config file, builds the runner and the keys,
and serves until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from connex.model.errors import ConfigError

__all__ = ["GatewayServer", "build_runner", "load_keys", "load_settings", "serve_command"]

log = logging.getLogger("connex.gateway")


class GatewayServer:
    """uvicorn in the current loop. ``async with GatewayServer(app) as srv: srv.port``.

    ``send_buffer`` sets ``SO_SNDBUF`` (bytes) of client sockets. By default Linux lets a
    socket's send buffer grow to several MB, all of which a stalled client can hold
    before the gateway notices; a smaller value (e.g. 64 KiB) makes the slow-client
    policy act sooner and bounds kernel memory per client.
    """

    def __init__(
        self,
        app: FastAPI,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        send_buffer: int | None = None,
    ) -> None:
        self.app = app
        self.send_buffer = send_buffer
        self.host = host
        self.port = port
        self.log_level = log_level
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/v1/stream"

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.send_buffer:
            # inherited by accepted sockets: bounds the kernel memory a stalled client can
            # hold, so the gateway's own per-client queue policy takes over sooner
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._sock = sock
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            ws="websockets-sansio",
            ws_max_size=1 << 20,
            ws_ping_interval=20.0,
            ws_ping_timeout=20.0,
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task = asyncio.ensure_future(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                await self._task  # raises the startup error
                raise RuntimeError("gateway server stopped during startup")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 10)
        if self._sock is not None:
            self._sock.close()
        self._server = None
        self._task = None

    async def __aenter__(self) -> GatewayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait(self) -> None:
        """Run until the server stops (Ctrl-C in ``serve_command``)."""
        if self._task is not None:
            await self._task


def load_keys(raw: dict[str, Any]) -> Any:
    """The ``KeyStore`` from the ``gateway.keys`` section of a config file (or ``None``)."""
    from .keys import KeyStore

    entries = (raw.get("gateway") or {}).get("keys") or []
    if not isinstance(entries, list):
        raise ConfigError(
            "gateway.keys must be a list of {name, key_hash, exchanges, channels, rate, burst}"
        )
    return KeyStore.from_config(entries) if entries else None


def load_settings(config_path: str | Path | None) -> tuple[Any, dict[str, Any]]:
    """``ConnexSettings`` from the config file (its ``gateway`` section set aside) and the
    raw file contents (with ``gateway``)."""
    import yaml

    from connex.config import load_config

    raw: dict[str, Any] = {}
    if config_path is not None:
        try:
            raw = yaml.safe_load(Path(config_path).read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file {config_path} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {config_path} is not valid YAML: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {config_path}: the top level must be a mapping")
    rest = {k: v for k, v in raw.items() if k != "gateway"}
    return load_config(None, **rest), raw


def build_runner(config_path: str | Path | None) -> tuple[Any, dict[str, Any]]:
    """A ``Runner`` for the exchanges of the config file, and the raw file contents."""
    from connex.runtime import Runner

    settings, raw = load_settings(config_path)
    runner = Runner(
        proxy=settings.proxy, depth_cap=settings.depth_cap, stale_after=settings.stale_after
    )
    for name, ex in settings.exchanges.items():
        endpoints = {m: {"ws": e.ws, "rest": e.rest} for m, e in ex.endpoints.items()}
        runner.add(name, ex.symbols, ex.channels, endpoints=endpoints or None)
    return runner, raw


def serve_command(
    config_path: str | Path | None,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_mode: bool = False,
    *,
    extra_routers: Iterable[Any] = (),
    routers_for: Callable[[Any], Iterable[Any]] | None = None,
    send_buffer: int | None = 65536,
) -> int:
    """``connex serve``: run the runtime and the Connex API until interrupted; returns 0.

    ``extra_routers`` are mounted in the same app; ``routers_for(runner)`` may build more
    from the runner (e.g. ``connex.web.api.build_router`` with a health provider reading
    ``runner.health()``). Without keys in the config (``gateway.keys``) the gateway only
    starts with ``open_mode=True`` (``ConfigError`` otherwise).
    """
    from .app import create_app

    runner, raw = build_runner(config_path)
    keys = load_keys(raw)
    routers = [*extra_routers, *(routers_for(runner) if routers_for is not None else ())]
    app = create_app(runner, keys=keys, open_mode=open_mode, extra_routers=routers)

    async def main() -> None:
        server = GatewayServer(app, host, port, log_level="info", send_buffer=send_buffer)
        async with runner, server as srv:
            log.info("Connex API on %s (websocket %s)", srv.http_url, srv.ws_url)
            await srv.wait()

    try:
        import uvloop  # faster socket wake-ups for many clients; optional
    except ImportError:  # pragma: no cover - uvloop is not on every platform
        uvloop = None
    with contextlib.suppress(KeyboardInterrupt):
        if uvloop is not None:
            uvloop.run(main())
        else:
            asyncio.run(main())
    return 0
