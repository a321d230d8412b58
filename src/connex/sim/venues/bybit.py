"""Simulated Bybit v5 venues: spot and linear (USDT perpetuals).

Written independently of ``connex.exchanges.bybit`` from ../shared/protocols/bybit.md:

- Websocket ``/v5/public/spot`` and ``/v5/public/linear``. ``{"req_id","op":"subscribe",
  "args":[topics]}`` (spot: at most 10 args); acks differ per category (spot
  ``"ret_msg":"subscribe"``, linear ``"ret_msg":""``); an unknown topic fails the request
  with ``"error:handler not found,topic:<t>"``. ``{"op":"ping"}`` is answered with the
  category's pong; a connection with no traffic either way for ``idle_timeout`` seconds
  (10 min on Bybit) is closed.
- ``orderbook.{1,50,200,1000}.{S}``: a snapshot of the top-N view to the subscriber,
  then deltas of that view (levels entering/leaving the top N included) with ``u`` +1 per
  message per (symbol, depth) and ``seq`` the cross sequence; level 1 sends snapshots
  only, at most every 10 ms (re-sent after 3 s unchanged with the same ``u``). Key order
  quirk kept: spot (all
  depths) and linear level 1 emit ``ts`` before ``type``.
- ``publicTrade.{S}`` (``S`` taker side; linear ids are UUIDs, spot ids numeric),
  ``allLiquidation.{S}`` every 500 ms with ``S`` the POSITION side (``Buy`` = a long was
  liquidated), ``tickers.{S}`` (linear: snapshot then changed-fields deltas every 100 ms
  with mark, index, funding, open interest; spot: snapshots every 50 ms).
- REST ``GET /v5/market/orderbook`` and ``/v5/market/instruments-info`` (enough for
  ccxt.pro to load markets); 429 ``retCode 10006`` on the HTTP_429 fault.

Faults: the base class's (DROP, DUPLICATE, REORDER, MALFORMED, STALL, DISCONNECT) plus
``SEQ_GAP`` (one delta skips a ``u``) and ``RESNAPSHOT`` (an unsolicited snapshot with
``u = 1``, as after a Bybit service restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ..faults import Fault
from ..market import MarketModel, MarketStep
from ..venue import SimConnection, Venue

__all__ = ["BybitLinearVenue", "BybitSpotVenue"]

_DEPTHS = (1, 50, 200, 1000)
_SPOT_MAX_ARGS = 10

#: The prices in one (symbol, depth) view, as dicts (sizes are read from the model;
#: the level-1 view also keeps its sizes to detect a change).
View = tuple[dict[int, int], dict[int, int]]


def _venue_symbol(unified: str) -> str:
    base, rest = unified.split("/")
    return base + rest.split(":")[0]


class _BybitVenue(Venue):
    exchange: ClassVar[str] = "bybit"
    linear: ClassVar[bool] = False

    def __init__(self, models: dict[str, MarketModel], idle_timeout: float = 600.0) -> None:
        self.idle_timeout = idle_timeout
        self.by_venue = {_venue_symbol(s): s for s in models}
        self.venue_sym = {s: v for v, s in self.by_venue.items()}
        self.views: dict[tuple[str, int], View] = {}
        self.u: dict[tuple[str, int], int] = {}
        self._l1_sent: dict[str, int] = {}
        self.cross: dict[str, int] = {s: 7_961_000_000 + 1000 * i for i, s in enumerate(models)}
        self.ticker_state: dict[str, dict[str, str]] = {}
        self._ticker_ts: dict[str, int] = dict.fromkeys(models, 0)
        self._ticker_sent: dict[str, int] = {}
        self._liq_pending: dict[str, list[dict[str, Any]]] = {s: [] for s in models}
        self._liq_ts: dict[str, int] = dict.fromkeys(models, 0)
        self._conn_ids = 0
        super().__init__(models)

    @property
    def category(self) -> str:
        return "linear" if self.linear else "spot"

    # -- routes ---------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        app.router.add_get(f"/v5/public/{self.category}", self._ws)
        app.router.add_get("/v5/market/orderbook", self.rest_orderbook)
        app.router.add_get("/v5/market/instruments-info", self.rest_instruments)

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        return await self.serve_ws(request, self._on_message, on_open=self._on_open)

    def _on_open(self, conn: SimConnection) -> None:
        self._conn_ids += 1
        conn.meta["conn_id"] = f"sim{self._conn_ids:04d}-{self.category}"
        conn.meta["last"] = asyncio.get_running_loop().time()
        conn.meta["watchdog"] = asyncio.ensure_future(self._watchdog(conn))

    async def _watchdog(self, conn: SimConnection) -> None:
        loop = asyncio.get_running_loop()
        tick = min(1.0, self.idle_timeout / 4)
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
            while not conn.closed:
                await asyncio.sleep(tick)
                if loop.time() - conn.meta["last"] > self.idle_timeout:
                    conn.close()
                    await conn.ws.close()
                    return

    def _send(self, conn: SimConnection, data: str | bytes) -> None:
        conn.meta["last"] = asyncio.get_running_loop().time()
        conn.push(data)

    # -- control messages -------------------------------------------------------------
    def _reply(self, conn: SimConnection, body: dict[str, Any]) -> None:
        self._send(conn, orjson.dumps(body).decode())

    def _ack(
        self, conn: SimConnection, op: str, req_id: str, ok: bool = True, msg: str | None = None
    ) -> None:
        ret = (
            msg
            if msg is not None
            else ("subscribe" if (not self.linear and op == "subscribe") else "")
        )
        body: dict[str, Any] = {"success": ok, "ret_msg": ret, "conn_id": conn.meta["conn_id"]}
        body["req_id"] = req_id
        body["op"] = op
        self._reply(conn, body)

    def _valid_topic(self, topic: Any) -> bool:
        if not isinstance(topic, str):
            return False
        parts = topic.split(".")
        if parts[0] == "orderbook" and len(parts) == 3:
            return parts[1].isdigit() and int(parts[1]) in _DEPTHS and parts[2] in self.by_venue
        if len(parts) != 2 or parts[1] not in self.by_venue:
            return False
        kinds = (
            {"publicTrade", "tickers", "allLiquidation"}
            if self.linear
            else {"publicTrade", "tickers"}
        )
        return parts[0] in kinds

    def _on_message(self, conn: SimConnection, data: str | bytes) -> None:
        conn.meta["last"] = asyncio.get_running_loop().time()
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._ack(conn, "", "", ok=False, msg="error:parse error")
            return
        if not isinstance(msg, dict):
            self._ack(conn, "", "", ok=False, msg="error:invalid op")
            return
        op = msg.get("op", "")
        req_id = str(msg.get("req_id", ""))
        if op == "ping":
            body: dict[str, Any] = {
                "success": True,
                "ret_msg": "pong",
                "conn_id": conn.meta["conn_id"],
            }
            if self.linear:
                body["req_id"] = req_id
            body["op"] = "ping"
            self._reply(conn, body)
            return
        if op not in ("subscribe", "unsubscribe"):
            self._ack(conn, str(op), req_id, ok=False, msg="error:invalid op")
            return
        args = msg.get("args")
        if not isinstance(args, list) or not args:
            self._ack(conn, op, req_id, ok=False, msg="error:args is empty")
            return
        if not self.linear and len(args) > _SPOT_MAX_ARGS:
            self._ack(conn, op, req_id, ok=False, msg=f"error:args size >{_SPOT_MAX_ARGS}")
            return
        for topic in args:
            if not self._valid_topic(topic):
                self._ack(conn, op, req_id, ok=False, msg=f"error:handler not found,topic:{topic}")
                return
        if op == "unsubscribe":
            for topic in args:
                conn.subscriptions.discard(topic)
            self._ack(conn, op, req_id, msg="")
            return
        for topic in args:
            conn.subscriptions.add(topic)
        self._ack(conn, op, req_id)
        for topic in args:
            self._initial_push(conn, topic)

    def _initial_push(self, conn: SimConnection, topic: str) -> None:
        parts = topic.split(".")
        if parts[0] == "orderbook":
            sym = self.by_venue[parts[2]]
            depth = int(parts[1])
            key = (sym, depth)
            if key not in self.views:
                b, a = self.models[sym].top(depth)
                self.views[key] = (dict(b), dict(a))
                self.u[key] = 1 if depth == 1 else 1000 + 7 * depth
            self._send(conn, self._book_frame(sym, depth, "snapshot", self._view_levels(key)))
        elif parts[0] == "tickers":
            sym = self.by_venue[parts[1]]
            state = self.ticker_state.get(sym) or self._ticker_now(sym)
            self._send(conn, self._ticker_frame(sym, "snapshot", state, self._ticker_ts[sym]))

    # -- encoders ---------------------------------------------------------------------
    def _view_levels(
        self, key: tuple[str, int]
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Current levels of a view, best first, sizes from the model."""
        model = self.models[key[0]]
        if key[1] == 1:  # level 1 is throttled: read the best levels now
            bb, ba = max(model.bids), min(model.asks)
            return [(bb, model.bids[bb])], [(ba, model.asks[ba])]
        b, a = self.views[key]
        return (
            [(p, model.bids[p]) for p in sorted(b, reverse=True)],
            [(p, model.asks[p]) for p in sorted(a)],
        )

    def _book_frame(
        self,
        sym: str,
        depth: int,
        kind: str,
        levels: tuple[list[tuple[int, int]], list[tuple[int, int]]],
    ) -> str:
        model = self.models[sym]
        p, s = model.price_str, model.size_str
        ts = self._ticker_ts.get(sym, 0)
        venue = self.venue_sym[sym]
        data = {
            "s": venue,
            "b": [[p(x), s(q)] for x, q in levels[0]],
            "a": [[p(x), s(q)] for x, q in levels[1]],
            "u": self.u[(sym, depth)],
            "seq": self.cross[sym],
        }
        topic = f"orderbook.{depth}.{venue}"
        if not self.linear or depth == 1:  # key-order quirk: ts before type
            body = {"topic": topic, "ts": ts, "type": kind, "data": data, "cts": ts}
        else:
            body = {"topic": topic, "type": kind, "ts": ts, "data": data, "cts": ts}
        return orjson.dumps(body).decode()

    def _ticker_now(self, sym: str) -> dict[str, str]:
        model = self.models[sym]
        p, s = model.price_str, model.size_str
        bb, ba = model.best_bid(), model.best_ask()
        state = {"symbol": self.venue_sym[sym], "lastPrice": p(model.mid_ticks())}
        if self.linear:
            mark = model.mid_ticks()
            oi = sum(pos.size for pos in model.positions)
            ts = self._ticker_ts.get(sym, 0)
            period = 28_800_000
            state.update(
                markPrice=p(mark),
                indexPrice=p(mark),
                fundingRate=f"{model.funding_rate:.6f}",
                nextFundingTime=str((ts // period + 1) * period),
                fundingIntervalHour="8",
                openInterest=s(oi),
                bid1Price=p(bb),
                bid1Size=s(model.bids[bb]),
                ask1Price=p(ba),
                ask1Size=s(model.asks[ba]),
            )
        else:
            state.update(highPrice24h=p(ba), lowPrice24h=p(bb), prevPrice24h=p(bb), volume24h="0")
        return state

    def _ticker_frame(self, sym: str, kind: str, data: dict[str, str], ts: int) -> str:
        body = {
            "topic": f"tickers.{self.venue_sym[sym]}",
            "type": kind,
            "data": data,
            "cs": self.cross[sym],
            "ts": ts,
        }
        return orjson.dumps(body).decode()

    # -- market data ---------------------------------------------------------------------
    def on_step(self, symbol: str, step: MarketStep) -> None:
        model = self.models[symbol]
        self._ticker_ts[symbol] = step.ts_ms
        self.cross[symbol] += 1 + len(step.trades)
        venue = self.venue_sym[symbol]
        resnap = False
        if any(self.subscribers(f"orderbook.{d}.{venue}") for d in _DEPTHS if d != 1):
            resnap = self.faults.take(Fault.RESNAPSHOT, symbol) is not None
        for depth in _DEPTHS:
            if (symbol, depth) in self.views:
                self._book_step(symbol, depth, model, step, resnap)
        p, s = model.price_str, model.size_str
        if step.trades:
            topic = f"publicTrade.{venue}"
            if self.subscribers(topic):
                trades = []
                for t in step.trades:
                    tid = (
                        f"{t.trade_id:08x}-d8dd-5b31-9112-{zlib.crc32(venue.encode()):012x}"
                        if self.linear
                        else str(2_290_000_000_000_000_000 + t.trade_id)
                    )
                    tr: dict[str, Any] = {
                        "T": t.ts_ms,
                        "s": venue,
                        "S": "Buy" if t.taker_buy else "Sell",
                        "v": s(t.size),
                        "p": p(t.price),
                    }
                    if self.linear:
                        tr["L"] = "PlusTick" if t.taker_buy else "MinusTick"
                    tr.update(i=tid, BT=False, RPI=False, seq=self.cross[symbol])
                    trades.append(tr)
                body = {"topic": topic, "type": "snapshot", "ts": step.ts_ms, "data": trades}
                self.publish(topic, orjson.dumps(body).decode())
        self._tickers_step(symbol, step)
        if self.linear:
            self._liquidations_step(symbol, venue, step)

    def _book_step(
        self, sym: str, depth: int, model: MarketModel, step: MarketStep, resnap: bool
    ) -> None:
        key = (sym, depth)
        topic = f"orderbook.{depth}.{self.venue_sym[sym]}"
        bids, asks = model.bids, model.asks
        if depth == 1:
            if step.ts_ms - self._l1_sent.get(sym, 0) < 10:
                return  # level 1 is pushed at most every 10 ms
            bb, ba = max(bids), min(asks)
            nb, na = {bb: bids[bb]}, {ba: asks[ba]}
            ob, oa = self.views[key]
            self.views[key] = (nb, na)
            changed = nb != ob or na != oa
            if changed:
                self.u[key] += 1
            last = self._l1_sent.get(sym, 0)
            if changed or step.ts_ms - last >= 3000:
                self._l1_sent[sym] = step.ts_ms
                self.publish(
                    topic,
                    self._book_frame(sym, depth, "snapshot", (list(nb.items()), list(na.items()))),
                )
            return
        # the top-``depth`` view as key sets; sizes always come from the model (truth)
        kb = set(bids) if len(bids) <= depth else set(sorted(bids)[-depth:])
        ka = set(asks) if len(asks) <= depth else set(sorted(asks)[:depth])
        ob, oa = self.views[key]
        self.views[key] = ({k: 0 for k in kb}, {k: 0 for k in ka})
        if resnap and self.subscribers(topic):
            self.u[key] = 1  # as after a service restart: u == 1 snapshot
            self.publish_book(
                topic, sym, self._book_frame(sym, depth, "snapshot", self._view_levels(key))
            )
            return
        db = [(px, 0) for px in ob.keys() - kb] + [(px, bids[px]) for px in kb - ob.keys()]
        db += [(px, q) for px, q in step.bids if px in kb and px in ob]
        da = [(px, 0) for px in oa.keys() - ka] + [(px, asks[px]) for px in ka - oa.keys()]
        da += [(px, q) for px, q in step.asks if px in ka and px in oa]
        if not (db or da):
            return
        self.u[key] += 1
        if not self.subscribers(topic):
            return
        if self.faults.take(Fault.SEQ_GAP, sym):
            self.u[key] += 1
        db.sort(reverse=True)
        da.sort()
        self.publish_book(topic, sym, self._book_frame(sym, depth, "delta", (db, da)))

    def _tickers_step(self, sym: str, step: MarketStep) -> None:
        interval = 100 if self.linear else 50
        last = self.ticker_state.get(sym)
        if last is not None and step.ts_ms - self._ticker_sent.get(sym, 0) < interval:
            return
        now = self._ticker_now(sym)
        topic = f"tickers.{self.venue_sym[sym]}"
        if self.linear and last is not None:
            delta = {k: v for k, v in now.items() if last.get(k) != v}
            delta["symbol"] = now["symbol"]
            frame = self._ticker_frame(sym, "delta", delta, step.ts_ms) if len(delta) > 1 else None
        else:
            frame = self._ticker_frame(sym, "snapshot", now, step.ts_ms)
        self._ticker_sent[sym] = step.ts_ms
        self.ticker_state[sym] = now
        if frame is not None:
            self.publish(topic, frame)

    def _liquidations_step(self, sym: str, venue: str, step: MarketStep) -> None:
        p, s = self.models[sym].price_str, self.models[sym].size_str
        for liq in step.liquidations:
            self._liq_pending[sym].append(
                {
                    "T": liq.ts_ms,
                    "s": venue,
                    "S": "Buy" if liq.long else "Sell",
                    "v": s(liq.position.size),
                    "p": p(liq.price),
                }
            )
        if self._liq_pending[sym] and step.ts_ms - self._liq_ts[sym] >= 500:
            self._liq_ts[sym] = step.ts_ms
            topic = f"allLiquidation.{venue}"
            body = {
                "topic": topic,
                "type": "snapshot",
                "ts": step.ts_ms,
                "data": self._liq_pending[sym],
            }
            self._liq_pending[sym] = []
            self.publish(topic, orjson.dumps(body).decode())

    # -- REST -------------------------------------------------------------------------
    async def rest_orderbook(self, request: web.Request) -> web.Response:
        if self.faults.take(Fault.HTTP_429):
            return web.json_response(
                {
                    "retCode": 10006,
                    "retMsg": "Too many visits!",
                    "result": {},
                    "retExtInfo": {},
                    "time": 0,
                },
                status=429,
            )
        q = request.query
        sym = self.by_venue.get(q.get("symbol", ""))
        if q.get("category") != self.category or sym is None:
            return web.json_response(
                {
                    "retCode": 10001,
                    "retMsg": "params error: symbol invalid",
                    "result": {},
                    "retExtInfo": {},
                    "time": 0,
                }
            )
        try:
            limit = max(1, min(1000, int(q.get("limit", "1" if not self.linear else "25"))))
        except ValueError:
            return web.json_response(
                {
                    "retCode": 10001,
                    "retMsg": "params error: limit",
                    "result": {},
                    "retExtInfo": {},
                    "time": 0,
                }
            )
        model = self.models[sym]
        b, a = model.top(limit)
        p, s = model.price_str, model.size_str
        ts = self._ticker_ts[sym]
        result = {
            "s": self.venue_sym[sym],
            "b": [[p(x), s(y)] for x, y in b],
            "a": [[p(x), s(y)] for x, y in a],
            "ts": ts,
            "u": self.u.get((sym, 1000), 0),
            "seq": self.cross[sym],
            "cts": ts,
        }
        return web.json_response(
            {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": ts}
        )

    async def rest_instruments(self, request: web.Request) -> web.Response:
        """``GET /v5/market/instruments-info``: this venue's symbols (other categories: empty)."""
        category = request.query.get("category", "")
        rows: list[dict[str, Any]] = []
        if category == self.category:
            for sym, venue in self.venue_sym.items():
                model = self.models[sym]
                base, quote = sym.split(":")[0].split("/")
                tick, lot = model.price_str(1), model.size_str(1)
                row: dict[str, Any] = {
                    "symbol": venue,
                    "baseCoin": base,
                    "quoteCoin": quote,
                    "status": "Trading",
                    "priceFilter": {"tickSize": tick, "minPrice": tick, "maxPrice": "10000000"},
                }
                if self.linear:
                    row.update(
                        contractType="LinearPerpetual",
                        settleCoin=quote,
                        launchTime="1585526400000",
                        deliveryTime="0",
                        deliveryFeeRate="",
                        priceScale=str(model.price_decimals),
                        leverageFilter={
                            "minLeverage": "1",
                            "maxLeverage": "100.00",
                            "leverageStep": "0.01",
                        },
                        lotSizeFilter={
                            "maxOrderQty": "1000",
                            "minOrderQty": lot,
                            "qtyStep": lot,
                            "postOnlyMaxOrderQty": "1000",
                            "maxMktOrderQty": "100",
                            "minNotionalValue": "5",
                        },
                        unifiedMarginTrade=True,
                        fundingInterval=480,
                        copyTrading="both",
                    )
                else:
                    row.update(
                        innovation="0",
                        marginTrading="both",
                        lotSizeFilter={
                            "basePrecision": lot,
                            "quotePrecision": tick,
                            "minOrderQty": lot,
                            "maxOrderQty": "1000",
                            "minOrderAmt": "1",
                            "maxOrderAmt": "2000000",
                        },
                    )
                rows.append(row)
        result = {"category": category, "list": rows, "nextPageCursor": ""}
        return web.json_response(
            {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 0}
        )


class BybitSpotVenue(_BybitVenue):
    """Bybit spot (``/v5/public/spot``)."""

    market: ClassVar[str] = "spot"
    linear: ClassVar[bool] = False


class BybitLinearVenue(_BybitVenue):
    """Bybit USDT perpetuals (``/v5/public/linear``)."""

    market: ClassVar[str] = "linear"
    linear: ClassVar[bool] = True
