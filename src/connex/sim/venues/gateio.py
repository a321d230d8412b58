"""Simulated Gate (gate.io) v4 venues: spot and USDT-settled perpetuals.

Written independently of ``connex.exchanges.gateio`` from ../shared/protocols/gateio.md:

- Websocket paths: spot ``/ws/v4/``, futures ``/v4/ws/usdt``. Requests
  ``{"time","id","channel","event":"subscribe"|"unsubscribe","payload":[...]}``; every
  reply carries ``time``, ``time_ms``, ``conn_id``, ``channel``, ``event``, ``payload``,
  ``error`` and ``result``, plus ``id`` when the request had one. Success is
  ``error: null, result: {"status": "success"}``; failures are ``error: {"code", "message"}``
  with ``result: {"status": "fail"}``: code 1 (body is not a JSON request), code 2 (unknown
  channel, pair or contract, bad interval/level, duplicate ``obu`` stream). One unknown
  symbol fails the whole payload. ``time`` must be an integer when present; its 60 s window
  is *not* enforced (the simulator is lenient there, see docs/exchanges/gateio.md).
- Keepalive: ``{"channel":"spot.ping"}`` -> ``{"channel":"spot.pong","event":"",
  "error":null,"result":null}`` (``futures.ping``/``futures.pong``); protocol pings from
  the server every ``ping_interval`` s. During a STALL nothing is sent, pongs included.
- Books: ``*.order_book_update`` with contiguous ``U``/``u`` (one id per level change,
  shared by every depth and connection). Each subscription depth (spot ``20ms``->20,
  ``100ms``->100 levels; futures level ``100``/``50``/``20``, ``20ms`` only with ``20``)
  is a *window* on the true book: an update carries every level that changed inside the
  window, left it (size 0) or entered it, so a client that started from a REST snapshot of
  the same depth holds exactly the true top-N. Updates whose window did not change still go
  out with empty sides (they advance the ids). ``*.obu`` (``ob.<id>.400`` / ``.50``): a
  ``full: true`` push right after the ack, then windowed updates; a second subscription
  to the same stream is refused with code 2 ``Alert sub ...``.
- REST ``/api/v4/spot/order_book?currency_pair=&limit=&with_id=true`` (``current``/
  ``update`` in ms, ``[px, amount]`` levels) and ``/api/v4/futures/usdt/order_book?
  contract=&limit=&with_id=true`` (times in fractional seconds, ``{"p","s"}`` levels);
  ``id`` only with ``with_id=true``. Listings ``/api/v4/spot/currency_pairs`` and
  ``/api/v4/futures/usdt/contracts``. Errors ``{"label","message"}``; the HTTP_429 fault
  answers 429 ``{"label":"TOO_MANY_REQUESTS",...}`` with ``Retry-After``.
- Futures sizes are integer contracts; one contract is ``quanto_multiplier`` =
  ``10**-size_decimals`` base units, i.e. exactly one lot of the market model. With the
  ``X-Gate-Size-Decimal: 1`` header (websocket handshake or REST) sizes are strings.
- ``spot.trades`` (one trade per push, ``side`` = taker side), ``futures.trades`` (array,
  ``size`` signed: + taker buy), ``*.book_ticker``, ``futures.tickers`` (funding, mark,
  index; every ``ticker_ms``), ``futures.public_liquidates`` (contracts or ``!all``):
  liquidations of one contract batched over ``liquidation_window_ms`` (flushed early at
  20), ``time`` in ms, ``size`` signed as a position: positive = a long was liquidated.

Faults: everything in the base class (DROP, DUPLICATE, REORDER, MALFORMED, STALL,
DISCONNECT, HTTP_429), SEQ_GAP (one id is skipped: ``U`` = previous ``u`` + 2) and
RESNAPSHOT (an unsolicited ``full: true`` push, as Gate sends at irregular times).
"""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ..faults import Fault
from ..market import MarketModel, MarketStep
from ..venue import SimConnection, Venue

__all__ = ["GateFuturesVenue", "GateSpotVenue"]

#: spot ``order_book_update`` interval -> depth
_SPOT_INTERVALS = {"20ms": 20, "100ms": 100}
_FUT_LEVELS = {"100": 100, "50": 50, "20": 20}
_OBU_LEVELS = {"400": 400, "50": 50}
_LIQ_FLUSH_AT = 20
_conn_ids = itertools.count(1)


def _venue_id(unified: str) -> str:
    base, rest = unified.split("/")
    return f"{base}_{rest.split(':')[0]}"


Window = tuple[dict[int, int], dict[int, int]]


class _GateVenue(Venue):
    exchange: ClassVar[str] = "gateio"
    futures: ClassVar[bool] = False
    ws_path: ClassVar[str] = "/ws/v4/"
    prefix: ClassVar[str] = "spot."

    def __init__(
        self,
        models: dict[str, MarketModel],
        ping_interval: float = 20.0,
        ticker_ms: int = 1000,
        liquidation_window_ms: int = 1000,
    ) -> None:
        self.ping_interval = ping_interval
        self.ticker_ms = ticker_ms
        self.liquidation_window_ms = liquidation_window_ms
        self.by_venue = {_venue_id(s): s for s in models}
        self.book_id: dict[str, int] = dict.fromkeys(models, 1000)
        #: symbol -> {depth: window}; a depth is tracked from its first subscription on
        self.windows: dict[str, dict[int, Window]] = {s: {} for s in models}
        self._liqs: dict[str, list[dict[str, Any]]] = {s: [] for s in models}
        self._liq_since: dict[str, int] = dict.fromkeys(models, 0)
        self._last_ticker: dict[str, int] = dict.fromkeys(models, 0)
        super().__init__(models)

    # -- helpers --------------------------------------------------------------------------
    def multiplier(self, symbol: str) -> Decimal:
        """Base units per contract (futures): one lot of the model."""
        return Decimal(1).scaleb(-self.models[symbol].size_decimals)

    def _track(self, symbol: str, depth: int) -> None:
        """Start keeping the ``depth`` window of ``symbol`` (it equals the true top-N)."""
        if depth not in self.windows[symbol]:
            bids, asks = self.models[symbol].top(depth)
            self.windows[symbol][depth] = (dict(bids), dict(asks))

    def _size(self, conn_decimal: bool, model: MarketModel, lots: int) -> Any:
        if not self.futures:
            return model.size_str(lots)
        return str(lots) if conn_decimal else lots

    def _levels(
        self, model: MarketModel, levels: list[tuple[int, int]], decimal: bool
    ) -> list[Any]:
        if self.futures:
            return [{"p": model.price_str(p), "s": str(q) if decimal else q} for p, q in levels]
        return [[model.price_str(p), model.size_str(q)] for p, q in levels]

    def _frame(self, channel: str, event: str, result: Any, ts_ms: int, **extra: Any) -> str:
        body: dict[str, Any] = {
            "time": ts_ms // 1000,
            "time_ms": ts_ms,
            "channel": channel,
            "event": event,
        }
        body.update(extra)
        body["result"] = result
        return orjson.dumps(body).decode()

    @staticmethod
    def _now_ms() -> int:
        return int(time.time() * 1000)

    # -- routes ---------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        app.router.add_get(self.ws_path, self._ws)
        alt = self.ws_path[:-1] if self.ws_path.endswith("/") else self.ws_path + "/"
        app.router.add_get(alt, self._ws)
        if self.futures:
            app.router.add_get("/api/v4/futures/usdt/order_book", self.rest_order_book)
            app.router.add_get("/api/v4/futures/usdt/contracts", self.rest_listing)
        else:
            app.router.add_get("/api/v4/spot/order_book", self.rest_order_book)
            app.router.add_get("/api/v4/spot/currency_pairs", self.rest_listing)

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        decimal = request.headers.get("X-Gate-Size-Decimal") == "1"

        def on_open(conn: SimConnection) -> None:
            conn.meta["decimal"] = decimal
            conn.meta["conn_id"] = next(_conn_ids)

        return await self.serve_ws(
            request, self._on_message, on_open=on_open, heartbeat=self.ping_interval
        )

    # -- requests -------------------------------------------------------------------------
    def _reply(
        self,
        conn: SimConnection,
        msg: dict[str, Any],
        *,
        error: tuple[int, str] | None = None,
    ) -> None:
        now = self._now_ms()
        body: dict[str, Any] = {"time": now // 1000, "time_ms": now}
        if isinstance(msg.get("id"), int):
            body["id"] = msg["id"]
        body["conn_id"] = conn.meta.get("conn_id", 0)
        body["channel"] = msg.get("channel", "") if isinstance(msg.get("channel"), str) else ""
        body["event"] = msg.get("event", "") if isinstance(msg.get("event"), str) else ""
        if isinstance(msg.get("payload"), list):
            body["payload"] = msg["payload"]
        if error is None:
            body["error"] = None
            body["result"] = {"status": "success"}
        else:
            body["error"] = {"code": error[0], "message": error[1]}
            body["result"] = {"status": "fail"}
        conn.push(orjson.dumps(body).decode())

    def _on_message(self, conn: SimConnection, data: str | bytes) -> None:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._reply(conn, {}, error=(1, "invalid request body format"))
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("channel"), str):
            self._reply(
                conn, msg if isinstance(msg, dict) else {}, error=(1, "invalid request body format")
            )
            return
        if "time" in msg and (not isinstance(msg["time"], int) or isinstance(msg["time"], bool)):
            self._reply(
                conn, msg, error=(1, "invalid request body format: time must be an integer")
            )
            return
        channel = msg["channel"]
        if channel == self.prefix + "ping":
            if not self._stalled():
                now = self._now_ms()
                pong = {
                    "time": now // 1000,
                    "time_ms": now,
                    "conn_id": conn.meta.get("conn_id", 0),
                    "channel": self.prefix + "pong",
                    "event": "",
                    "error": None,
                    "result": None,
                }
                conn.push(orjson.dumps(pong).decode())
            return
        event = msg.get("event")
        if event not in ("subscribe", "unsubscribe"):
            self._reply(conn, msg, error=(2, f"invalid argument: unknown event {event!r}"))
            return
        payload = msg.get("payload", [])
        if not isinstance(payload, list) or not all(isinstance(p, str) for p in payload):
            self._reply(conn, msg, error=(2, "invalid argument: payload must be a list of strings"))
            return
        try:
            topics = self._topics(channel, payload)
        except ValueError as exc:
            self._reply(conn, msg, error=(2, str(exc)))
            return
        if event == "subscribe":
            if channel.endswith(".obu"):
                dup = [t for t in topics if t in conn.subscriptions]
                if dup:
                    self._reply(conn, msg, error=(2, f"Alert sub {dup[0].split('|')[1]}"))
                    return
            for t in topics:
                book = self._book_topic(t)
                if book is not None:
                    self._track(*book)
            conn.subscriptions.update(topics)
            self._reply(conn, msg)
            if channel.endswith(".obu"):
                for t in topics:
                    self._full_push(conn, t)
        else:
            conn.subscriptions.difference_update(topics)
            self._reply(conn, msg)

    def _symbol(self, venue: str) -> str:
        sym = self.by_venue.get(venue)
        if sym is None:
            kind = "contract" if self.futures else "currency pair"
            raise ValueError(f"unknown {kind}: {venue}")
        return sym

    def _topics(self, channel: str, payload: list[str]) -> list[str]:
        """Topic keys for a request; ``ValueError`` (code 2) when anything is invalid."""
        p = self.prefix
        if channel == p + "order_book_update":
            if self.futures:
                if (
                    len(payload) != 3
                    or payload[2] not in _FUT_LEVELS
                    or payload[1] not in ("20ms", "100ms")
                ):
                    raise ValueError(f"invalid argument: payload {payload}")
                if payload[1] == "20ms" and payload[2] != "20":
                    raise ValueError(
                        "invalid argument: 20ms interval is only offered with level 20"
                    )
                depth = _FUT_LEVELS[payload[2]]
            else:
                if len(payload) != 2 or payload[1] not in _SPOT_INTERVALS:
                    raise ValueError(f"invalid argument: payload {payload}")
                depth = _SPOT_INTERVALS[payload[1]]
            self._symbol(payload[0])
            return [f"upd|{payload[0]}|{depth}"]
        if channel == p + "obu":
            out = []
            for stream in payload:
                parts = stream.split(".")
                if len(parts) != 3 or parts[0] != "ob" or parts[2] not in _OBU_LEVELS:
                    raise ValueError(f"invalid argument: stream {stream!r}")
                self._symbol(parts[1])
                out.append(f"obu|{stream}")
            return out
        simple = {p + "trades": "trades", p + "book_ticker": "bt"}
        if self.futures:
            simple.update({"futures.tickers": "tickers", "futures.public_liquidates": "liq"})
        kind = simple.get(channel)
        if kind is None:
            raise ValueError(f"unknown channel {channel}")
        if not payload:
            raise ValueError("invalid argument: empty payload")
        if kind == "liq" and payload == ["!all"]:
            return ["liq|!all"]
        for v in payload:
            self._symbol(v)
        return [f"{kind}|{v}" for v in payload]

    # -- REST -----------------------------------------------------------------------------
    def _rest_error(self, status: int, label: str, message: str) -> web.Response:
        return web.json_response({"label": label, "message": message}, status=status)

    def _limited(self) -> web.Response | None:
        limited = self.rest_429()
        if limited is None:
            return None
        return web.json_response(
            {"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded"},
            status=limited.status,
            headers={"Retry-After": limited.headers.get("Retry-After", "1")},
        )

    async def rest_order_book(self, request: web.Request) -> web.Response:
        limited = self._limited()
        if limited is not None:
            return limited
        q = request.query
        venue = q.get("contract" if self.futures else "currency_pair", "")
        sym = self.by_venue.get(venue)
        if sym is None:
            if self.futures:
                return self._rest_error(400, "CONTRACT_NOT_FOUND", f"contract {venue} not found")
            return self._rest_error(400, "INVALID_CURRENCY_PAIR", f"invalid currency pair {venue}")
        try:
            limit = int(q.get("limit", "10"))
        except ValueError:
            return self._rest_error(400, "INVALID_PARAM_VALUE", "invalid limit")
        if limit < 1:
            return self._rest_error(400, "INVALID_PARAM_VALUE", f"limit {limit} out of range")
        model = self.models[sym]
        bids, asks = model.top(limit)
        decimal = request.headers.get("X-Gate-Size-Decimal") == "1"
        now = self._now_ms()
        body: dict[str, Any] = {}
        if q.get("with_id") == "true":
            body["id"] = self.book_id[sym]
        if self.futures:
            body["current"] = now / 1000
            body["update"] = now / 1000
        else:
            body["current"] = now
            body["update"] = now
        body["asks"] = self._levels(model, asks, decimal)
        body["bids"] = self._levels(model, bids, decimal)
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    async def rest_listing(self, request: web.Request) -> web.Response:
        out = []
        for venue, sym in self.by_venue.items():
            model = self.models[sym]
            base, quote = venue.split("_")
            if self.futures:
                out.append(
                    {
                        "name": venue,
                        "type": "direct",
                        "quanto_multiplier": str(self.multiplier(sym)),
                        "order_price_round": model.price_str(1),
                        "order_size_min": 1,
                        "mark_price": model.price_str(model.mid_ticks()),
                        "funding_rate": str(model.funding_rate),
                        "funding_interval": 28800,
                        "in_delisting": False,
                    }
                )
            else:
                out.append(
                    {
                        "id": venue,
                        "base": base,
                        "quote": quote,
                        "precision": model.price_decimals,
                        "amount_precision": model.size_decimals,
                        "trade_status": "tradable",
                    }
                )
        return web.json_response(out)

    # -- market data ------------------------------------------------------------------------
    def on_step(self, symbol: str, step: MarketStep) -> None:
        self._check_stall_and_disconnect()
        model = self.models[symbol]
        venue = _venue_id(symbol)
        if step.bids or step.asks:
            self._book(symbol, venue, model, step)
        if self.faults.take(Fault.RESNAPSHOT, symbol):
            mine = {venue} | {f"ob.{venue}.{d}" for d in _OBU_LEVELS}
            for conn in list(self.connections):
                for topic in sorted(conn.subscriptions):
                    kind, _, rest = topic.partition("|")
                    if kind in ("upd", "obu") and rest.split("|")[0] in mine:
                        self._full_push(conn, topic)
        if step.trades:
            self._trades(venue, model, step)
        if self.subscribers(f"bt|{venue}"):
            self._book_ticker(symbol, venue, model, step)
        if self.futures:
            self._liquidations(symbol, venue, step)
            self._tickers(symbol, venue, model, step)

    def _book(self, symbol: str, venue: str, model: MarketModel, step: MarketStep) -> None:
        n = len(step.bids) + len(step.asks)
        prev = self.book_id[symbol]
        if self.faults.take(Fault.SEQ_GAP, symbol):
            prev += 1
        first, last = prev + 1, prev + n
        self.book_id[symbol] = last
        windows = self.windows[symbol]
        if not windows:
            return
        bids, asks = model.top(max(windows))
        for depth, (old_b, old_a) in windows.items():
            new_b, new_a = dict(bids[:depth]), dict(asks[:depth])
            windows[depth] = (new_b, new_a)
            ch_b = sorted(
                [(p, 0) for p in old_b.keys() - new_b.keys()] + list(new_b.items() - old_b.items()),
                reverse=True,
            )
            ch_a = sorted(
                [(p, 0) for p in old_a.keys() - new_a.keys()] + list(new_a.items() - old_a.items())
            )
            if depth in _OBU_LEVELS.values():
                stream = f"ob.{venue}.{depth}"
                topic = f"obu|{stream}"
                if self.subscribers(topic):
                    self._publish_update(
                        topic, symbol, model, "obu", stream, first, last, ch_b, ch_a, step.ts_ms
                    )
            topic = f"upd|{venue}|{depth}"
            if self.subscribers(topic):
                self._publish_update(
                    topic,
                    symbol,
                    model,
                    "order_book_update",
                    venue,
                    first,
                    last,
                    ch_b,
                    ch_a,
                    step.ts_ms,
                )

    def _publish_update(
        self,
        topic: str,
        symbol: str,
        model: MarketModel,
        kind: str,
        s: str,
        first: int,
        last: int,
        ch_b: list[tuple[int, int]],
        ch_a: list[tuple[int, int]],
        ts_ms: int,
    ) -> None:
        obu = kind == "obu"
        channel = self.prefix + kind
        by_mode: dict[bool, str] = {}
        for decimal in {bool(c.meta.get("decimal")) for c in self.subscribers(topic)}:
            if obu:  # obu levels are [px, size] string pairs on both markets
                b = [
                    [model.price_str(p), str(q) if self.futures else model.size_str(q)]
                    for p, q in ch_b
                ]
                a = [
                    [model.price_str(p), str(q) if self.futures else model.size_str(q)]
                    for p, q in ch_a
                ]
            else:
                b, a = self._levels(model, ch_b, decimal), self._levels(model, ch_a, decimal)
            if self.futures or obu:
                result = {"t": ts_ms, "s": s, "U": first, "u": last, "b": b, "a": a}
            else:
                result = {
                    "t": ts_ms,
                    "e": "depthUpdate",
                    "E": ts_ms // 1000,
                    "s": s,
                    "U": first,
                    "u": last,
                    "b": b,
                    "a": a,
                    "l": str(topic.rsplit("|", 1)[1]),
                }
            by_mode[decimal] = self._frame(channel, "update", result, ts_ms)
        if len(by_mode) == 1:
            self.publish_book(topic, symbol, next(iter(by_mode.values())))
            return
        # clients in both size modes: the fault filter applies to one of them only
        for decimal, frame in by_mode.items():
            for conn in self.subscribers(topic):
                if bool(conn.meta.get("decimal")) is decimal:
                    self._send(conn, frame)

    def _book_topic(self, topic: str) -> tuple[str, int] | None:
        """(symbol, depth) of a book topic (``upd|BTC_USDT|100``, ``obu|ob.BTC_USDT.400``)."""
        kind, _, key = topic.partition("|")
        if kind == "obu":
            _, venue, depth = key.split(".")
            return self.by_venue[venue], int(depth)
        if kind == "upd":
            venue, depth = key.split("|")
            return self.by_venue[venue], int(depth)
        return None

    def _full_push(self, conn: SimConnection, topic: str) -> None:
        """A ``full: true`` push of the topic's window (obu first push, RESNAPSHOT fault)."""
        book = self._book_topic(topic)
        assert book is not None
        sym, depth = book
        kind, _, key = topic.partition("|")
        venue = _venue_id(sym)
        model = self.models[sym]
        win_b, win_a = self.windows[sym][depth]
        bids = sorted(win_b.items(), reverse=True)
        asks = sorted(win_a.items())
        decimal = bool(conn.meta.get("decimal"))
        if kind == "obu":
            b = [
                [model.price_str(p), str(q) if self.futures else model.size_str(q)] for p, q in bids
            ]
            a = [
                [model.price_str(p), str(q) if self.futures else model.size_str(q)] for p, q in asks
            ]
            channel, s = self.prefix + "obu", key
        else:
            b, a = self._levels(model, bids, decimal), self._levels(model, asks, decimal)
            channel, s = self.prefix + "order_book_update", venue
        now = self._now_ms()
        result = {"t": now, "full": True, "s": s, "u": self.book_id[sym], "b": b, "a": a}
        if not self._stalled():
            conn.push(self._frame(channel, "update", result, now))

    def _trades(self, venue: str, model: MarketModel, step: MarketStep) -> None:
        topic = f"trades|{venue}"
        subs = self.subscribers(topic)
        if not subs:
            return
        p = model.price_str
        if not self.futures:
            for t in step.trades:
                result = {
                    "id": t.trade_id,
                    "create_time": t.ts_ms // 1000,
                    "create_time_ms": f"{t.ts_ms}.000",
                    "side": "buy" if t.taker_buy else "sell",
                    "currency_pair": venue,
                    "amount": model.size_str(t.size),
                    "price": p(t.price),
                    "range": f"{t.trade_id}-{t.trade_id}",
                }
                self.publish(topic, self._frame("spot.trades", "update", result, step.ts_ms))
            return
        for decimal in {bool(c.meta.get("decimal")) for c in subs}:
            result = [
                {
                    "id": t.trade_id,
                    "create_time": t.ts_ms // 1000,
                    "create_time_ms": t.ts_ms,
                    "contract": venue,
                    "size": self._size(decimal, model, t.size if t.taker_buy else -t.size),
                    "price": p(t.price),
                }
                for t in step.trades
            ]
            frame = self._frame("futures.trades", "update", result, step.ts_ms)
            if self._stalled():
                return
            for conn in subs:
                if bool(conn.meta.get("decimal")) is decimal:
                    self._send(conn, frame)

    def _book_ticker(self, symbol: str, venue: str, model: MarketModel, step: MarketStep) -> None:
        bb, ba = model.best_bid(), model.best_ask()
        topic = f"bt|{venue}"
        for conn in self.subscribers(topic):
            decimal = bool(conn.meta.get("decimal"))
            result = {
                "t": step.ts_ms,
                "u": self.book_id[symbol],
                "s": venue,
                "b": model.price_str(bb),
                "B": self._size(decimal, model, model.bids[bb]),
                "a": model.price_str(ba),
                "A": self._size(decimal, model, model.asks[ba]),
            }
            if not self._stalled():
                self._send(
                    conn, self._frame(self.prefix + "book_ticker", "update", result, step.ts_ms)
                )

    def _liquidations(self, symbol: str, venue: str, step: MarketStep) -> None:
        model = self.models[symbol]
        buf = self._liqs[symbol]
        for liq in step.liquidations:
            if not buf:
                self._liq_since[symbol] = step.ts_ms
            lots = liq.position.size
            buf.append(
                {
                    "price": model.price_str(liq.price),
                    "lots": lots if liq.long else -lots,
                    "time": liq.ts_ms,
                    "contract": venue,
                }
            )
        if buf and (
            len(buf) >= _LIQ_FLUSH_AT
            or step.ts_ms - self._liq_since[symbol] >= self.liquidation_window_ms
        ):
            self._liqs[symbol] = []
            subs = {c for c in self.subscribers(f"liq|{venue}")} | set(self.subscribers("liq|!all"))
            if self._stalled():
                return
            for conn in subs:
                decimal = bool(conn.meta.get("decimal"))
                result = [
                    {
                        "price": e["price"],
                        "size": str(e["lots"]) if decimal else e["lots"],
                        "time": e["time"],
                        "contract": e["contract"],
                    }
                    for e in buf
                ]
                self._send(
                    conn, self._frame("futures.public_liquidates", "update", result, step.ts_ms)
                )

    def _tickers(self, symbol: str, venue: str, model: MarketModel, step: MarketStep) -> None:
        if step.mark_ticks is None or step.ts_ms - self._last_ticker[symbol] < self.ticker_ms:
            return
        topic = f"tickers|{venue}"
        if not self.subscribers(topic):
            return
        self._last_ticker[symbol] = step.ts_ms
        p = model.price_str
        rate = step.funding_rate if step.funding_rate is not None else Decimal(0)
        oi = sum(pos.size for pos in model.positions)
        last = step.trades[-1].price if step.trades else model.mid_ticks()
        result = [
            {
                "contract": venue,
                "last": p(last),
                "change_percentage": "0",
                "funding_rate": str(rate),
                "funding_rate_indicative": str(rate),
                "mark_price": p(step.mark_ticks),
                "index_price": p(step.mark_ticks),
                "total_size": str(oi),
                "volume_24h": "0",
                "low_24h": p(model.best_bid()),
                "high_24h": p(model.best_ask()),
                "quanto_base_rate": "",
                "price_type": "last",
            }
        ]
        self.publish(topic, self._frame("futures.tickers", "update", result, step.ts_ms))


class GateSpotVenue(_GateVenue):
    market: ClassVar[str] = "spot"
    futures: ClassVar[bool] = False
    ws_path: ClassVar[str] = "/ws/v4/"
    prefix: ClassVar[str] = "spot."


class GateFuturesVenue(_GateVenue):
    market: ClassVar[str] = "linear"
    futures: ClassVar[bool] = True
    ws_path: ClassVar[str] = "/v4/ws/usdt"
    prefix: ClassVar[str] = "futures."
