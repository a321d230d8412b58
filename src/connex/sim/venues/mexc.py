"""Simulated MEXC spot v3 and futures venues (written independently of the connector).

Wire behaviour reproduced (../shared/protocols/mexc.md §1-§4, §10):

- REST ``GET /api/v3/depth?symbol=BTCUSDT&limit=N`` (default 100, max 5000) ->
  ``{"lastUpdateId", "bids", "asks", "timestamp"}``; ``/api/v3/exchangeInfo``,
  ``/api/v3/ping``, ``/api/v3/time``; 429 + ``Retry-After`` on the HTTP_429 fault.
- Websocket ``/ws``: JSON ``SUBSCRIPTION``/``UNSUBSCRIPTION`` with the ack
  ``{"id":N,"code":0,"msg":"<channels, comma-joined>"}``; unknown, lower-case or
  excess (more than ``max_subscriptions``, 30) channels are refused with
  ``Not Subscribed successfully! [...]  Reason： Blocked! `` (code stays 0);
  ``{"method":"PING"}`` -> ``{"id":0,"code":0,"msg":"PONG"}``.
- Connection rules: a connection without a valid subscription is closed after
  ``idle_timeout`` seconds (MEXC: 30 s; tests use 1 s); a connection on which nothing
  was sent or received for ``silent_timeout`` seconds is closed (MEXC: 60 s); more than
  ``max_messages_per_s`` client messages in one second closes the connection (100).
- Market data as **binary protobuf** ``PushDataV3ApiWrapper`` frames:
  ``publicAggreDepths`` (313) with contiguous ``fromVersion``/``toVersion`` (decimal
  strings; each change of a level consumes one version), ``publicAggreDeals`` (314,
  ``tradeType`` 1 = taker buy, 2 = taker sell, with ``tradeId``), and
  ``publicAggreBookTicker`` (315) when the top of book changes. One push per market
  step for both the ``100ms`` and ``10ms`` channel variants.
- Faults: the base class handles DROP / DUPLICATE / REORDER / MALFORMED (an invalid
  protobuf frame) / STALL / DISCONNECT / HTTP_429; SEQ_GAP skips one version.

Futures (``MexcFuturesVenue``, ../shared/protocols/mexc.md §5): websocket ``/edge`` with
JSON ``sub.depth`` / ``sub.deal`` / ``sub.funding.rate`` / ``sub.fair.price`` /
``sub.ticker`` (and ``unsub.*``) acknowledged ``{"channel":"rs.sub.depth","data":
"success","ts":ms}``, unknown contracts answered ``{"channel":"rs.error","data":"Contract
doesn't exist!"}``, ``{"method":"ping"}`` -> ``{"channel":"pong","data":ms}``, and a
connection that sends nothing for ``ping_timeout`` seconds (60) is closed. ``push.depth``
carries ``[price, contracts, orders]`` levels as JSON numbers and one ``version`` per
market step (``begin``/``end`` too unless subscribed with ``compress: false``);
``push.deal`` an array of ``{p, v, T, O, M, t}``. One contract is one lot of the market
model (``contractSize = 10**-size_decimals``: 0.0001 BTC, as on MEXC). REST
``GET /api/v1/contract/depth/{symbol}`` (``{"success","code","data":{..., "version"}}``)
and ``/api/v1/contract/detail``. SEQ_GAP skips one version; MALFORMED sends broken JSON.

The protobuf encoder below is hand-written from the field table (a few lines of varint
and length-delimited encoding); it shares nothing with the connector's generated code,
and tests check it byte for byte against the constructed vectors in mexc.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ..faults import Fault
from ..market import MarketModel, MarketStep
from ..venue import SimConnection, Venue

__all__ = [
    "MexcFuturesVenue",
    "MexcSpotVenue",
    "encode_aggre_book_ticker",
    "encode_aggre_deals",
    "encode_aggre_depth",
    "encode_wrapper",
]


# -- protobuf encoding (proto3 wire format) ----------------------------------------------
_ONE_BYTE = [bytes([i]) for i in range(128)]


def _varint(n: int) -> bytes:
    if 0 <= n < 128:
        return _ONE_BYTE[n]
    n &= 0xFFFFFFFFFFFFFFFF  # int64 negatives are ten-byte two's complement
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _str_field(number: int, value: str) -> bytes:
    return _len_field(number, value.encode()) if value else b""  # "" is the default: omitted


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""  # 0 is the default: omitted


def _level(price: str, qty: str) -> bytes:
    """A depth item (price 1, quantity 2); ASCII decimal strings shorter than 128 bytes
    take the short path (one key byte, one length byte)."""
    if len(price) < 128 and len(qty) < 128 and price and qty:
        return (
            b"\x0a"
            + _ONE_BYTE[len(price)]
            + price.encode()
            + b"\x12"
            + _ONE_BYTE[len(qty)]
            + qty.encode()
        )
    return _str_field(1, price) + _str_field(2, qty)


def encode_aggre_depth(
    asks: list[tuple[str, str]],
    bids: list[tuple[str, str]],
    event_type: str,
    from_version: int,
    to_version: int,
) -> bytes:
    """``PublicAggreDepthsV3Api``: asks 1, bids 2, eventType 3, fromVersion 4, toVersion 5."""
    body = b"".join([_len_field(1, _level(p, q)) for p, q in asks])
    body += b"".join([_len_field(2, _level(p, q)) for p, q in bids])
    return (
        body
        + _str_field(3, event_type)
        + _str_field(4, str(from_version))
        + _str_field(5, str(to_version))
    )


def encode_aggre_deals(deals: list[tuple[str, str, int, int, str]], event_type: str) -> bytes:
    """``PublicAggreDealsV3Api``: deals 1 (price 1, quantity 2, tradeType 3, time 4,
    tradeId 5), eventType 2."""
    body = b"".join(
        _len_field(
            1,
            _str_field(1, p)
            + _str_field(2, q)
            + _int_field(3, tt)
            + _int_field(4, t)
            + _str_field(5, tid),
        )
        for p, q, tt, t, tid in deals
    )
    return body + _str_field(2, event_type)


def encode_aggre_book_ticker(
    bid: str, bid_qty: str, ask: str, ask_qty: str, version: int = 0
) -> bytes:
    """``PublicAggreBookTickerV3Api``: bidPrice 1, bidQuantity 2, askPrice 3, askQuantity 4,
    version 5."""
    return (
        _str_field(1, bid)
        + _str_field(2, bid_qty)
        + _str_field(3, ask)
        + _str_field(4, ask_qty)
        + (_str_field(5, str(version)) if version else b"")
    )


#: wrapper oneof field numbers
BODY_DEPTH = 313
BODY_DEALS = 314
BODY_BOOK_TICKER = 315


def encode_wrapper(
    channel: str, symbol: str, send_time: int, body_field: int, body: bytes
) -> bytes:
    """``PushDataV3ApiWrapper``: channel 1, symbol 3, sendTime 6, body oneof (fields in
    number order, as protobuf serializers write them)."""
    return (
        _str_field(1, channel)
        + _str_field(3, symbol)
        + _int_field(6, send_time)
        + _len_field(body_field, body)
    )


# -- the venue ----------------------------------------------------------------------------
_CHANNEL = re.compile(
    r"spot@public\.aggre\.(depth|deals|bookTicker)\.v3\.api\.pb@(100ms|10ms)@([A-Z0-9]+)"
)
_REFUSED = "Not Subscribed successfully! [{}].  Reason： Blocked! "
#: the first version number handed out (MEXC versions are large int64 values)
FIRST_VERSION = 10_589_632_000


def _venue_symbol(unified: str) -> str:
    base, quote = unified.split("/")
    return base + quote.split(":")[0]


class MexcSpotVenue(Venue):
    """MEXC spot: protobuf pushes, JSON control. See the module docstring.

    Args:
        models: unified symbol -> market model.
        idle_timeout: seconds a connection may live without a valid subscription (30).
        silent_timeout: seconds without traffic in either direction before a close (60).
        max_subscriptions: subscriptions per connection (30); extra ones are refused.
        max_messages_per_s: client messages per second before a disconnect (100).
        ping_timeout: a futures option, accepted and ignored (``SimServer`` hands one
            option dict to both MEXC venues).
    """

    exchange: ClassVar[str] = "mexc"
    market: ClassVar[str] = "spot"

    def __init__(
        self,
        models: dict[str, MarketModel],
        *,
        idle_timeout: float = 30.0,
        silent_timeout: float = 60.0,
        max_subscriptions: int = 30,
        max_messages_per_s: int = 100,
        ping_timeout: float = 60.0,
    ) -> None:
        self.idle_timeout = idle_timeout
        self.silent_timeout = silent_timeout
        self.max_subscriptions = max_subscriptions
        self.max_messages_per_s = max_messages_per_s
        self.by_venue = {_venue_symbol(s): s for s in models}
        self.version: dict[str, int] = dict.fromkeys(models, FIRST_VERSION)
        self._top: dict[str, tuple[int, int, int, int]] = {}
        self._last_ts: dict[str, int] = {}
        self.idle_closes = 0
        self.rate_closes = 0
        super().__init__(models)

    def malformed_frame(self) -> str | bytes:
        # a wrapper whose channel field claims 2**21 - 1 bytes: not valid protobuf
        return b"\x0a\xff\xff\x7f\x00"

    # -- routes -------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v3/depth", self.rest_depth)
        app.router.add_get("/api/v3/exchangeInfo", self.rest_exchange_info)
        app.router.add_get("/api/v3/ping", self.rest_ping)
        app.router.add_get("/api/v3/time", self.rest_time)
        app.router.add_get("/ws", self.ws_handler)

    async def ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        opened: list[SimConnection] = []

        def on_open(conn: SimConnection) -> None:
            opened.append(conn)
            self._on_open(conn)

        try:
            return await self.serve_ws(request, self._on_message, on_open=on_open)
        finally:
            for conn in opened:
                conn.meta["watchdog"].cancel()

    def _on_open(self, conn: SimConnection) -> None:
        loop = asyncio.get_running_loop()
        conn.meta.update(
            opened=loop.time(), last_activity=loop.time(), window=0, window_start=loop.time()
        )
        conn.meta["watchdog"] = asyncio.ensure_future(self._watchdog(conn))

    async def _watchdog(self, conn: SimConnection) -> None:
        """Close connections that never subscribe (``idle_timeout``) or go silent."""
        loop = asyncio.get_running_loop()
        step = max(0.05, min(self.idle_timeout, self.silent_timeout) / 4)
        while not conn.closed:
            await asyncio.sleep(step)
            now = loop.time()
            if not conn.subscriptions and now - conn.meta["opened"] >= self.idle_timeout:
                self.idle_closes += 1
                await self._close(conn, "no subscription")
                return
            if now - conn.meta["last_activity"] >= self.silent_timeout:
                self.idle_closes += 1
                await self._close(conn, "silent")
                return

    async def _close(self, conn: SimConnection, why: str) -> None:
        conn.close()
        with contextlib.suppress(Exception):
            await conn.ws.close(message=why.encode())

    def _push(self, conn: SimConnection, data: str | bytes) -> None:
        conn.meta["last_activity"] = asyncio.get_running_loop().time()
        conn.push(data)

    def _send(self, conn: SimConnection, data: str | bytes) -> None:
        self._push(conn, data)

    # -- control messages -----------------------------------------------------------------
    def _valid(self, channel: str) -> bool:
        m = _CHANNEL.fullmatch(channel)
        return m is not None and m.group(3) in self.by_venue

    def _on_message(self, conn: SimConnection, data: str | bytes) -> Any:
        loop = asyncio.get_running_loop()
        now = loop.time()
        conn.meta["last_activity"] = now
        if now - conn.meta["window_start"] >= 1.0:
            conn.meta["window_start"] = now
            conn.meta["window"] = 0
        conn.meta["window"] += 1
        if conn.meta["window"] > self.max_messages_per_s:
            self.rate_closes += 1
            return self._close(conn, "too many messages")
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._push(conn, '{"id":0,"code":0,"msg":"Wrong message format"}')
            return None
        if not isinstance(msg, dict):
            self._push(conn, '{"id":0,"code":0,"msg":"Wrong message format"}')
            return None
        rid = msg.get("id", 0)
        if not isinstance(rid, int) or isinstance(rid, bool):
            rid = 0
        method = msg.get("method")
        if method == "PING":
            self._push(conn, '{"id":0,"code":0,"msg":"PONG"}')
            return None
        params = msg.get("params")
        if method not in ("SUBSCRIPTION", "UNSUBSCRIPTION") or not isinstance(params, list):
            self._push(
                conn, orjson.dumps({"id": rid, "code": 0, "msg": "Wrong message format"}).decode()
            )
            return None
        names = [p for p in params if isinstance(p, str)]
        if method == "UNSUBSCRIPTION":
            for p in names:
                conn.subscriptions.discard(p)
            self._push(conn, orjson.dumps({"id": rid, "code": 0, "msg": ",".join(names)}).decode())
            return None
        ok: list[str] = []
        bad: list[str] = [str(p) for p in params if not isinstance(p, str)]
        for p in names:
            if not self._valid(p):
                bad.append(p)
            elif p in conn.subscriptions:
                ok.append(p)
            elif len(conn.subscriptions) >= self.max_subscriptions:
                bad.append(p)
            else:
                conn.subscriptions.add(p)
                ok.append(p)
        if ok:
            self._push(conn, orjson.dumps({"id": rid, "code": 0, "msg": ",".join(ok)}).decode())
        if bad:
            self._push(
                conn,
                orjson.dumps(
                    {"id": rid, "code": 0, "msg": _REFUSED.format(",".join(bad))}
                ).decode(),
            )
        return None

    # -- REST -------------------------------------------------------------------------------
    async def rest_ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def rest_time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": time.time_ns() // 1_000_000})

    async def rest_depth(self, request: web.Request) -> web.Response:
        limited = self.rest_429()
        if limited is not None:
            return limited
        sym = self.by_venue.get(request.query.get("symbol", ""))
        if sym is None:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        try:
            limit = min(5000, max(1, int(request.query.get("limit", "100"))))
        except ValueError:
            return web.json_response({"code": 700002, "msg": "Illegal parameter limit"}, status=400)
        model = self.models[sym]
        bids, asks = model.top(limit)
        body = {
            "lastUpdateId": self.version[sym],
            "bids": [[model.price_str(p), model.size_str(q)] for p, q in bids],
            "asks": [[model.price_str(p), model.size_str(q)] for p, q in asks],
            "timestamp": self._last_ts.get(sym, 0),
        }
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    async def rest_exchange_info(self, request: web.Request) -> web.Response:
        symbols = []
        for venue, sym in self.by_venue.items():
            base, quote = sym.split("/")
            model = self.models[sym]
            symbols.append(
                {
                    "symbol": venue,
                    "status": "1",
                    "baseAsset": base,
                    "quoteAsset": quote,
                    "isSpotTradingAllowed": True,
                    "isMarginTradingAllowed": False,
                    "baseAssetPrecision": model.size_decimals,
                    "quoteAssetPrecision": model.price_decimals,
                    "quotePrecision": model.price_decimals,
                    "baseSizePrecision": format(Decimal(1).scaleb(-model.size_decimals), "f"),
                    "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
                    "permissions": ["SPOT"],
                }
            )
        return web.json_response({"timezone": "CST", "symbols": symbols})

    # -- market data -------------------------------------------------------------------------
    def on_step(self, symbol: str, step: MarketStep) -> None:
        model = self.models[symbol]
        venue = _venue_symbol(symbol)
        p, s = model.price_str, model.size_str
        self._last_ts[symbol] = step.ts_ms
        n = len(step.bids) + len(step.asks)
        if n:
            prev = self.version[symbol]
            if self.faults.take(Fault.SEQ_GAP, symbol):
                prev += 1
            first, last = prev + 1, prev + n
            self.version[symbol] = last
            asks = [(p(px), s(q)) for px, q in step.asks]
            bids = [(p(px), s(q)) for px, q in step.bids]
            for interval in ("100ms", "10ms"):
                channel = f"spot@public.aggre.depth.v3.api.pb@{interval}@{venue}"
                if not self.subscribers(channel):
                    continue
                body = encode_aggre_depth(asks, bids, channel.rpartition("@")[0], first, last)
                self.publish_book(
                    channel, symbol, encode_wrapper(channel, venue, step.ts_ms, BODY_DEPTH, body)
                )
        if step.trades:
            deals = [
                (p(t.price), s(t.size), 1 if t.taker_buy else 2, t.ts_ms, str(t.trade_id))
                for t in step.trades
            ]
            for interval in ("100ms", "10ms"):
                channel = f"spot@public.aggre.deals.v3.api.pb@{interval}@{venue}"
                if self.subscribers(channel):
                    body = encode_aggre_deals(deals, channel.rpartition("@")[0])
                    self.publish(
                        channel, encode_wrapper(channel, venue, step.ts_ms, BODY_DEALS, body)
                    )
        bb, ba = model.best_bid(), model.best_ask()
        top = (bb, model.bids[bb], ba, model.asks[ba])
        if top != self._top.get(symbol):
            self._top[symbol] = top
            body = encode_aggre_book_ticker(
                p(bb), s(top[1]), p(ba), s(top[3]), self.version[symbol]
            )
            for interval in ("100ms", "10ms"):
                channel = f"spot@public.aggre.bookTicker.v3.api.pb@{interval}@{venue}"
                if self.subscribers(channel):
                    self.publish(
                        channel, encode_wrapper(channel, venue, step.ts_ms, BODY_BOOK_TICKER, body)
                    )


# -- futures ("contract" API) ------------------------------------------------------------------
def _futures_symbol(unified: str) -> str:
    base, quote = unified.split("/")
    return f"{base}_{quote.split(':')[0]}"


_FUTURES_SUBS = {"depth", "deal", "funding.rate", "fair.price", "ticker"}


class MexcFuturesVenue(Venue):
    """MEXC USDT-margined perpetuals: JSON pushes on ``/edge``. See the module docstring.

    Args:
        models: unified symbol (``BTC/USDT:USDT``) -> market model.
        ping_timeout: seconds without any client message before the server closes (60).
        max_messages_per_s: client messages per second before a disconnect (100).
        ctx_interval_ms: time between funding-rate / fair-price pushes (1000).
        idle_timeout, silent_timeout, max_subscriptions: spot options, accepted and ignored
            (``SimServer`` hands one option dict to both MEXC venues).
    """

    exchange: ClassVar[str] = "mexc"
    market: ClassVar[str] = "linear"

    def __init__(
        self,
        models: dict[str, MarketModel],
        *,
        ping_timeout: float = 60.0,
        max_messages_per_s: int = 100,
        ctx_interval_ms: int = 1000,
        idle_timeout: float = 30.0,
        silent_timeout: float = 60.0,
        max_subscriptions: int = 30,
    ) -> None:
        self.ping_timeout = ping_timeout
        self.max_messages_per_s = max_messages_per_s
        self.ctx_interval_ms = ctx_interval_ms
        self.by_venue = {_futures_symbol(s): s for s in models}
        self.version: dict[str, int] = dict.fromkeys(models, 30_000_000)
        self._last_ctx: dict[str, int] = {}
        self._last_ts: dict[str, int] = {}
        self.trades_sent: dict[str, int] = dict.fromkeys(models, 0)
        self.ctx_sent: dict[str, dict[str, str]] = {}
        self.idle_closes = 0
        self.rate_closes = 0
        super().__init__(models)

    # -- routes ---------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        app.router.add_get("/edge", self.ws_handler)
        app.router.add_get("/api/v1/contract/depth/{symbol}", self.rest_depth)
        app.router.add_get("/api/v1/contract/detail", self.rest_detail)
        app.router.add_get("/api/v1/contract/ping", self.rest_ping)

    async def ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        opened: list[SimConnection] = []

        def on_open(conn: SimConnection) -> None:
            opened.append(conn)
            now = asyncio.get_running_loop().time()
            conn.meta.update(last_recv=now, window=0, window_start=now)
            conn.meta["watchdog"] = asyncio.ensure_future(self._watchdog(conn))

        try:
            return await self.serve_ws(request, self._on_message, on_open=on_open)
        finally:
            for conn in opened:
                conn.meta["watchdog"].cancel()

    async def _watchdog(self, conn: SimConnection) -> None:
        loop = asyncio.get_running_loop()
        while not conn.closed:
            await asyncio.sleep(max(0.05, self.ping_timeout / 4))
            if loop.time() - conn.meta["last_recv"] >= self.ping_timeout:
                self.idle_closes += 1
                conn.close()
                with contextlib.suppress(Exception):
                    await conn.ws.close(message=b"no ping")
                return

    def _now_ms(self) -> int:
        return max(self._last_ts.values(), default=0)

    def _reply(self, conn: SimConnection, channel: str, data: Any) -> None:
        conn.push(orjson.dumps({"channel": channel, "data": data, "ts": self._now_ms()}).decode())

    def _on_message(self, conn: SimConnection, data: str | bytes) -> Any:
        now = asyncio.get_running_loop().time()
        conn.meta["last_recv"] = now
        if now - conn.meta["window_start"] >= 1.0:
            conn.meta["window_start"] = now
            conn.meta["window"] = 0
        conn.meta["window"] += 1
        if conn.meta["window"] > self.max_messages_per_s:
            self.rate_closes += 1
            conn.close()
            return conn.ws.close(message=b"too many messages")
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._reply(conn, "rs.error", "Request format error")
            return None
        method = msg.get("method") if isinstance(msg, dict) else None
        if method == "ping":
            conn.push(orjson.dumps({"channel": "pong", "data": self._now_ms()}).decode())
            return None
        if not isinstance(method, str) or "." not in method:
            self._reply(conn, "rs.error", "Method not found")
            return None
        op, _, name = method.partition(".")
        param = msg.get("param") if isinstance(msg.get("param"), dict) else {}
        symbol = param.get("symbol")
        if op not in ("sub", "unsub") or name not in _FUTURES_SUBS:
            self._reply(conn, "rs.error", "Method not found")
            return None
        if symbol not in self.by_venue:
            self._reply(conn, "rs.error", "Contract doesn't exist!")
            return None
        topic = f"{name}:{symbol}"
        if op == "sub":
            if name == "depth" and param.get("compress", True) is False:
                topic = f"depth.raw:{symbol}"  # unmerged pushes (no begin/end)
            conn.subscriptions.add(topic)
        else:
            conn.subscriptions.discard(topic)
            if name == "depth":
                conn.subscriptions.discard(f"depth.raw:{symbol}")
        self._reply(conn, f"rs.{op}.{name}", "success")
        return None

    # -- REST ---------------------------------------------------------------------------------
    async def rest_ping(self, request: web.Request) -> web.Response:
        return web.json_response({"success": True, "code": 0, "data": self._now_ms()})

    def _levels(self, model: MarketModel, levels: list[tuple[int, int]]) -> str:
        p = model.price_str
        return ",".join([f"[{p(px)},{q},{1 if q else 0}]" for px, q in levels])

    async def rest_depth(self, request: web.Request) -> web.Response:
        limited = self.rest_429()
        if limited is not None:
            return limited
        sym = self.by_venue.get(request.match_info["symbol"])
        if sym is None:
            return web.json_response(
                {"success": False, "code": 1001, "message": "Contract doesn't exist!"}
            )
        try:
            limit = min(2000, max(1, int(request.query.get("limit", "1000"))))
        except ValueError:
            return web.json_response({"success": False, "code": 600, "message": "Parameter error"})
        model = self.models[sym]
        bids, asks = model.top(limit)
        body = (
            '{"success":true,"code":0,"data":{"asks":['
            + self._levels(model, asks)
            + '],"bids":['
            + self._levels(model, bids)
            + f'],"version":{self.version[sym]},'
            + f'"timestamp":{self._last_ts.get(sym, 0)}}}}}'
        )
        return web.Response(text=body, content_type="application/json")

    async def rest_detail(self, request: web.Request) -> web.Response:
        data = []
        for venue, sym in self.by_venue.items():
            base, rest = sym.split("/")
            quote = rest.split(":")[0]
            model = self.models[sym]
            data.append(
                {
                    "symbol": venue,
                    "baseCoin": base,
                    "quoteCoin": quote,
                    "settleCoin": quote,
                    "contractSize": float(format_contract_size(model.size_decimals)),
                    "priceScale": model.price_decimals,
                    "volScale": 0,
                }
            )
        return web.json_response({"success": True, "code": 0, "data": data})

    # -- market data ----------------------------------------------------------------------------
    def on_step(self, symbol: str, step: MarketStep) -> None:
        model = self.models[symbol]
        venue = _futures_symbol(symbol)
        self._last_ts[symbol] = step.ts_ms
        if step.bids or step.asks:
            v = self.version[symbol] + 1
            if self.faults.take(Fault.SEQ_GAP, symbol):
                v += 1
            self.version[symbol] = v
            head = '{"channel":"push.depth","data":{"asks":[' + self._levels(model, step.asks)
            head += '],"bids":[' + self._levels(model, step.bids) + f'],"version":{v}'
            tail = f'}},"symbol":"{venue}","ts":{step.ts_ms}}}'
            # merged (MEXC's default) and unmerged subscribers are separate topics; a fault
            # is consumed by the first topic that has subscribers
            for topic, extra in (
                (f"depth.raw:{venue}", ""),
                (f"depth:{venue}", f',"begin":{v},"end":{v}'),
            ):
                if self.subscribers(topic):
                    self.publish_book(topic, symbol, head + extra + tail)
        if step.trades:
            p = model.price_str
            deals = ",".join(
                [
                    f'{{"p":{p(t.price)},"v":{t.size},"T":{1 if t.taker_buy else 2},'
                    f'"O":1,"M":2,"t":{t.ts_ms}}}'
                    for t in step.trades
                ]
            )
            if self.subscribers(f"deal:{venue}"):
                self.trades_sent[symbol] += len(step.trades)
                self.publish(
                    f"deal:{venue}",
                    f'{{"channel":"push.deal","data":[{deals}],"symbol":"{venue}","ts":{step.ts_ms}}}',
                )
        if step.ts_ms - self._last_ctx.get(symbol, -(10**15)) >= self.ctx_interval_ms:
            self._last_ctx[symbol] = step.ts_ms
            mark = model.price_str(
                step.mark_ticks if step.mark_ticks is not None else model.mid_ticks()
            )
            rate = format(
                step.funding_rate if step.funding_rate is not None else model.funding_rate, "f"
            )
            self.ctx_sent[symbol] = {"rate": rate, "price": mark, "next": str(step.next_funding_ms)}
            self.publish(
                f"funding.rate:{venue}",
                f'{{"channel":"push.funding.rate","data":{{"symbol":"{venue}","rate":{rate},"nextSettleTime":{step.next_funding_ms}}},"symbol":"{venue}","ts":{step.ts_ms}}}',
            )
            self.publish(
                f"fair.price:{venue}",
                f'{{"channel":"push.fair.price","data":{{"symbol":"{venue}","price":{mark}}},"symbol":"{venue}","ts":{step.ts_ms}}}',
            )


def format_contract_size(size_decimals: int) -> str:
    """One lot of the market model as a decimal string (``4 -> "0.0001"``)."""
    return format(Decimal(1).scaleb(-size_decimals), "f")
