"""Simulated OKX v5 venues: spot and USDT-margined perpetual swaps.

Written independently of ``connex.exchanges.okx`` from ../shared/protocols/okx.md:

- One websocket path, ``/ws/v5/public``. Requests ``{"id","op":"subscribe"|"unsubscribe",
  "args":[{"channel","instId"|"instType"}]}``; one ``{"event":"subscribe","arg":{..},
  "connId":..}`` ack per arg (``id`` echoed when sent); errors ``{"event":"error",
  "code":"600xx","msg":..}`` with 60012 (invalid request / bad JSON), 60018 (unknown
  channel or instrument), 60019 (invalid op). A request with one bad arg subscribes nothing.
- Keepalive: the text frame ``ping`` is answered with ``pong``; a connection that was sent
  nothing for ``idle_timeout`` seconds (30 s on OKX) is closed with code 4004.
- ``books``: a 400-level snapshot (``action: snapshot``, ``prevSeqId: -1``) to the
  subscribing connection, then ``update`` messages whose ``prevSeqId`` is the previous
  ``seqId`` (seqIds per instrument, identical on every connection). ``checksum`` is the
  real signed CRC32 of the top 25 levels when the venue is built with ``checksum=True``,
  else ``0`` as OKX sends today.
- ``trades`` (one fill per message, ``side`` = taker side), ``tickers`` (every 100 ms); on swaps
  ``funding-rate`` (on subscribe and every ``funding_push_ms``; OKX: 30-90 s),
  ``mark-price`` (200 ms when changed, else 10 s) and ``liquidation-orders`` per
  ``instType`` with ``details[].side`` the liquidation ORDER side (``sell`` closes a long)
  and ``posSide`` ``long``/``short`` (hedge mode) or ``net``.
- REST ``GET /api/v5/public/instruments`` and ``GET /api/v5/market/books`` (no seqId, as
  on OKX); 429 ``{"code":"50011"}`` on the HTTP_429 fault.

Faults: everything in the base class plus ``BAD_CHECKSUM`` (one book message carries a
wrong, non-zero checksum) and ``SEQ_GAP`` (one update's ``prevSeqId`` names a seqId that
was never sent). The simulator's swap contract is one unit of the model (``ctVal`` 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ..faults import Fault
from ..market import MarketModel, MarketStep, format_units
from ..venue import SimConnection, Venue

__all__ = ["OkxSpotVenue", "OkxSwapVenue"]

_SPOT_CHANNELS = frozenset({"books", "trades", "tickers"})
_SWAP_CHANNELS = frozenset({"books", "trades", "tickers", "funding-rate", "mark-price"})
_BOOK_LEVELS = 400
_CHECKSUM_LEVELS = 25


def _inst_id(unified: str, swap: bool) -> str:
    base, rest = unified.split("/")
    quote = rest.split(":")[0]
    return f"{base}-{quote}-SWAP" if swap else f"{base}-{quote}"


def _signed_crc(text: str) -> int:
    value = zlib.crc32(text.encode("ascii"))
    return value - (1 << 32) if value & 0x8000_0000 else value


def book_checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """OKX legacy checksum: bids/asks interleaved per rank over 25 levels, ':'-joined."""
    fields: list[str] = []
    for rank in range(_CHECKSUM_LEVELS):
        if rank < len(bids):
            fields.extend(bids[rank])
        if rank < len(asks):
            fields.extend(asks[rank])
    return _signed_crc(":".join(fields))


class _OkxVenue(Venue):
    exchange: ClassVar[str] = "okx"
    swap: ClassVar[bool] = False

    def __init__(
        self,
        models: dict[str, MarketModel],
        checksum: bool = False,
        idle_timeout: float = 30.0,
        funding_push_ms: int = 1000,
    ) -> None:
        self.checksum_enabled = checksum
        self.idle_timeout = idle_timeout
        self.funding_push_ms = funding_push_ms
        self.inst = {sym: _inst_id(sym, self.swap) for sym in models}
        self.by_inst = {inst: sym for sym, inst in self.inst.items()}
        #: last seqId sent per unified symbol
        self.seq: dict[str, int] = {sym: 3_000_000 + 17 * i for i, sym in enumerate(models)}
        self.last_ts: dict[str, int] = dict.fromkeys(models, 0)
        self._mark_sent: dict[str, tuple[int, int]] = {}  # sym -> (ts_ms, mark ticks)
        self._funding_sent: dict[str, int] = dict.fromkeys(models, 0)
        self._conn_ids = 0
        self.checksums_sent = 0
        self._fmt: dict[tuple[int, int], dict[int, str]] = {}
        self._ticker_sent: dict[str, int] = {}
        super().__init__(models)

    @property
    def channels(self) -> frozenset[str]:
        return _SWAP_CHANNELS if self.swap else _SPOT_CHANNELS

    # -- routes ---------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        app.router.add_get("/ws/v5/public", self._ws)
        app.router.add_get("/api/v5/public/instruments", self.rest_instruments)
        app.router.add_get("/api/v5/market/books", self.rest_books)

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        return await self.serve_ws(request, self._on_message, on_open=self._on_open)

    def _on_open(self, conn: SimConnection) -> None:
        self._conn_ids += 1
        conn.meta["connId"] = f"{0x5A000000 + self._conn_ids:08x}"
        conn.meta["last"] = asyncio.get_running_loop().time()
        conn.meta["watchdog"] = asyncio.ensure_future(self._watchdog(conn))

    async def _watchdog(self, conn: SimConnection) -> None:
        """Close a connection that was sent nothing for ``idle_timeout`` seconds (4004)."""
        loop = asyncio.get_running_loop()
        tick = min(1.0, self.idle_timeout / 4)
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
            while not conn.closed:
                await asyncio.sleep(tick)
                if loop.time() - conn.meta["last"] > self.idle_timeout:
                    conn.close()
                    await conn.ws.close(code=4004, message=b"No data received in 30s.")
                    return

    def _send(self, conn: SimConnection, data: str | bytes) -> None:
        conn.meta["last"] = asyncio.get_running_loop().time()
        conn.push(data)

    # -- control messages -------------------------------------------------------------
    def _reply(self, conn: SimConnection, body: dict[str, Any]) -> None:
        body["connId"] = conn.meta.get("connId", "")
        self._send(conn, orjson.dumps(body).decode())

    def _error(self, conn: SimConnection, rid: Any, code: str, msg: str) -> None:
        body: dict[str, Any] = {"event": "error", "code": code, "msg": msg}
        if rid is not None:
            body = {"id": rid, **body}
        self._reply(conn, body)

    def _topic(self, arg: Any) -> str | None:
        """Topic key of a subscription arg, or ``None`` if this venue does not serve it."""
        if not isinstance(arg, dict):
            return None
        channel = arg.get("channel")
        if channel == "liquidation-orders":
            return (
                "liquidation-orders:SWAP" if self.swap and arg.get("instType") == "SWAP" else None
            )
        if channel in self.channels and arg.get("instId") in self.by_inst:
            return f"{channel}:{arg['instId']}"
        return None

    def _on_message(self, conn: SimConnection, data: str | bytes) -> None:
        if data == "ping":
            self._send(conn, "pong")
            return
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._error(conn, None, "60012", f"Invalid request: {text}")
            return
        if not isinstance(msg, dict) or "op" not in msg:
            self._error(conn, None, "60012", f"Invalid request: {text}")
            return
        rid = msg.get("id")
        op = msg["op"]
        if op not in ("subscribe", "unsubscribe"):
            self._error(conn, rid, "60019", f"Invalid op: op {op}")
            return
        args = msg.get("args")
        if not isinstance(args, list) or not args:
            self._error(conn, rid, "60012", f"Invalid request: {text}")
            return
        topics = []
        for arg in args:
            topic = self._topic(arg)
            if topic is None:
                desc = (
                    ",".join(f"{k}:{v}" for k, v in arg.items())
                    if isinstance(arg, dict)
                    else str(arg)
                )
                self._error(
                    conn,
                    rid,
                    "60018",
                    f"Wrong URL or {desc} doesn't exist. Please use the correct URL, "
                    "channel and parameters referring to API document.",
                )
                return
            topics.append((topic, arg))
        for topic, arg in topics:
            ack: dict[str, Any] = {"event": op, "arg": arg}
            if rid is not None:
                ack = {"id": rid, **ack}
            if op == "subscribe":
                conn.subscriptions.add(topic)
                self._reply(conn, ack)
                self._initial_push(conn, topic)
            else:
                conn.subscriptions.discard(topic)
                self._reply(conn, ack)

    def _initial_push(self, conn: SimConnection, topic: str) -> None:
        channel, _, inst = topic.partition(":")
        sym = self.by_inst.get(inst)
        if sym is None:
            return
        if channel == "books":
            self._send(conn, self._snapshot_frame(sym))
        elif channel == "funding-rate":
            self._send(conn, self._funding_frame(sym, self.last_ts[sym]))
        elif channel == "mark-price" and sym in self._mark_sent:
            ts, mark = self._mark_sent[sym]
            self._send(conn, self._mark_frame(sym, ts, mark))

    # -- encoders ---------------------------------------------------------------------
    def _levels(self, model: MarketModel, levels: list[tuple[int, int]]) -> list[list[str]]:
        return [[model.price_str(p), model.size_str(q), "0", str(q % 7 + 1)] for p, q in levels]

    def _checksum(self, model: MarketModel) -> int:
        ps = self._fmt.setdefault((id(model), 0), {})
        ss = self._fmt.setdefault((id(model), 1), {})
        if len(ps) > 50_000 or len(ss) > 50_000:
            ps.clear()
            ss.clear()

        def fmt(units: int, cache: dict[int, str], decimals: int) -> str:
            text = cache.get(units)
            if text is None:
                text = cache[units] = format_units(units, decimals)
            return text

        pd, sd = model.price_decimals, model.size_decimals
        bids, asks = model.bids, model.asks
        b = [
            (fmt(x, ps, pd), fmt(bids[x], ss, sd))
            for x in sorted(bids)[: -_CHECKSUM_LEVELS - 1 : -1]
        ]
        a = [(fmt(x, ps, pd), fmt(asks[x], ss, sd)) for x in sorted(asks)[:_CHECKSUM_LEVELS]]
        return book_checksum(b, a)

    def _snapshot_frame(self, sym: str) -> str:
        model = self.models[sym]
        bids, asks = model.top(_BOOK_LEVELS)
        body = {
            "arg": {"channel": "books", "instId": self.inst[sym]},
            "action": "snapshot",
            "data": [
                {
                    "asks": self._levels(model, asks),
                    "bids": self._levels(model, bids),
                    "ts": str(self.last_ts[sym]),
                    "checksum": self._checksum(model) if self.checksum_enabled else 0,
                    "prevSeqId": -1,
                    "seqId": self.seq[sym],
                }
            ],
        }
        return orjson.dumps(body).decode()

    def _funding_frame(self, sym: str, ts_ms: int) -> str:
        model = self.models[sym]
        period = 28_800_000
        funding_time = (ts_ms // period + 1) * period
        rate = f"{model.funding_rate:.8f}"
        body = {
            "arg": {"channel": "funding-rate", "instId": self.inst[sym]},
            "data": [
                {
                    "formulaType": "withRate",
                    "fundingRate": rate,
                    "fundingTime": str(funding_time),
                    "impactValue": "",
                    "instId": self.inst[sym],
                    "instType": "SWAP",
                    "interestRate": "0.0001",
                    "maxFundingRate": "0.00375",
                    "method": "current_period",
                    "minFundingRate": "-0.00375",
                    "nextFundingRate": "",
                    "nextFundingTime": str(funding_time + period),
                    "premium": "0",
                    "settFundingRate": rate,
                    "settState": "settled",
                    "ts": str(ts_ms),
                }
            ],
        }
        return orjson.dumps(body).decode()

    def _mark_frame(self, sym: str, ts_ms: int, mark: int) -> str:
        body = {
            "arg": {"channel": "mark-price", "instId": self.inst[sym]},
            "data": [
                {
                    "instId": self.inst[sym],
                    "instType": "SWAP",
                    "markPx": self.models[sym].price_str(mark),
                    "ts": str(ts_ms),
                }
            ],
        }
        return orjson.dumps(body).decode()

    # -- market data ---------------------------------------------------------------------
    def on_step(self, symbol: str, step: MarketStep) -> None:
        model = self.models[symbol]
        inst = self.inst[symbol]
        self.last_ts[symbol] = step.ts_ms
        if step.bids or step.asks:
            self._book_update(symbol, inst, model, step)
        p, s = model.price_str, model.size_str
        trade_topic = f"trades:{inst}"
        if step.trades and self.subscribers(trade_topic):
            for t in step.trades:
                body = {
                    "arg": {"channel": "trades", "instId": inst},
                    "data": [
                        {
                            "instId": inst,
                            "tradeId": str(t.trade_id),
                            "px": p(t.price),
                            "sz": s(t.size),
                            "side": "buy" if t.taker_buy else "sell",
                            "ts": str(t.ts_ms),
                            "count": "1",
                            "source": "0",
                        }
                    ],
                }
                self.publish(trade_topic, orjson.dumps(body).decode())
        tick_topic = f"tickers:{inst}"
        if step.ts_ms - self._ticker_sent.get(symbol, 0) >= 100 and self.subscribers(tick_topic):
            self._ticker_sent[symbol] = step.ts_ms
            bb, ba = model.best_bid(), model.best_ask()
            last = step.trades[-1] if step.trades else None
            body = {
                "arg": {"channel": "tickers", "instId": inst},
                "data": [
                    {
                        "instType": "SWAP" if self.swap else "SPOT",
                        "instId": inst,
                        "last": p(last.price) if last else p(bb),
                        "lastSz": s(last.size) if last else "0",
                        "askPx": p(ba),
                        "askSz": s(model.asks[ba]),
                        "bidPx": p(bb),
                        "bidSz": s(model.bids[bb]),
                        "ts": str(step.ts_ms),
                    }
                ],
            }
            self.publish(tick_topic, orjson.dumps(body).decode())
        if self.swap:
            self._swap_streams(symbol, inst, model, step)

    def _book_update(self, symbol: str, inst: str, model: MarketModel, step: MarketStep) -> None:
        topic = f"books:{inst}"
        prev = self.seq[symbol]
        n = len(step.bids) + len(step.asks)
        if not self.subscribers(topic):
            self.seq[symbol] = prev + n
            return
        if self.faults.take(Fault.SEQ_GAP, symbol):
            prev += 1  # the update links to a seqId that was never sent
        seq = prev + n
        self.seq[symbol] = seq
        cs = self._checksum(model) if self.checksum_enabled else 0
        if self.faults.take(Fault.BAD_CHECKSUM, symbol):
            real = cs if cs else self._checksum(model)
            cs = _signed_crc(f"corrupt:{real}") or 1
        p, s = model.price_str, model.size_str
        bids = sorted(step.bids, reverse=True)
        asks = sorted(step.asks)
        body = {
            "arg": {"channel": "books", "instId": inst},
            "action": "update",
            "data": [
                {
                    "asks": [[p(x), s(q), "0", str(q % 7 + 1) if q else "0"] for x, q in asks],
                    "bids": [[p(x), s(q), "0", str(q % 7 + 1) if q else "0"] for x, q in bids],
                    "ts": str(step.ts_ms),
                    "checksum": cs,
                    "prevSeqId": prev,
                    "seqId": seq,
                }
            ],
        }
        if cs:
            self.checksums_sent += 1
        self.publish_book(topic, symbol, orjson.dumps(body).decode())

    def _swap_streams(self, symbol: str, inst: str, model: MarketModel, step: MarketStep) -> None:
        p, s = model.price_str, model.size_str
        if step.liquidations and self.subscribers("liquidation-orders:SWAP"):
            base, quote = symbol.split(":")[0].split("/")
            details = []
            for liq in step.liquidations:
                pos = liq.position
                details.append(
                    {
                        "bkLoss": "0",
                        "bkPx": p(liq.price),
                        "ccy": "",
                        "posSide": "net"
                        if pos.position_id % 2 == 0
                        else ("long" if liq.long else "short"),
                        "side": "sell" if liq.long else "buy",
                        "sz": s(pos.size),
                        "ts": str(liq.ts_ms),
                    }
                )
            body = {
                "arg": {"channel": "liquidation-orders", "instType": "SWAP"},
                "data": [
                    {
                        "details": details,
                        "instFamily": f"{base}-{quote}",
                        "instId": inst,
                        "instType": "SWAP",
                        "uly": f"{base}-{quote}",
                    }
                ],
            }
            self.publish("liquidation-orders:SWAP", orjson.dumps(body).decode())
        if step.mark_ticks is not None:
            last = self._mark_sent.get(symbol)
            due = last is None or (
                step.ts_ms - last[0] >= (200 if step.mark_ticks != last[1] else 10_000)
            )
            if due:
                self._mark_sent[symbol] = (step.ts_ms, step.mark_ticks)
                self.publish(
                    f"mark-price:{inst}", self._mark_frame(symbol, step.ts_ms, step.mark_ticks)
                )
        if step.ts_ms - self._funding_sent[symbol] >= self.funding_push_ms:
            self._funding_sent[symbol] = step.ts_ms
            self.publish(f"funding-rate:{inst}", self._funding_frame(symbol, step.ts_ms))

    # -- REST -------------------------------------------------------------------------
    def _rest_limited(self) -> web.Response | None:
        if self.faults.take(Fault.HTTP_429):
            return web.json_response(
                {"code": "50011", "msg": "Too Many Requests", "data": []}, status=429
            )
        return None

    async def rest_instruments(self, request: web.Request) -> web.Response:
        limited = self._rest_limited()
        if limited is not None:
            return limited
        want = request.query.get("instType", "")
        mine = "SWAP" if self.swap else "SPOT"
        if want not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            return web.json_response(
                {"code": "51000", "msg": "Parameter instType error", "data": []}
            )
        if want != mine:  # this venue lists no instruments of that type
            return web.json_response({"code": "0", "msg": "", "data": []})
        rows = []
        for sym, inst in self.inst.items():
            model = self.models[sym]
            base, quote = sym.split(":")[0].split("/")
            rows.append(
                {
                    "instType": mine,
                    "instId": inst,
                    "baseCcy": "" if self.swap else base,
                    "quoteCcy": "" if self.swap else quote,
                    "settleCcy": quote if self.swap else "",
                    "ctVal": "1" if self.swap else "",
                    "ctMult": "1" if self.swap else "",
                    "ctValCcy": base if self.swap else "",
                    "ctType": "linear" if self.swap else "",
                    "instFamily": f"{base}-{quote}" if self.swap else "",
                    "uly": f"{base}-{quote}" if self.swap else "",
                    "tickSz": model.price_str(1),
                    "lotSz": model.size_str(1),
                    "state": "live",
                }
            )
        return web.json_response({"code": "0", "msg": "", "data": rows})

    async def rest_books(self, request: web.Request) -> web.Response:
        limited = self._rest_limited()
        if limited is not None:
            return limited
        sym = self.by_inst.get(request.query.get("instId", ""))
        if sym is None:
            return web.json_response(
                {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
            )
        try:
            size = max(1, min(400, int(request.query.get("sz", "1"))))
        except ValueError:
            return web.json_response({"code": "50014", "msg": "Parameter sz error", "data": []})
        model = self.models[sym]
        bids, asks = model.top(size)
        data = [
            {
                "asks": self._levels(model, asks),
                "bids": self._levels(model, bids),
                "ts": str(self.last_ts[sym]),
            }
        ]
        return web.json_response({"code": "0", "msg": "", "data": data})


class OkxSpotVenue(_OkxVenue):
    """OKX spot (``instType`` SPOT)."""

    market: ClassVar[str] = "spot"
    swap: ClassVar[bool] = False


class OkxSwapVenue(_OkxVenue):
    """OKX USDT-margined perpetual swaps (``instType`` SWAP)."""

    market: ClassVar[str] = "linear"
    swap: ClassVar[bool] = True
