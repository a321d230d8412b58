"""Simulated Binance spot and USD-M venues (written independently of the connector).

Wire behaviour reproduced (../shared/protocols/binance.md):
- REST ``GET /api/v3/depth`` / ``/fapi/v1/depth`` with ``lastUpdateId``; ``exchangeInfo``;
  429 + ``Retry-After`` on the HTTP_429 fault; ``X-MBX-USED-WEIGHT-1M`` header.
- Websocket raw ``/ws/<stream>`` and combined ``/stream?streams=a/b`` URLs (USD-M under
  ``/public`` and ``/market``; a stream subscribed on the wrong path is accepted and
  silently never delivered, as Binance does), live ``SUBSCRIBE``/``UNSUBSCRIBE``/
  ``LIST_SUBSCRIPTIONS`` with ``{"result":null,"id":N}`` acks, and errors with codes
  2 (invalid request / invalid stream) and 3 (invalid JSON).
- ``depthUpdate`` with contiguous ``U``/``u`` (spot) and ``pu`` (USD-M), ``aggTrade``,
  ``trade``, ``bookTicker``, ``forceOrder`` (at most one per symbol per second, the
  latest), ``markPriceUpdate`` every second. Server pings via websocket ping frames.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ..faults import Fault
from ..market import MarketModel, MarketStep
from ..venue import SimConnection, Venue

__all__ = ["BinanceFuturesVenue", "BinanceSpotVenue"]

_KINDS_SPOT = {"depth", "aggTrade", "trade", "bookTicker"}
_KINDS_UM = {"depth", "aggTrade", "trade", "bookTicker", "forceOrder", "markPrice"}
#: USD-M stream kind -> path that serves it
_UM_PATH = {
    "depth": "public",
    "bookTicker": "public",
    "trade": "public",
    "aggTrade": "market",
    "markPrice": "market",
    "forceOrder": "market",
}


def _venue_symbol(unified: str) -> str:
    base, rest = unified.split("/")
    return base + rest.split(":")[0]


class _BinanceVenue(Venue):
    futures: ClassVar[bool] = False
    exchange: ClassVar[str] = "binance"

    def __init__(self, models: dict[str, MarketModel], ping_interval: float = 20.0) -> None:
        self.ping_interval = ping_interval
        self.by_venue = {_venue_symbol(s): s for s in models}
        self.update_id: dict[str, int] = dict.fromkeys(models, 1000)
        self._last_force: dict[str, int] = dict.fromkeys(models, 0)
        self._pending_force: dict[str, Any] = {}
        self._last_mark: dict[str, int] = dict.fromkeys(models, 0)
        self.weight_used = 0
        super().__init__(models)

    # -- routes ---------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        rest = "/fapi/v1" if self.futures else "/api/v3"
        app.router.add_get(f"{rest}/depth", self.rest_depth)
        app.router.add_get(f"{rest}/exchangeInfo", self.rest_exchange_info)
        app.router.add_get(f"{rest}/ping", self.rest_ping)
        paths = ("public", "market", "") if self.futures else ("",)
        for p in paths:
            prefix = f"/{p}" if p else ""
            app.router.add_get(f"{prefix}/stream", self._ws_handler(p, combined=True))
            app.router.add_get(f"{prefix}/ws", self._ws_handler(p, combined=False))
            app.router.add_get(prefix + "/ws/{streams:.+}", self._ws_handler(p, combined=False))

    def _ws_handler(self, path: str, combined: bool):  # type: ignore[no-untyped-def]
        async def handler(request: web.Request) -> web.WebSocketResponse:
            initial: list[str] = []
            if combined and request.query.get("streams"):
                initial = request.query["streams"].split("/")
            elif not combined and request.match_info.get("streams"):
                initial = request.match_info["streams"].split("/")

            def on_open(conn: SimConnection) -> None:
                conn.meta["combined"] = combined
                conn.meta["path"] = path
                for s in initial:
                    self._subscribe(conn, s)

            return await self.serve_ws(
                request, self._on_message, on_open=on_open, heartbeat=self.ping_interval
            )

        return handler

    # -- control messages -------------------------------------------------------------
    def _valid_stream(self, stream: str) -> bool:
        venue, _, kind = stream.partition("@")
        kind = kind.split("@")[0]
        kinds = _KINDS_UM if self.futures else _KINDS_SPOT
        return venue.upper() in self.by_venue and kind in kinds

    def _subscribe(self, conn: SimConnection, stream: str) -> None:
        conn.subscriptions.add(self._topic(conn, stream))

    def _topic(self, conn: SimConnection, stream: str) -> str:
        """Topic key; a USD-M stream on the wrong path gets a key nothing publishes to."""
        kind = stream.partition("@")[2].split("@")[0]
        if self.futures and conn.meta.get("path") and _UM_PATH.get(kind) != conn.meta["path"]:
            return f"misrouted:{stream}"
        return stream

    def _on_message(self, conn: SimConnection, data: str | bytes) -> None:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            conn.push(
                orjson.dumps(
                    {"error": {"code": 3, "msg": f"Invalid JSON: {exc}"}, "id": None}
                ).decode()
            )
            return
        if not isinstance(msg, dict) or "method" not in msg:
            conn.push(
                '{"error":{"code":2,"msg":"Invalid request: missing field \'method\'"},"id":null}'
            )
            return
        rid = msg.get("id")
        if rid is not None and (not isinstance(rid, int) or isinstance(rid, bool) or rid < 0):
            conn.push(
                orjson.dumps(
                    {
                        "error": {
                            "code": 2,
                            "msg": "Invalid request: request ID must be an unsigned integer",
                        },
                        "id": None,
                    }
                ).decode()
            )
            return
        method = msg["method"]
        params = msg.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                conn.push(
                    orjson.dumps(
                        {
                            "error": {
                                "code": 1,
                                "msg": "Invalid value type: expected array of strings",
                            },
                            "id": rid,
                        }
                    ).decode()
                )
                return
            bad = [p for p in params if not self._valid_stream(p)]
            if bad:
                conn.push(
                    orjson.dumps(
                        {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": rid}
                    ).decode()
                )
                return
            for p in params:
                topic = self._topic(conn, p)
                if method == "SUBSCRIBE":
                    conn.subscriptions.add(topic)
                else:
                    conn.subscriptions.discard(topic)
            conn.push(orjson.dumps({"result": None, "id": rid}).decode())
        elif method == "LIST_SUBSCRIPTIONS":
            subs = sorted(s.removeprefix("misrouted:") for s in conn.subscriptions)
            conn.push(orjson.dumps({"result": subs, "id": rid}).decode())
        else:
            conn.push(
                orjson.dumps(
                    {
                        "error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"},
                        "id": rid,
                    }
                ).decode()
            )

    # -- REST -------------------------------------------------------------------------
    def _weight_headers(self, weight: int) -> dict[str, str]:
        self.weight_used += weight
        return {"X-MBX-USED-WEIGHT-1M": str(self.weight_used)}

    async def rest_depth(self, request: web.Request) -> web.Response:
        limited = self.rest_429()
        if limited is not None:
            return limited
        venue = request.query.get("symbol", "")
        sym = self.by_venue.get(venue)
        if sym is None:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return web.json_response(
                {"code": -1100, "msg": "Illegal characters found in parameter 'limit'."}, status=400
            )
        model = self.models[sym]
        bids, asks = model.top(limit)
        body: dict[str, Any] = {
            "lastUpdateId": self.update_id[sym],
            "bids": [[model.price_str(p), model.size_str(q)] for p, q in bids],
            "asks": [[model.price_str(p), model.size_str(q)] for p, q in asks],
        }
        if self.futures:
            body["E"] = body["T"] = model.seq
        return web.Response(
            body=orjson.dumps(body),
            content_type="application/json",
            headers=self._weight_headers(20),
        )

    async def rest_ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def rest_exchange_info(self, request: web.Request) -> web.Response:
        symbols = []
        for venue, sym in self.by_venue.items():
            base, quote = sym.split(":")[0].split("/")
            entry: dict[str, Any] = {
                "symbol": venue,
                "status": "TRADING",
                "baseAsset": base,
                "quoteAsset": quote,
            }
            if self.futures:
                entry.update(contractType="PERPETUAL", marginAsset=quote)
            symbols.append(entry)
        return web.json_response({"timezone": "UTC", "symbols": symbols})

    # -- market data ---------------------------------------------------------------------
    def _envelope(self, stream: str, payload: bytes) -> bytes:
        return b'{"stream":"' + stream.encode() + b'","data":' + payload + b"}"

    def _send_stream(self, stream: str, payload: bytes, *, book_symbol: str | None = None) -> None:
        subs = self.subscribers(stream)
        if not subs:
            return
        combined = self._envelope(stream, payload).decode()
        raw = payload.decode()
        if book_symbol is not None:
            # the fault filter works per topic; raw and combined clients get the same fault
            self.publish_book(
                stream,
                book_symbol,
                None,
                make=lambda: combined if subs[0].meta.get("combined") else raw,
            )
        else:
            for conn in subs:
                if not self._stalled():
                    conn.push(combined if conn.meta.get("combined") else raw)

    def on_step(self, symbol: str, step: MarketStep) -> None:
        model = self.models[symbol]
        venue = _venue_symbol(symbol).lower()
        p, s = model.price_str, model.size_str
        n = len(step.bids) + len(step.asks)
        if n:
            prev = self.update_id[symbol]
            if self.faults.take(Fault.SEQ_GAP, symbol):
                prev += 1
            first = prev + 1
            last = prev + n
            self.update_id[symbol] = last
            upd: dict[str, Any] = {"e": "depthUpdate", "E": step.ts_ms}
            if self.futures:
                upd["T"] = step.ts_ms
            upd.update(s=venue.upper(), U=first, u=last)
            if self.futures:
                upd["pu"] = prev
            upd["b"] = [[p(px), s(q)] for px, q in step.bids]
            upd["a"] = [[p(px), s(q)] for px, q in step.asks]
            payload = orjson.dumps(upd)
            for stream in (f"{venue}@depth@100ms", f"{venue}@depth"):
                self._send_stream(stream, payload, book_symbol=symbol)
        for t in step.trades:
            agg = {
                "e": "aggTrade",
                "E": step.ts_ms,
                "s": venue.upper(),
                "a": t.trade_id,
                "p": p(t.price),
                "q": s(t.size),
                "f": t.trade_id,
                "l": t.trade_id,
                "T": t.ts_ms,
                "m": not t.taker_buy,
            }
            if not self.futures:
                agg["M"] = True
            self._send_stream(f"{venue}@aggTrade", orjson.dumps(agg))
            raw = {
                "e": "trade",
                "E": step.ts_ms,
                "s": venue.upper(),
                "t": t.trade_id,
                "p": p(t.price),
                "q": s(t.size),
                "T": t.ts_ms,
                "m": not t.taker_buy,
                "M": True,
            }
            self._send_stream(f"{venue}@trade", orjson.dumps(raw))
        if self.subscribers(f"{venue}@bookTicker"):
            bb, ba = model.best_bid(), model.best_ask()
            tick = {
                "u": self.update_id[symbol],
                "s": venue.upper(),
                "b": p(bb),
                "B": s(model.bids[bb]),
                "a": p(ba),
                "A": s(model.asks[ba]),
            }
            if self.futures:
                tick = {"e": "bookTicker", **tick, "E": step.ts_ms, "T": step.ts_ms}
            self._send_stream(f"{venue}@bookTicker", orjson.dumps(tick))
        if self.futures:
            self._futures_streams(symbol, venue, step, model)

    def _futures_streams(
        self, symbol: str, venue: str, step: MarketStep, model: MarketModel
    ) -> None:
        p, s = model.price_str, model.size_str
        if step.liquidations:
            liq = step.liquidations[-1]  # Binance pushes only the latest per second
            qty = s(liq.position.size)
            self._pending_force[symbol] = {
                "e": "forceOrder",
                "E": step.ts_ms,
                "o": {
                    "s": venue.upper(),
                    "S": "SELL" if liq.long else "BUY",
                    "o": "LIMIT",
                    "f": "IOC",
                    "q": qty,
                    "p": p(liq.price),
                    "ap": p(liq.price),
                    "X": "FILLED",
                    "l": qty,
                    "z": qty,
                    "T": liq.ts_ms,
                },
            }
        pending = self._pending_force.get(symbol)
        if pending is not None and step.ts_ms - self._last_force[symbol] >= 1000:
            self._last_force[symbol] = step.ts_ms
            del self._pending_force[symbol]
            pending["E"] = step.ts_ms
            self._send_stream(f"{venue}@forceOrder", orjson.dumps(pending))
        if step.mark_ticks is not None and step.ts_ms - self._last_mark[symbol] >= 1000:
            self._last_mark[symbol] = step.ts_ms
            rate = step.funding_rate if step.funding_rate is not None else Decimal(0)
            mark = {
                "e": "markPriceUpdate",
                "E": step.ts_ms,
                "s": venue.upper(),
                "p": p(step.mark_ticks),
                "i": p(step.mark_ticks),
                "P": p(step.mark_ticks),
                "r": f"{rate:.8f}",
                "T": step.next_funding_ms,
            }
            payload = orjson.dumps(mark)
            for stream in (f"{venue}@markPrice@1s", f"{venue}@markPrice"):
                self._send_stream(stream, payload)

    def disconnect_all(self) -> None:
        with contextlib.suppress(Exception):
            super().disconnect_all()


class BinanceSpotVenue(_BinanceVenue):
    market: ClassVar[str] = "spot"
    futures: ClassVar[bool] = False


class BinanceFuturesVenue(_BinanceVenue):
    market: ClassVar[str] = "linear"
    futures: ClassVar[bool] = True

    def __init__(self, models: dict[str, MarketModel], ping_interval: float = 180.0) -> None:
        super().__init__(models, ping_interval=ping_interval)
