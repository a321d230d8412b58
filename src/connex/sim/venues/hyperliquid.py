"""Simulated Hyperliquid perpetuals venue (written independently of the connector).

Wire behaviour reproduced (../shared/protocols/hyperliquid.md §1-§5, §9):

- REST ``POST /info`` with JSON bodies: ``l2Book`` (same shape as the push),
  ``meta``, ``metaAndAssetCtxs``, ``spotMeta`` (no spot pairs, just the USDC token),
  ``recentTrades``; an unknown ``type`` answers 422
  with a plain-text deserialisation error, like the real server; 429 + ``Retry-After``
  on the HTTP_429 fault.
- Websocket ``/ws``: the plain text ``Websocket connection established.`` on connect;
  ``{"method":"subscribe"|"unsubscribe","subscription":{...}}`` acknowledged with
  ``{"channel":"subscriptionResponse","data":{...echo...}}``; a bad subscription gets
  ``{"channel":"error","data":"Invalid subscription {...}"}``; ``{"method":"ping"}`` ->
  ``{"channel":"pong"}``. The server closes a connection it has sent nothing on for
  ``idle_timeout`` seconds (Hyperliquid: 60 s; tests use 1 s).
- ``l2Book``: every push is a full snapshot of the top ``BOOK_LEVELS`` (20) levels per
  side, ``{coin, time, levels:[bids, asks]}`` with ``{px, sz, n}`` levels; sent right
  after subscribing and then at most every ``book_interval_ms`` (Hyperliquid: one per
  block when 0.5 s have passed; tests use 0 = every market step). ``time`` strictly
  increases per coin.
- ``trades`` (``side`` = aggressor, ``B`` buy / ``A`` sell, ``users`` = [buyer,
  seller]), ``bbo`` (only when it changes), ``activeAssetCtx`` every
  ``ctx_interval_ms`` with decimal-string values.
- Liquidations: every liquidation of the market model is printed as two fills, one on
  the liquidated account (``USERS[...]``, ``dir`` ``Close Long``/``Close Short``) and
  one on ``LIQUIDATOR``, each carrying ``liquidation:{liquidatedUser, markPx,
  method:"market"}``, pushed to ``userFills`` subscribers of those addresses (first
  message of a subscription: ``isSnapshot: true`` with that user's recent fills) and to
  ``userEvents`` subscribers on channel ``user``. ``liquidations_sent`` keeps them for
  tests.
- Faults via the base class: DROP, DUPLICATE, REORDER, MALFORMED, STALL, DISCONNECT,
  HTTP_429 (SEQ_GAP has no meaning: the book carries no sequence).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import deque
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ..market import MarketModel, MarketStep
from ..venue import SimConnection, Venue

__all__ = ["BOOK_LEVELS", "LIQUIDATOR", "USERS", "HyperliquidVenue"]

BOOK_LEVELS = 20
_WELCOME = "Websocket connection established."


def _address(label: str) -> str:
    return "0x" + hashlib.sha256(label.encode()).hexdigest()[:40]


#: Simulated accounts that hold the model's leveraged positions (by position id).
USERS: tuple[str, ...] = tuple(_address(f"connex-sim-hl-user-{i}") for i in range(8))
#: The account that takes over liquidated positions (like Hyperliquid's liquidator vault).
LIQUIDATOR: str = _address("connex-sim-hl-liquidator")
_COIN_TYPES = {"l2Book", "trades", "bbo", "activeAssetCtx", "candle"}
_USER_TYPES = {"userFills", "userEvents", "orderUpdates", "userFundings", "notification"}


def _coin(unified: str) -> str:
    return unified.split("/")[0]


def _sub_json(sub: dict[str, Any]) -> str:
    return orjson.dumps(sub).decode()


class HyperliquidVenue(Venue):
    """Hyperliquid perpetuals. See the module docstring.

    Args:
        models: unified symbol (``BTC/USDC:USDC``) -> market model.
        idle_timeout: seconds without any server frame before the server closes (60).
        book_interval_ms: minimum time between ``l2Book`` pushes of one coin (500).
        ctx_interval_ms: time between ``activeAssetCtx`` pushes (1000).
    """

    exchange: ClassVar[str] = "hyperliquid"
    market: ClassVar[str] = "linear"

    def __init__(
        self,
        models: dict[str, MarketModel],
        *,
        idle_timeout: float = 60.0,
        book_interval_ms: int = 500,
        ctx_interval_ms: int = 1000,
    ) -> None:
        self.idle_timeout = idle_timeout
        self.book_interval_ms = book_interval_ms
        self.ctx_interval_ms = ctx_interval_ms
        self.by_coin = {_coin(s): s for s in models}
        self._book_time: dict[str, int] = {}
        self._last_book_push: dict[str, int] = {}
        self._last_ctx: dict[str, int] = {}
        self._bbo: dict[str, tuple[int, int, int, int]] = {}
        self._trades: dict[str, deque[dict[str, Any]]] = {s: deque(maxlen=100) for s in models}
        self._fills: dict[str, deque[dict[str, Any]]] = {}
        self.liquidations_sent: list[dict[str, Any]] = []
        #: the last ``activeAssetCtx`` data pushed per symbol (for tests)
        self.ctx_sent: dict[str, dict[str, Any]] = {}
        self.idle_closes = 0
        super().__init__(models)

    # -- routes ---------------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/info", self.rest_info)
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
        conn.meta["subs"] = {}
        self._push(conn, _WELCOME)
        conn.meta["watchdog"] = asyncio.ensure_future(self._watchdog(conn))

    async def _watchdog(self, conn: SimConnection) -> None:
        loop = asyncio.get_running_loop()
        while not conn.closed:
            await asyncio.sleep(max(0.05, self.idle_timeout / 4))
            if loop.time() - conn.meta["last_sent"] >= self.idle_timeout:
                self.idle_closes += 1
                conn.close()
                with contextlib.suppress(Exception):
                    await conn.ws.close(message=b"idle")
                return

    def _push(self, conn: SimConnection, data: str | bytes) -> None:
        conn.meta["last_sent"] = asyncio.get_running_loop().time()
        conn.push(data)

    def _send(self, conn: SimConnection, data: str | bytes) -> None:
        self._push(conn, data)

    # -- control messages ---------------------------------------------------------------------
    def _topic(self, sub: dict[str, Any]) -> str | None:
        """Topic of a valid subscription object, ``None`` when invalid."""
        t = sub.get("type")
        if t in _COIN_TYPES:
            coin = sub.get("coin")
            if coin not in self.by_coin:
                return None
            if t == "candle" and not isinstance(sub.get("interval"), str):
                return None
            return f"{t}:{coin}"
        if t in _USER_TYPES:
            user = sub.get("user")
            if not isinstance(user, str) or len(user) != 42 or not user.startswith("0x"):
                return None
            try:
                int(user[2:], 16)
            except ValueError:
                return None
            return f"{t}:{user.lower()}"
        if t == "allMids":
            return "allMids"
        return None

    def _on_message(self, conn: SimConnection, data: str | bytes) -> None:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            text = data if isinstance(data, str) else data.decode("utf-8", "replace")
            self._push(
                conn,
                orjson.dumps(
                    {
                        "channel": "error",
                        "data": f"Error parsing JSON into valid websocket request: {text[:100]}",
                    }
                ).decode(),
            )
            return
        method = msg.get("method") if isinstance(msg, dict) else None
        if method == "ping":
            self._push(conn, '{"channel":"pong"}')
            return
        sub = msg.get("subscription") if isinstance(msg, dict) else None
        if method not in ("subscribe", "unsubscribe") or not isinstance(sub, dict):
            text = data if isinstance(data, str) else data.decode("utf-8", "replace")
            self._push(
                conn,
                orjson.dumps(
                    {
                        "channel": "error",
                        "data": f"Error parsing JSON into valid websocket request: {text[:100]}",
                    }
                ).decode(),
            )
            return
        topic = self._topic(sub)
        if topic is None:
            self._push(
                conn,
                orjson.dumps(
                    {"channel": "error", "data": f"Invalid subscription {_sub_json(sub)}"}
                ).decode(),
            )
            return
        if method == "unsubscribe":
            if topic not in conn.subscriptions:
                self._push(
                    conn,
                    orjson.dumps(
                        {"channel": "error", "data": f"Already unsubscribed: {_sub_json(sub)}"}
                    ).decode(),
                )
                return
            conn.subscriptions.discard(topic)
            self._push(
                conn,
                orjson.dumps(
                    {
                        "channel": "subscriptionResponse",
                        "data": {"method": "unsubscribe", "subscription": sub},
                    }
                ).decode(),
            )
            return
        if topic in conn.subscriptions:
            self._push(
                conn,
                orjson.dumps(
                    {"channel": "error", "data": f"Already subscribed: {_sub_json(sub)}"}
                ).decode(),
            )
            return
        conn.subscriptions.add(topic)
        self._push(
            conn,
            orjson.dumps(
                {
                    "channel": "subscriptionResponse",
                    "data": {"method": "subscribe", "subscription": sub},
                }
            ).decode(),
        )
        kind, _, key = topic.partition(":")
        if kind == "l2Book":
            sym = self.by_coin[key]
            self._push(
                conn, self._book_frame(sym, self._next_time(sym, self._book_time.get(sym, 0)))
            )
        elif kind == "userFills":
            fills = list(self._fills.get(key, ()))
            self._push(
                conn,
                orjson.dumps(
                    {
                        "channel": "userFills",
                        "data": {"isSnapshot": True, "user": key, "fills": fills},
                    }
                ).decode(),
            )

    # -- encoders -------------------------------------------------------------------------------
    def _next_time(self, symbol: str, ts_ms: int) -> int:
        t = max(ts_ms, self._book_time.get(symbol, 0) + 1)
        self._book_time[symbol] = t
        return t

    def _levels(self, model: MarketModel) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        bids, asks = model.top(BOOK_LEVELS)
        p, s = model.price_str, model.size_str
        # order count: a deterministic small number per level (the model has no orders)
        return (
            [{"px": p(px), "sz": s(q), "n": 1 + (px + q) % 5} for px, q in bids],
            [{"px": p(px), "sz": s(q), "n": 1 + (px + q) % 5} for px, q in asks],
        )

    def _book_data(self, symbol: str, time_ms: int) -> dict[str, Any]:
        bids, asks = self._levels(self.models[symbol])
        return {"coin": _coin(symbol), "time": time_ms, "levels": [bids, asks]}

    def _book_frame(self, symbol: str, time_ms: int) -> str:
        return orjson.dumps(
            {"channel": "l2Book", "data": self._book_data(symbol, time_ms)}
        ).decode()

    def _ctx(self, symbol: str, step: MarketStep) -> dict[str, Any]:
        model = self.models[symbol]
        mark = step.mark_ticks if step.mark_ticks is not None else model.mid_ticks()
        oi = sum(pos.size for pos in model.positions)
        rate = step.funding_rate if step.funding_rate is not None else model.funding_rate
        mid = model.price_str(model.mid_ticks())
        return {
            "funding": format(rate, "f"),
            "openInterest": model.size_str(oi),
            "prevDayPx": model.price_str(mark),
            "dayNtlVlm": "1000000.0",
            "premium": "0.0",
            "oraclePx": model.price_str(mark),
            "markPx": model.price_str(mark),
            "midPx": mid,
            "impactPxs": [model.price_str(model.best_bid()), model.price_str(model.best_ask())],
        }

    # -- REST -----------------------------------------------------------------------------------
    async def rest_info(self, request: web.Request) -> web.Response:
        limited = self.rest_429()
        if limited is not None:
            return limited
        try:
            body = orjson.loads(await request.read())
            kind = body["type"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return web.Response(
                status=422, text="Failed to deserialize the JSON body into the target type"
            )
        universe = [
            {"name": c, "szDecimals": self.models[s].size_decimals, "maxLeverage": 50}
            for c, s in self.by_coin.items()
        ]
        if kind == "l2Book":
            sym = self.by_coin.get(body.get("coin"))
            if sym is None:
                return web.Response(body=b"null", content_type="application/json")
            data = self._book_data(sym, self._book_time.get(sym, 0))
            return web.Response(body=orjson.dumps(data), content_type="application/json")
        if kind == "spotMeta":  # the simulator lists no spot pairs; USDC is the collateral token
            usdc = {
                "name": "USDC",
                "szDecimals": 8,
                "weiDecimals": 8,
                "index": 0,
                "tokenId": "0x" + "0" * 32,
                "isCanonical": True,
            }
            return web.json_response({"universe": [], "tokens": [usdc]})
        if kind == "meta":
            return web.json_response({"universe": universe})
        if kind == "metaAndAssetCtxs":
            ctxs = [self._ctx(s, MarketStep(seq=0, ts_ms=0)) for s in self.by_coin.values()]
            return web.Response(
                body=orjson.dumps([{"universe": universe}, ctxs]), content_type="application/json"
            )
        if kind == "recentTrades":
            sym = self.by_coin.get(body.get("coin"))
            trades = list(self._trades[sym]) if sym is not None else []
            return web.Response(body=orjson.dumps(trades), content_type="application/json")
        return web.Response(
            status=422, text="Failed to deserialize the JSON body into the target type"
        )

    # -- market data ------------------------------------------------------------------------------
    def on_step(self, symbol: str, step: MarketStep) -> None:
        model = self.models[symbol]
        coin = _coin(symbol)
        p, s = model.price_str, model.size_str
        topic = f"l2Book:{coin}"
        if step.ts_ms - self._last_book_push.get(symbol, -(10**15)) >= self.book_interval_ms:
            self._last_book_push[symbol] = step.ts_ms
            if self.subscribers(topic):
                t = self._next_time(symbol, step.ts_ms)
                self.publish_book(topic, symbol, self._book_frame(symbol, t))
        if step.trades:
            trades = []
            for tr in step.trades:
                buyer, seller = (
                    (USERS[tr.trade_id % len(USERS)], LIQUIDATOR)
                    if tr.taker_buy
                    else (LIQUIDATOR, USERS[tr.trade_id % len(USERS)])
                )
                trades.append(
                    {
                        "coin": coin,
                        "side": "B" if tr.taker_buy else "A",
                        "px": p(tr.price),
                        "sz": s(tr.size),
                        "hash": "0x" + hashlib.sha256(f"{coin}:{tr.trade_id}".encode()).hexdigest(),
                        "time": tr.ts_ms,
                        "tid": tr.trade_id,
                        "users": [buyer, seller],
                    }
                )
            self._trades[symbol].extend(trades)
            self.publish(
                f"trades:{coin}", orjson.dumps({"channel": "trades", "data": trades}).decode()
            )
        bb, ba = model.best_bid(), model.best_ask()
        top = (bb, model.bids[bb], ba, model.asks[ba])
        if top != self._bbo.get(symbol):
            self._bbo[symbol] = top
            if self.subscribers(f"bbo:{coin}"):
                n = lambda px, q: 1 + (px + q) % 5  # noqa: E731
                data = {
                    "coin": coin,
                    "time": step.ts_ms,
                    "bbo": [
                        {"px": p(bb), "sz": s(top[1]), "n": n(bb, top[1])},
                        {"px": p(ba), "sz": s(top[3]), "n": n(ba, top[3])},
                    ],
                }
                self.publish(f"bbo:{coin}", orjson.dumps({"channel": "bbo", "data": data}).decode())
        if step.ts_ms - self._last_ctx.get(symbol, -(10**15)) >= self.ctx_interval_ms:
            self._last_ctx[symbol] = step.ts_ms
            if self.subscribers(f"activeAssetCtx:{coin}"):
                data = {"coin": coin, "ctx": self._ctx(symbol, step)}
                self.ctx_sent[symbol] = data
                self.publish(
                    f"activeAssetCtx:{coin}",
                    orjson.dumps({"channel": "activeAssetCtx", "data": data}).decode(),
                )
        for liq in step.liquidations:
            self.emit_liquidation(
                symbol,
                coin,
                liq.position.position_id,
                liq.long,
                p(liq.price),
                s(liq.position.size),
                liq.ts_ms,
            )

    def emit_liquidation(
        self, symbol: str, coin: str, position_id: int, long: bool, px: str, sz: str, ts_ms: int
    ) -> None:
        """Print a liquidation of ``position_id`` as fills of the liquidated user and of
        ``LIQUIDATOR`` (called for each model liquidation; tests may call it directly)."""
        victim = USERS[position_id % len(USERS)]
        tid = 10**12 + position_id
        fill_hash = "0x" + hashlib.sha256(f"liq:{coin}:{position_id}".encode()).hexdigest()
        info = {"liquidatedUser": victim, "markPx": px, "method": "market"}
        base = {
            "coin": coin,
            "px": px,
            "sz": sz,
            "time": ts_ms,
            "hash": fill_hash,
            "tid": tid,
            "crossed": True,
            "fee": "0.0",
            "feeToken": "USDC",
            "closedPnl": "0.0",
            "startPosition": "0.0",
        }
        victim_fill = {
            **base,
            "side": "A" if long else "B",
            "dir": "Close Long" if long else "Close Short",
            "oid": tid,
            "liquidation": info,
        }
        liquidator_fill = {
            **base,
            "side": "B" if long else "A",
            "dir": "Open Long" if long else "Open Short",
            "oid": tid + 1,
            "crossed": False,
            "liquidation": info,
        }
        self.liquidations_sent.append(
            {
                "user": victim,
                "coin": coin,
                "long": long,
                "px": px,
                "sz": sz,
                "id": f"{fill_hash}:{tid}",
                "symbol": symbol,
            }
        )
        for user, fill in ((victim, victim_fill), (LIQUIDATOR, liquidator_fill)):
            self._fills.setdefault(user, deque(maxlen=50)).append(fill)
            self.publish(
                f"userFills:{user}",
                orjson.dumps(
                    {"channel": "userFills", "data": {"user": user, "fills": [fill]}}
                ).decode(),
            )
            self.publish(
                f"userEvents:{user}",
                orjson.dumps({"channel": "user", "data": {"fills": [fill]}}).decode(),
            )
        ntl = Decimal(px) * Decimal(sz)
        self.publish(
            f"userEvents:{victim}",
            orjson.dumps(
                {
                    "channel": "user",
                    "data": {
                        "liquidation": {
                            "lid": tid,
                            "liquidator": LIQUIDATOR,
                            "liquidated_user": victim,
                            "liquidated_ntl_pos": format(ntl, "f"),
                            "liquidated_account_value": format(ntl / 10, "f"),
                        }
                    },
                }
            ).decode(),
        )
