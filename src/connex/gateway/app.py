"""The Connex API as a FastAPI app: REST, the ``/v1/stream`` websocket and ``/metrics``.

``create_app(runner, keys=..., open_mode=...)`` builds the app around a running (or
about to run) ``connex.runtime.Runner``. On startup the app attaches its ``Hub`` to the
runner's events and seeds its book mirrors from the runner's live books; on shutdown
it detaches, so the same runner can outlive a gateway restart.

Authentication: REST requests send ``X-Connex-Key``; websocket clients send the same
header or, as their first message, ``{"op": "auth", "key": "..."}``. Refusals are JSON
``{"error": code, "detail": message}`` with 401 (no or unknown key), 403 (key lacks the
exchange/channel) or 429 (rate limit; ``Retry-After`` header). ``open_mode=True`` (local
demos) lets everything in. The presented key never appears in a response or a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import msgspec
from fastapi import APIRouter, FastAPI, Query, Request, WebSocket
from fastapi.responses import JSONResponse, Response
from starlette.websockets import WebSocketDisconnect
from websockets.protocol import State as WsState

from connex import __version__
from connex.model.errors import ConfigError, UnknownSymbolError

from .catalog import RunnerView
from .keys import AuthFailure, KeyStore, Principal, open_principal
from .metrics import HttpCounters, make_registry, render
from .protocol import OP_DECODER, PROTOCOL_VERSION, ServerMessage, encode, normalize_symbol, sub_key
from .stream import ClientConn, Hub, SubscribeError

__all__ = ["CLOSE_UNAUTHORIZED", "GatewaySettings", "create_app"]

log = logging.getLogger("connex.gateway")

KEY_HEADER = "X-Connex-Key"
#: Websocket close codes (4000-4999 are application codes).
CLOSE_UNAUTHORIZED = 4401
CLOSE_BAD_REQUEST = 4400
MAX_CLIENT_MESSAGE = 16_384


class GatewaySettings(msgspec.Struct, kw_only=True):
    """Tunables of the gateway (defaults suit a single-host deployment)."""

    max_queue: int = 2000
    heartbeat_s: float = 5.0
    auth_timeout_s: float = 10.0
    default_depth: int = 100
    max_rest_depth: int = 5000


def _error(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _auth_response(exc: AuthFailure) -> JSONResponse:
    headers = None
    if exc.status == 429:
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    elif exc.status == 401:
        headers = {"WWW-Authenticate": KEY_HEADER}
    return _error(exc.status, exc.code, exc.message, headers)


def create_app(
    runner: Any,
    *,
    keys: KeyStore | None,
    open_mode: bool,
    extra_routers: Iterable[APIRouter] = (),
    settings: GatewaySettings | None = None,
) -> FastAPI:
    """Build the Connex API app for ``runner`` (see the module docstring).

    Raises ``ConfigError`` when neither keys nor ``open_mode`` are given.
    """
    if not open_mode and (keys is None or len(keys) == 0):
        raise ConfigError(
            "the gateway needs API keys (gateway.keys in the config) or an explicit open_mode=True "
            "for local demos"
        )
    cfg = settings or GatewaySettings()
    view = RunnerView(runner)
    hub = Hub(view.has, max_queue=cfg.max_queue, heartbeat_s=cfg.heartbeat_s)
    http = HttpCounters()
    registry = make_registry(hub, view, http)
    started = time.time()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for ex, sym, book in view.live_books():
            hub.seed_book(ex, sym, book)
        view.attach(hub.publish)
        hub.start()
        log.info("gateway up (%s)", "open mode" if open_mode else f"{len(keys or ())} API key(s)")
        try:
            yield
        finally:
            view.detach()
            await hub.stop()

    app = FastAPI(title="Connex API", version=__version__, lifespan=lifespan)
    app.add_middleware(_RawSendTap)
    app.state.hub = hub
    app.state.view = view
    app.state.keys = keys
    app.state.settings = cfg

    def principal_for(request: Request) -> Principal:
        if open_mode:
            return open_principal()
        assert keys is not None
        p = keys.authenticate(request.headers.get(KEY_HEADER))
        p.charge()
        return p

    @app.exception_handler(AuthFailure)
    async def _on_auth_failure(request: Request, exc: AuthFailure) -> JSONResponse:
        http.auth_failure(exc.code)
        log.info("refused %s %s: %s (%s)", request.method, request.url.path, exc.code, exc.message)
        return _auth_response(exc)

    @app.middleware("http")
    async def _count(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        route = request.scope.get("route")
        http.response(getattr(route, "path", "other"), response.status_code)
        return response

    @app.get("/v1/status")
    async def status(request: Request) -> JSONResponse:
        """Service and per-exchange health."""
        p = principal_for(request)
        health = [msgspec.to_builtins(h) for h in view.health() if p.may_read(h.exchange)]
        ok = all(h["healthy"] for h in health) if health else False
        return JSONResponse(
            {
                "status": "ok" if ok else "degraded",
                "version": __version__,
                "protocol": PROTOCOL_VERSION,
                "uptime_s": round(time.time() - started, 3),
                "clients": len(hub.clients),
                "open_mode": open_mode,
                "exchanges": health,
            }
        )

    @app.get("/v1/exchanges")
    async def exchanges(request: Request) -> JSONResponse:
        """Exchanges, markets, channels and symbols this gateway serves."""
        p = principal_for(request)
        out = []
        for ex, symbols in sorted(view.catalog().items()):
            if not p.may_read(ex):
                continue
            markets = sorted({e["market"] for e in symbols.values()})
            channels = sorted({c for e in symbols.values() for c in e["channels"]})
            out.append(
                {
                    "exchange": ex,
                    "markets": markets,
                    "channels": channels,
                    "symbols": [
                        {"symbol": s, "market": e["market"], "channels": sorted(e["channels"])}
                        for s, e in sorted(symbols.items())
                    ],
                }
            )
        return JSONResponse({"exchanges": out})

    @app.get("/v1/orderbook/{exchange}/{symbol:path}")
    async def orderbook(
        request: Request, exchange: str, symbol: str, depth: int | None = Query(default=None, ge=1)
    ) -> JSONResponse:
        """The verified book with its sequence number; 503 while it is not live."""
        p = principal_for(request)
        exchange = exchange.lower()
        try:
            sym = normalize_symbol(symbol)
        except UnknownSymbolError as exc:
            return _error(400, "bad_symbol", str(exc))
        if exchange not in view.catalog():
            return _error(
                404,
                "unknown_exchange",
                f"exchange {exchange[:30]!r} is not served; served: {view.exchanges()}",
            )
        p.check(exchange, "orderbook")
        sync = view.book(exchange, sym) if view.has("orderbook", exchange, sym) else None
        if sync is None:
            return _error(
                404, "unknown_symbol", f"no order book for {exchange} {sym} (see GET /v1/exchanges)"
            )
        if not sync.is_live:
            m = hub.mirrors.get((exchange, sym))
            why = (
                f"{m.last_reset.reason.value}: {m.last_reset.detail}"
                if m and m.last_reset
                else "awaiting snapshot"
            )
            return _error(
                503,
                "book_not_live",
                f"{exchange} {sym} book is resyncing ({why}); retry shortly",
                headers={"Retry-After": "1"},
            )
        n = min(depth or cfg.default_depth, cfg.max_rest_depth)
        book = sync.book
        return JSONResponse(
            {
                "exchange": exchange,
                "symbol": sym,
                "sequence": book.sequence,
                "ts_exchange": book.ts_exchange,
                "ts_local": book.ts_local,
                "bids": book.bids(n),
                "asks": book.asks(n),
            }
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text format (public: no secrets, no per-key data)."""
        return Response(render(registry), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.websocket("/v1/stream")
    async def stream(ws: WebSocket) -> None:
        await _serve_stream(ws, hub, keys, open_mode, cfg, http)

    for router in extra_routers:
        app.include_router(router)
    return app


_RAW_SEND = "connex.raw_send"
_WS_OPEN = WsState.OPEN


class _RawSendTap:
    """Pure ASGI middleware: remembers the server's own ``send`` of a websocket scope.

    The stream writer uses it (``_direct_sender``) to skip the per-message ASGI layers.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            scope[_RAW_SEND] = send
        await self.app(scope, receive, send)


def _direct_sender(ws: WebSocket) -> tuple[Any, Any] | None:
    """Lean ``(send, (write, can_write))`` for uvicorn's ``websockets-sansio`` protocol,
    else ``None``.

    Market data is by far the gateway's busiest path: going through Starlette and the
    ASGI ``send`` dict per frame costs more than the frame itself. When the connection
    is served by uvicorn's sans-I/O websocket protocol, this writes the text frame with
    that protocol's own ``websockets`` connection object and transport, exactly as its
    ASGI ``websocket.send`` does (wait while the transport is paused, refuse after
    close), minus the layers in between; with no extension negotiated (no
    permessage-deflate) it frames the text itself (RFC 6455 5.2: FIN + text opcode,
    unmasked, 7/16/64-bit length), else it lets ``websockets`` frame it. Anything else
    (another server, a future uvicorn without these attributes) falls back to
    ``ws.send_text``. ``write`` (UTF-8 bytes) is the synchronous form the hub uses for
    its once-per-loop-iteration flush; ``can_write`` is False while uvicorn has paused
    the transport (its buffer above the high-water mark), and the hub then waits
    through ``send``.
    """
    raw = ws.scope.get(_RAW_SEND)
    proto = getattr(raw, "__self__", None)
    conn = getattr(proto, "conn", None)
    writable = getattr(proto, "writable", None)
    if (
        proto is None
        or conn is None
        or not isinstance(writable, asyncio.Event)
        or not hasattr(proto, "transport")
        or not hasattr(proto, "close_sent")
        or not hasattr(proto, "disconnected")
        or not callable(getattr(conn, "send_text", None))
        or not callable(getattr(conn, "data_to_send", None))
    ):
        return None

    transport = proto.transport

    def write(data: bytes) -> None:
        if proto.disconnected or proto.close_sent:
            raise ConnectionError("websocket closed")
        if conn.extensions or conn.state is not _WS_OPEN:
            conn.send_text(data)  # e.g. permessage-deflate negotiated: let websockets frame it
            transport.write(b"".join(conn.data_to_send()))
            return
        # RFC 6455 section 5.2: FIN + text opcode, unmasked (server to client), length
        n = len(data)
        if n < 126:
            transport.write(bytes((0x81, n)) + data)
        elif n < 65536:
            transport.write(b"\x81\x7e" + n.to_bytes(2, "big") + data)
        else:
            transport.write(b"\x81\x7f" + n.to_bytes(8, "big") + data)

    async def send(text: str) -> None:
        if not writable.is_set():
            await writable.wait()
        write(text.encode())

    return send, (write, writable.is_set)


async def _send_direct(ws: WebSocket, msg: ServerMessage) -> None:
    await ws.send_text(encode(msg))


async def _receive_text(ws: WebSocket, timeout: float | None = None) -> str | None:
    """Next text (or UTF-8 bytes) message, ``None`` on disconnect."""
    msg = await (asyncio.wait_for(ws.receive(), timeout) if timeout else ws.receive())
    if msg["type"] == "websocket.disconnect":
        return None
    text = msg.get("text")
    if text is None:
        raw = msg.get("bytes") or b""
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            return ""
    return text


async def _serve_stream(
    ws: WebSocket,
    hub: Hub,
    keys: KeyStore | None,
    open_mode: bool,
    cfg: GatewaySettings,
    http: HttpCounters,
) -> None:
    await ws.accept()
    peer = f"{ws.client.host}:{ws.client.port}" if ws.client else "?"
    principal: Principal | None = open_principal() if open_mode else None
    if principal is None:
        header = ws.headers.get(KEY_HEADER)
        if header:
            assert keys is not None
            try:
                principal = keys.authenticate(header)
            except AuthFailure as exc:
                await _refuse(ws, exc, http, peer)
                return
    auth = "open" if open_mode else ("ok" if principal else "required")
    await _send_direct(
        ws,
        ServerMessage(
            type="welcome", version=PROTOCOL_VERSION, auth=auth, heartbeat_s=cfg.heartbeat_s
        ),
    )
    try:
        if principal is None:
            assert keys is not None
            try:
                text = await _receive_text(ws, cfg.auth_timeout_s)
            except TimeoutError:
                await _refuse(
                    ws,
                    AuthFailure(
                        401, "unauthorized", f"no auth message within {cfg.auth_timeout_s:g} s"
                    ),
                    http,
                    peer,
                )
                return
            if text is None:
                return
            try:
                op = OP_DECODER.decode(text)
            except msgspec.DecodeError:
                op = None
            if op is None or op.op != "auth":
                await _refuse(
                    ws,
                    AuthFailure(
                        401,
                        "unauthorized",
                        'the first message must be {"op":"auth","key":...} '
                        "(or send the X-Connex-Key header)",
                    ),
                    http,
                    peer,
                )
                return
            try:
                principal = keys.authenticate(op.key)
            except AuthFailure as exc:
                await _refuse(ws, exc, http, peer)
                return
            await _send_direct(ws, ServerMessage(type="ack", op="auth", id=op.id))
    except WebSocketDisconnect:
        return

    async def close(code: int, reason: str) -> None:
        await ws.close(code, reason)

    lean = _direct_sender(ws)
    if lean is None:
        client = hub.connect(principal, ws.send_text, close, peer)
    else:
        client = hub.connect(principal, lean[0], close, peer, direct=lean[1])
    log.info("stream client connected: key %s from %s", principal.name, peer)
    try:
        while not client.closed:
            try:
                text = await _receive_text(ws)
            except (WebSocketDisconnect, RuntimeError):
                break
            if text is None:
                break
            _handle_op(client, hub, text, http)
    finally:
        await hub.disconnect(client)
        log.info(
            "stream client gone: key %s from %s (sent %d, resyncs %d%s)",
            principal.name,
            peer,
            client.sent,
            client.resyncs,
            f", {client.close_reason}" if client.close_reason else "",
        )


async def _refuse(ws: WebSocket, exc: AuthFailure, http: HttpCounters, peer: str) -> None:
    http.auth_failure(exc.code)
    log.info("stream refused from %s: %s (%s)", peer, exc.code, exc.message)
    with contextlib.suppress(Exception):
        await _send_direct(ws, ServerMessage(type="error", code=exc.code, reason=exc.message))
        await ws.close(CLOSE_UNAUTHORIZED if exc.status == 401 else 4000 + exc.status, exc.code)


def _handle_op(client: ClientConn, hub: Hub, text: str, http: HttpCounters) -> None:
    """Handle one client command; every problem becomes an ``error`` reply."""

    def error(code: str, reason: str, req_id: Any = None, retry_after: float | None = None) -> None:
        client.push(
            encode(
                ServerMessage(
                    type="error", id=req_id, code=code, reason=reason, retry_after=retry_after
                )
            )
        )

    if len(text) > MAX_CLIENT_MESSAGE:
        error("bad_request", f"message larger than {MAX_CLIENT_MESSAGE} bytes")
        return
    try:
        op = OP_DECODER.decode(text)
    except msgspec.ValidationError as exc:
        error("bad_request", f"malformed message: {exc}")
        return
    except msgspec.DecodeError:
        error("bad_request", "malformed message: not a JSON object")
        return
    try:
        client.principal.charge()
        if op.op == "subscribe":
            hub.subscribe(client, op.channel, op.exchange, op.symbol, op.depth, op.id)
        elif op.op == "unsubscribe":
            hub.unsubscribe(client, op.channel, op.exchange, op.symbol, op.id)
        elif op.op == "resync":
            key = sub_key("orderbook", str(op.exchange).lower(), normalize_symbol(str(op.symbol)))
            client.request_resync(key)
        elif op.op == "ping":
            client.push(encode(ServerMessage(type="pong", id=op.id, ts=time.time_ns())))
        elif op.op == "auth":
            client.push(encode(ServerMessage(type="ack", op="auth", id=op.id)))
        else:
            error(
                "bad_request",
                f"unknown op {op.op[:30]!r}; valid: auth, subscribe, unsubscribe, resync, ping",
                op.id,
            )
    except AuthFailure as exc:
        http.auth_failure(exc.code)
        error(exc.code, exc.message, op.id, exc.retry_after or None)
    except SubscribeError as exc:
        error(exc.code, exc.message, op.id)
    except UnknownSymbolError as exc:
        error("unknown_symbol", str(exc), op.id)
    except Exception:  # never let one client's message hurt the server
        log.exception("error handling a client op")
        error("internal", "internal error handling this message", op.id)
