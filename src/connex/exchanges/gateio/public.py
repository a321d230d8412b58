"""Gate public market-data session (spot and USDT perpetuals), sans-I/O.

One instance speaks one websocket connection (spot ``/ws/v4/`` or futures
``/v4/ws/usdt``). Requests are ``{"time","id","channel","event","payload"}``; the server
answers each with ``{"channel","event":"subscribe","error":null,"result":{"status":
"success"}}`` (a ``Subscribed`` event) or with ``"error": {"code","message"}`` (a
``FeedError`` of kind ``exchange_error`` naming code, message, channel and payload).
Pushes have ``event: "update"``; the ``channel`` picks a typed decoder for ``result``
and the symbol comes from inside the result (``s``, ``currency_pair``, ``contract``).

Books (../shared/protocols/gateio.md §2): by default ``*.order_book_update`` at 100 ms /
100 levels, seeded from a REST snapshot with ``with_id=true`` and checked with the
contiguous ``U``/``u`` rule (``integrity.py``); a ``full: true`` push becomes a
``BookSnapshot``. With ``book_mode="obu"`` the V2 ``*.obu`` channel (``ob.<id>.400``)
is used instead: no REST, the first push is full, a gap re-subscribes.

Keepalive: ``ping_frame()`` gives ``{"time":t,"channel":"spot.ping"}`` (``futures.ping``)
every ``ping_interval`` seconds; the ``*.pong`` reply is swallowed.

Request times: Gate wants the current unix second in ``time``. This module never reads
the clock: it uses the later of ``clock_ns`` (when the driver sets it) and the last
``ts_local`` it was given, else the last server ``time`` it saw (0 before any frame).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import msgspec

from connex.book import SequenceRule
from connex.exchanges.base import (
    Channel,
    ConnectionSpec,
    HttpRequest,
    MarketEndpoints,
    PublicProtocol,
    Subscription,
)
from connex.model import (
    BookDelta,
    BookSnapshot,
    FeedError,
    MarketType,
    SnapshotVia,
    Subscribed,
)
from connex.model.errors import ConfigError, ConnexError, MalformedFrameError

from . import parse
from .endpoints import BOOK_INTERVAL, BOOK_LEVEL, order_book_request, ws_url
from .integrity import sequence_rule
from .messages import (
    BookTicker,
    Envelope,
    FuturesBookUpdate,
    FuturesSnapshot,
    FuturesTicker,
    FuturesTrade,
    PublicLiquidation,
    SpotBookUpdate,
    SpotSnapshot,
    SpotTrade,
)
from .symbols import SymbolMap, market_of, to_venue

__all__ = ["BOOK_MODES", "CHANNELS", "IGNORED_CHANNELS", "PublicSession"]

#: normalized channel -> Gate channel, per market (book: ``*.order_book_update`` mode)
CHANNELS: dict[str, dict[Channel, str]] = {
    "spot": {
        Channel.BOOK: "spot.order_book_update",
        Channel.TRADES: "spot.trades",
        Channel.TICKER: "spot.book_ticker",
    },
    "linear": {
        Channel.BOOK: "futures.order_book_update",
        Channel.TRADES: "futures.trades",
        Channel.TICKER: "futures.book_ticker",
        Channel.LIQUIDATIONS: "futures.public_liquidates",
        Channel.FUNDING: "futures.tickers",
        Channel.MARK_PRICE: "futures.tickers",
    },
}

#: Book channel per mode and market.
BOOK_MODES: dict[str, dict[str, str]] = {
    "update": {"spot": "spot.order_book_update", "linear": "futures.order_book_update"},
    "obu": {"spot": "spot.obu", "linear": "futures.obu"},
}
#: ``obu`` stream depth: ``400`` (100 ms) or ``50`` (20 ms).
OBU_LEVEL = 400

#: Gate channels that may arrive (e.g. in recordings) but carry nothing we normalize.
IGNORED_CHANNELS = frozenset({
    "spot.candlesticks", "spot.tickers", "spot.order_book", "spot.system", "spot.trades_v2",
    "futures.candlesticks", "futures.order_book", "futures.system", "futures.contract_stats",
})  # fmt: skip

#: Symbols in one multi-symbol payload, and symbols per connection (no limit documented).
PAYLOAD_CHUNK = 50
SYMBOLS_PER_CONNECTION = 100

_envelope = msgspec.json.Decoder(Envelope)
_spot_book = msgspec.json.Decoder(SpotBookUpdate)
_fut_book = msgspec.json.Decoder(FuturesBookUpdate)
_spot_snap = msgspec.json.Decoder(SpotSnapshot)
_fut_snap = msgspec.json.Decoder(FuturesSnapshot)
_spot_trade = msgspec.json.Decoder(SpotTrade)
_fut_trades = msgspec.json.Decoder(list[FuturesTrade])
_ticker = msgspec.json.Decoder(BookTicker)
_liqs = msgspec.json.Decoder(list[PublicLiquidation])
_fut_tickers = msgspec.json.Decoder(list[FuturesTicker])
_encode = msgspec.json.encode
_NULL = msgspec.Raw(b"null")
_NS = 1_000_000_000
_MAX_PENDING = 4096


def _scaled(ev: BookDelta | BookSnapshot, mult: Decimal | None) -> BookDelta | BookSnapshot:
    """``ev`` with level sizes multiplied by ``mult`` (obu levels are contract strings)."""
    if mult is None:
        return ev
    bids = tuple((p, parse.contracts_to_base(q, mult)) for p, q in ev.bids)
    asks = tuple((p, parse.contracts_to_base(q, mult)) for p, q in ev.asks)
    return msgspec.structs.replace(ev, bids=bids, asks=asks)


Handler = Callable[["PublicSession", bytes, Envelope, int], list[Any]]


class PublicSession(PublicProtocol):
    """Gate spot / USDT-perpetual public streams. See the module docstring."""

    exchange: ClassVar[str] = "gateio"
    channels: ClassVar[dict[MarketType, frozenset[Channel]]] = {
        MarketType.SPOT: frozenset(CHANNELS["spot"]),
        MarketType.LINEAR_PERP: frozenset(CHANNELS["linear"]),
    }
    ping_interval: ClassVar[float | None] = 10.0  # official samples ping every 5-10 s
    stale_after: ClassVar[float] = 30.0
    max_lifetime: ClassVar[float | None] = None  # no documented connection lifetime

    def __init__(
        self,
        spec: ConnectionSpec,
        endpoints: MarketEndpoints,
        symbols: SymbolMap | None = None,
        *,
        symbol_map: SymbolMap | None = None,
        book_mode: str = "update",
        book_units: str = "contracts",
    ) -> None:
        """``symbols``/``symbol_map`` (the keyword ``Runner.add`` can pass): listings and
        contract multipliers; ``book_mode``: ``"update"`` (REST + deltas) or ``"obu"``;
        ``book_units``: futures book and ticker sizes in ``"contracts"`` (as Gate sends
        them) or ``"base"`` (needs every contract's multiplier in the symbol map)."""
        super().__init__(spec, endpoints)
        if book_mode not in BOOK_MODES:
            raise ConfigError(
                f"gateio book_mode must be one of {sorted(BOOK_MODES)}, not {book_mode!r}"
            )
        self.market = spec.market
        self.book_mode = book_mode
        self.book_channel = BOOK_MODES[book_mode][self.market]
        self.symbols = symbols or symbol_map or SymbolMap()
        for sub in spec.subscriptions:
            self.symbols.add(self.market, to_venue(sub.symbol), sub.symbol)
        if book_units not in ("contracts", "base"):
            raise ConfigError(
                f"gateio book_units must be 'contracts' or 'base', not {book_units!r}"
            )
        #: unified symbol -> multiplier applied to futures book/ticker sizes (base units)
        self._book_mult: dict[str, Decimal] = {}
        if book_units == "base" and self.market == "linear":
            for sub in spec.subscriptions:
                mult = self.symbols.multiplier(sub.symbol)
                if mult is None:
                    raise ConfigError(
                        f"gateio book_units='base' needs the contract multiplier of {sub.symbol}: "
                        "pass symbol_map= loaded from /api/v4/futures/usdt/contracts"
                    )
                self._book_mult[sub.symbol] = mult
        #: Wall-clock ns set by the driver before it asks for frames (optional).
        self.clock_ns = 0
        self._last_ts = 0
        self._server_s = 0
        self._next_id = 1
        self._pending: dict[int, tuple[str, str, tuple[str, ...]]] = {}
        self._prefix = "spot." if self.market == "spot" else "futures."
        self._handlers: dict[str, Handler] = {
            self.book_channel: PublicSession._on_book,
            self._prefix + "trades": PublicSession._on_trades,
            self._prefix + "book_ticker": PublicSession._on_book_ticker,
            "futures.public_liquidates": PublicSession._on_liquidations,
            "futures.tickers": PublicSession._on_tickers,
        }
        self._book_decoder = (
            _spot_book if (self.market == "spot" or book_mode == "obu") else _fut_book
        )

    # -- planning -----------------------------------------------------------------
    @classmethod
    def plan(
        cls, subscriptions: Sequence[Subscription], endpoints: dict[str, MarketEndpoints]
    ) -> list[ConnectionSpec]:
        by_market: dict[str, list[Subscription]] = {}
        for sub in subscriptions:
            cls.check_subscription(sub)
            by_market.setdefault(market_of(sub.symbol), []).append(sub)
        specs: list[ConnectionSpec] = []
        for market, subs in by_market.items():
            url = ws_url(market, endpoints[market].ws)
            symbols: list[str] = []
            for sub in subs:
                if sub.symbol not in symbols:
                    symbols.append(sub.symbol)
            for part, i in enumerate(range(0, len(symbols), SYMBOLS_PER_CONNECTION)):
                chunk = set(symbols[i : i + SYMBOLS_PER_CONNECTION])
                specs.append(
                    ConnectionSpec(
                        exchange=cls.exchange,
                        name=f"gateio-{market}-{part}",
                        url=url,
                        market=market,
                        subscriptions=tuple(s for s in subs if s.symbol in chunk),
                    )
                )
        return specs

    # -- outgoing -----------------------------------------------------------------
    def _now_s(self) -> int:
        ns = max(self.clock_ns, self._last_ts)
        return ns // _NS if ns else self._server_s

    def _requests(self, subscriptions: Sequence[Subscription]) -> list[tuple[str, list[str]]]:
        """(channel, payload) pairs: one per book symbol, chunked lists for the rest."""
        multi: dict[str, list[str]] = {}
        out: list[tuple[str, list[str]]] = []
        seen: set[tuple[str, str]] = set()
        for sub in subscriptions:
            venue = to_venue(sub.symbol)
            if sub.channel is Channel.BOOK:
                channel = self.book_channel
                if (channel, venue) in seen:
                    continue
                seen.add((channel, venue))
                if self.book_mode == "obu":
                    out.append((channel, [f"ob.{venue}.{OBU_LEVEL}"]))
                elif self.market == "spot":
                    out.append((channel, [venue, BOOK_INTERVAL]))
                else:
                    out.append((channel, [venue, BOOK_INTERVAL, str(BOOK_LEVEL)]))
                continue
            channel = CHANNELS[self.market][sub.channel]
            if (channel, venue) in seen:
                continue
            seen.add((channel, venue))
            multi.setdefault(channel, []).append(venue)
        for channel, venues in multi.items():
            for i in range(0, len(venues), PAYLOAD_CHUNK):
                out.append((channel, venues[i : i + PAYLOAD_CHUNK]))
        return out

    def _frames(self, event: str, subscriptions: Sequence[Subscription]) -> list[str]:
        frames = []
        now = self._now_s()
        if len(self._pending) > _MAX_PENDING:  # requests of closed connections never get acks
            for rid in list(self._pending)[: len(self._pending) // 2]:
                del self._pending[rid]
        for channel, payload in self._requests(subscriptions):
            rid = self._next_id
            self._next_id += 1
            self._pending[rid] = (channel, event, tuple(payload))
            msg = {"time": now, "id": rid, "channel": channel, "event": event, "payload": payload}
            frames.append(_encode(msg).decode())
        return frames

    def subscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        return self._frames("subscribe", subscriptions)

    def unsubscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        return self._frames("unsubscribe", subscriptions)

    def ping_frame(self) -> str | None:
        return f'{{"time":{self._now_s()},"channel":"{self._prefix}ping"}}'

    # -- incoming -----------------------------------------------------------------
    def receive(self, frame: str | bytes, ts_local: int) -> list[Any]:
        self._last_ts = ts_local
        try:
            env = _envelope.decode(frame)
            if env.time:
                self._server_s = env.time
            if env.error is not None:
                return [self._exchange_error(env, frame, ts_local)]
            event = env.event
            if event == "update" or event == "all":
                handler = self._handlers.get(env.channel)
                if handler is None:
                    if env.channel in IGNORED_CHANNELS:
                        return []
                    raise MalformedFrameError(f"unexpected channel {env.channel!r}")
                if env.result == _NULL:
                    raise MalformedFrameError(f"{env.channel} push without result")
                return handler(self, env.result, env, ts_local)
            if event in ("subscribe", "unsubscribe"):
                return self._ack(env, ts_local)
            if env.channel.endswith(".pong"):
                return []  # keepalive reply: nothing to report
            raise MalformedFrameError(f"unknown frame channel={env.channel!r} event={event!r}")
        except (msgspec.DecodeError, ConnexError, ValueError, ArithmeticError, TypeError) as exc:
            return [self._error("malformed", str(exc), frame, ts_local)]

    def _pop_pending(self, env: Envelope) -> tuple[str, str, tuple[str, ...]] | None:
        if isinstance(env.id, int) and env.id in self._pending:
            return self._pending.pop(env.id)
        for rid, (channel, event, payload) in self._pending.items():
            if channel == env.channel and event == env.event:
                del self._pending[rid]
                return channel, event, payload
        return None

    def _ack(self, env: Envelope, ts_local: int) -> list[Any]:
        pending = self._pop_pending(env)
        payload = pending[2] if pending else tuple(str(p) for p in env.payload or ())
        rid = env.id if env.id is not None else "?"
        name = f"{env.channel}:{','.join(payload)}" if payload else env.channel
        return [Subscribed(exchange=self.exchange, request_id=str(rid), channels=(name,))]

    def _exchange_error(self, env: Envelope, frame: str | bytes, ts_local: int) -> FeedError:
        err = env.error
        assert err is not None
        pending = self._pop_pending(env) if env.event in ("subscribe", "unsubscribe") else None
        payload = pending[2] if pending else tuple(str(p) for p in env.payload or ())
        where = f" on {env.channel} {env.event}" if env.channel else ""
        detail = f" {list(payload)}" if payload else ""
        return self._error(
            "exchange_error", f"code {err.code}: {err.message}{where}{detail}", frame, ts_local
        )

    def _error(self, kind: str, message: str, frame: str | bytes, ts_local: int) -> FeedError:
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        return FeedError(
            exchange=self.exchange,
            kind=kind,
            message=message,
            snippet=text[:200],
            ts_local=ts_local,
        )

    # -- channel handlers -----------------------------------------------------------
    def _on_book(self, raw: bytes, env: Envelope, ts_local: int) -> list[Any]:
        m = self._book_decoder.decode(raw)
        venue = m.s
        if self.book_mode == "obu":
            venue = venue.removeprefix("ob.").rsplit(".", 1)[0]
        symbol = self.symbols.to_unified(self.market, venue)
        if m.U < 0 and not m.full:
            raise MalformedFrameError(f"{env.channel} delta for {venue} without 'U'")
        if isinstance(m, SpotBookUpdate):
            if self._book_mult:  # obu on futures in base units
                return [
                    _scaled(
                        parse.parse_spot_update(m, symbol, ts_local), self._book_mult.get(symbol)
                    )
                ]
            return [parse.parse_spot_update(m, symbol, ts_local)]
        return [parse.parse_futures_update(m, symbol, ts_local, self._book_mult.get(symbol))]

    def _on_trades(self, raw: bytes, env: Envelope, ts_local: int) -> list[Any]:
        if self.market == "spot":
            st = _spot_trade.decode(raw)
            symbol = self.symbols.to_unified("spot", st.currency_pair)
            return [parse.parse_spot_trade(st, symbol, ts_local)]
        out: list[Any] = []
        for t in _fut_trades.decode(raw):
            if t.is_internal:
                continue  # insurance-fund / ADL takeover, not a market trade
            symbol = self.symbols.to_unified("linear", t.contract)
            out.append(parse.parse_futures_trade(t, symbol, self._mult(symbol), ts_local))
        return out

    def _on_book_ticker(self, raw: bytes, env: Envelope, ts_local: int) -> list[Any]:
        m = _ticker.decode(raw)
        symbol = self.symbols.to_unified(self.market, m.s)
        tick = parse.parse_book_ticker(m, symbol, ts_local, self._book_mult.get(symbol))
        return [] if tick is None else [tick]

    def _on_liquidations(self, raw: bytes, env: Envelope, ts_local: int) -> list[Any]:
        out: list[Any] = []
        for m in _liqs.decode(raw):
            symbol = self.symbols.to_unified("linear", m.contract)
            out.append(parse.parse_liquidation(m, symbol, self._mult(symbol), ts_local))
        return out

    def _on_tickers(self, raw: bytes, env: Envelope, ts_local: int) -> list[Any]:
        out: list[Any] = []
        frame_ms = env.time_ms or env.time * 1000
        for m in _fut_tickers.decode(raw):
            symbol = self.symbols.to_unified("linear", m.contract)
            out.extend(
                parse.parse_futures_ticker(m, symbol, self._mult(symbol), ts_local, frame_ms)
            )
        return out

    def _mult(self, symbol: str) -> Decimal | None:
        return self.symbols.multiplier(symbol)

    # -- books --------------------------------------------------------------------
    def sequence_rule(self, symbol: str) -> SequenceRule:
        return sequence_rule(self.market)

    def snapshot_via(self, symbol: str) -> SnapshotVia:
        return SnapshotVia.RESUBSCRIBE if self.book_mode == "obu" else SnapshotVia.REST

    def snapshot_request(self, symbol: str) -> HttpRequest:
        return order_book_request(self.market, self.endpoints.rest, to_venue(symbol))

    def parse_snapshot(self, symbol: str, body: bytes, ts_local: int) -> BookSnapshot:
        try:
            if self.market == "spot":
                return parse.parse_spot_snapshot(_spot_snap.decode(body), symbol, ts_local)
            return parse.parse_futures_snapshot(
                _fut_snap.decode(body), symbol, ts_local, self._book_mult.get(symbol)
            )
        except msgspec.DecodeError as exc:
            raise MalformedFrameError(
                f"gateio order book snapshot for {symbol}: {exc}",
                body[:200].decode("utf-8", "replace"),
            ) from exc
