"""Bybit v5 public market-data session (spot and linear), sans-I/O.

One instance speaks one ``/v5/public/{spot|linear}`` connection. Subscriptions are
``{"req_id":"N","op":"subscribe","args":["orderbook.200.BTCUSDT",...]}`` (at most 10
args per request, the spot limit); acks ``{"success":true,...,"op":"subscribe"}`` become
``Subscribed`` and ``{"success":false,"ret_msg":"error:handler not found,..."}`` a
``FeedError`` (kind ``exchange_error``).

Topics (``topic_for``): ``BOOK`` -> ``orderbook.{book_depth}.{S}`` (default 200; 1, 50,
200 and 1000 exist); ``TICKER`` -> ``orderbook.1.{S}`` (level-1 snapshots, as ``Ticker``);
``TRADES`` -> ``publicTrade.{S}``; ``LIQUIDATIONS`` -> ``allLiquidation.{S}``;
``FUNDING`` and ``MARK_PRICE`` -> ``tickers.{S}`` (linear: snapshot then deltas holding
only changed fields; the session keeps the merged state per symbol so every emitted
``FundingRate``/``MarkPrice`` is complete).

Keepalive: ``{"req_id":"ping","op":"ping"}`` every 20 s; the pong reply is swallowed.
Frames of the retired v2 API (``orderBookL2_25``, ``trade.*``, acks with ``request``)
become ``FeedError(kind="unsupported")``. Source: ../shared/protocols/bybit.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import msgspec

from connex.book import SequenceRule
from connex.exchanges.base import (
    Channel,
    ConnectionSpec,
    MarketEndpoints,
    PublicProtocol,
    Subscription,
    chunk_by_key,
)
from connex.model import FeedError, MarketType, SnapshotVia, Subscribed
from connex.model.errors import MalformedFrameError, UnknownSymbolError

from . import parse
from .endpoints import public_url
from .integrity import GAP_RULE, sequence_rule
from .messages import BookData, Envelope, LiquidationData, TickerData, TradeData
from .symbols import SymbolMap, market_of, to_venue

__all__ = ["BOOK_DEPTH", "V2_TOPICS", "PublicSession"]

#: Default depth of the ``BOOK`` channel (``orderbook.{1,50,200,1000}``).
BOOK_DEPTH = 200
BOOK_DEPTHS = frozenset({1, 50, 200, 1000})
#: Args per subscribe request (spot allows 10) and topics per connection.
ARGS_PER_FRAME = 10
TOPICS_PER_CONNECTION = 200
#: Topic prefixes of the retired v2 API (``realtime``/``realtime_public``).
V2_TOPICS = frozenset(
    {
        "orderBookL2_25",
        "orderBook_200",
        "trade",
        "instrument_info",
        "klineV2",
        "insurance",
        "candle",
    }
)

_SPOT = frozenset({Channel.BOOK, Channel.TRADES, Channel.TICKER})
_LINEAR = frozenset(Channel)

_envelope = msgspec.json.Decoder(Envelope)
_book = msgspec.json.Decoder(BookData)
_trades = msgspec.json.Decoder(list[TradeData])
_liqs = msgspec.json.Decoder(list[LiquidationData])
_ticker = msgspec.json.Decoder(TickerData)
_encode = msgspec.json.encode
_TICKER_FIELDS = TickerData.__struct_fields__[1:]
_FUNDING_FIELDS = frozenset({"fundingRate", "nextFundingTime", "fundingIntervalHour"})
_MARK_FIELDS = frozenset({"markPrice", "indexPrice", "openInterest"})


def topic_for(sub: Subscription, book_depth: int = BOOK_DEPTH) -> str:
    """Bybit topic of a normalized subscription."""
    s = to_venue(sub.symbol)
    ch = sub.channel
    if ch is Channel.BOOK:
        return f"orderbook.{book_depth}.{s}"
    if ch is Channel.TICKER:
        return f"orderbook.1.{s}"
    if ch is Channel.TRADES:
        return f"publicTrade.{s}"
    if ch is Channel.LIQUIDATIONS:
        return f"allLiquidation.{s}"
    return f"tickers.{s}"


class PublicSession(PublicProtocol):
    """Bybit v5 public topics on one connection. See the module docstring."""

    exchange: ClassVar[str] = "bybit"
    channels: ClassVar[dict[MarketType, frozenset[Channel]]] = {
        MarketType.SPOT: _SPOT,
        MarketType.LINEAR_PERP: _LINEAR,
    }
    ping_interval: ClassVar[float | None] = 20.0
    stale_after: ClassVar[float] = 30.0
    max_lifetime: ClassVar[float | None] = None

    def __init__(
        self,
        spec: ConnectionSpec,
        endpoints: MarketEndpoints,
        symbols: SymbolMap | None = None,
        *,
        book_depth: int = BOOK_DEPTH,
        gap_rule: str = GAP_RULE,
    ) -> None:
        super().__init__(spec, endpoints)
        if book_depth not in BOOK_DEPTHS or book_depth == 1:
            raise ValueError(f"bybit: book_depth must be 50, 200 or 1000, not {book_depth}")
        self.market = spec.market
        self.book_depth = book_depth
        self.rule = sequence_rule(gap_rule)
        self.symbols = symbols or SymbolMap()
        self._wanted: set[tuple[Channel, str]] = set()
        for sub in spec.subscriptions:
            self.symbols.add(self.market, to_venue(sub.symbol), sub.symbol)
            self._wanted.add((sub.channel, sub.symbol))
        self._tickers: dict[str, TickerData] = {}
        self._next_id = 1
        self._pending: dict[str, tuple[str, ...]] = {}

    # -- planning -----------------------------------------------------------------
    @classmethod
    def plan(
        cls, subscriptions: Sequence[Subscription], endpoints: dict[str, MarketEndpoints]
    ) -> list[ConnectionSpec]:
        groups: dict[str, list[Subscription]] = {}
        for sub in subscriptions:
            cls.check_subscription(sub)
            groups.setdefault(market_of(sub.symbol), []).append(sub)
        specs: list[ConnectionSpec] = []
        for market, subs in groups.items():
            url = public_url(endpoints[market].ws, market)
            chunks = chunk_by_key(subs, topic_for, TOPICS_PER_CONNECTION)
            specs += [cls.connection_spec(market, i, url, c) for i, c in enumerate(chunks)]
        return specs

    # -- outgoing -----------------------------------------------------------------
    def _frames(self, op: str, subscriptions: Sequence[Subscription]) -> list[str]:
        topics: list[str] = []
        for sub in subscriptions:
            t = topic_for(sub, self.book_depth)
            if t not in topics:
                topics.append(t)
        frames = []
        for i in range(0, len(topics), ARGS_PER_FRAME):
            rid = str(self._next_id)
            self._next_id += 1
            args = topics[i : i + ARGS_PER_FRAME]
            if op == "subscribe":
                self._pending[rid] = tuple(args)
            frames.append(_encode({"req_id": rid, "op": op, "args": args}).decode())
        return frames

    def subscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        return self._frames("subscribe", subscriptions)

    def unsubscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        return self._frames("unsubscribe", subscriptions)

    def ping_frame(self) -> str | None:
        return '{"req_id":"ping","op":"ping"}'

    # -- incoming -----------------------------------------------------------------
    def receive(self, frame: str | bytes, ts_local: int) -> list[Any]:
        try:
            env = _envelope.decode(frame)
            if env.topic:
                return self._on_data(env, frame, ts_local)
            return self._on_control(env, frame, ts_local)
        except UnknownSymbolError as exc:
            return [self._error("unknown_symbol", str(exc), frame, ts_local)]
        except (msgspec.DecodeError, MalformedFrameError, ValueError, ArithmeticError) as exc:
            return [self._error("malformed", str(exc), frame, ts_local)]

    def _on_control(self, env: Envelope, frame: str | bytes, ts_local: int) -> list[Any]:
        if len(env.request):
            return [self._error("unsupported", "unsupported: Bybit v2 API reply", frame, ts_local)]
        op = env.op
        if op in ("ping", "pong"):
            return []
        if env.success is False:
            topics = self._pending.pop(env.req_id, ())
            detail = f" for {', '.join(topics)}" if topics else ""
            return [
                self._error(
                    "exchange_error",
                    f"{op or 'request'} failed: {env.ret_msg}{detail}",
                    frame,
                    ts_local,
                )
            ]
        if op == "subscribe":
            topics = self._pending.pop(env.req_id, ())
            return [Subscribed(exchange="bybit", request_id=env.req_id, channels=topics)]
        if op:
            return []  # unsubscribe / auth acks
        raise MalformedFrameError("neither a data push nor a control reply")

    def _on_data(self, env: Envelope, frame: str | bytes, ts_local: int) -> list[Any]:
        kind, _, rest = env.topic.partition(".")
        m = self.market
        if kind == "orderbook":
            depth, _, venue = rest.partition(".")
            d = _book.decode(env.data)
            symbol = self.symbols.to_unified(m, d.s or venue)
            if depth == "1":
                tick = parse.parse_top_of_book(d, symbol, env.ts, ts_local)
                return [tick] if tick is not None else []
            if env.type == "delta":
                return [parse.parse_book_delta(d, symbol, env.ts, ts_local)]
            return [parse.parse_book_snapshot(d, symbol, env.ts, ts_local)]
        if kind == "publicTrade":
            return [
                parse.parse_trade(t, self.symbols.to_unified(m, t.s), ts_local)
                for t in _trades.decode(env.data)
            ]
        if kind == "allLiquidation":
            return [
                parse.parse_liquidation(x, self.symbols.to_unified(m, x.s), ts_local)
                for x in _liqs.decode(env.data)
            ]
        if kind == "tickers":
            return self._on_ticker(env, ts_local)
        if kind in V2_TOPICS:
            return [
                self._error(
                    "unsupported", f"unsupported: Bybit v2 API topic {env.topic!r}", frame, ts_local
                )
            ]
        return [self._error("unknown_topic", f"unexpected topic {env.topic!r}", frame, ts_local)]

    def _on_ticker(self, env: Envelope, ts_local: int) -> list[Any]:
        t = _ticker.decode(env.data)
        symbol = self.symbols.to_unified(self.market, t.symbol)
        old = self._tickers.get(symbol)
        if env.type == "delta" and old is not None:
            changed = {f: v for f in _TICKER_FIELDS if (v := getattr(t, f)) is not None}
            state = msgspec.structs.replace(old, **changed)
            keys: frozenset[str] = frozenset(changed)
        else:
            state = t
            keys = _FUNDING_FIELDS | _MARK_FIELDS
        self._tickers[symbol] = state
        out: list[Any] = []
        if (Channel.FUNDING, symbol) in self._wanted and not _FUNDING_FIELDS.isdisjoint(keys):
            ev = parse.parse_funding(state, symbol, env.ts, ts_local)
            if ev is not None:
                out.append(ev)
        if (Channel.MARK_PRICE, symbol) in self._wanted and not _MARK_FIELDS.isdisjoint(keys):
            mk = parse.parse_mark_price(state, symbol, env.ts, ts_local)
            if mk is not None:
                out.append(mk)
        return out

    def _error(self, kind: str, message: str, frame: str | bytes, ts_local: int) -> FeedError:
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        return FeedError(
            exchange="bybit", kind=kind, message=message, snippet=text[:200], ts_local=ts_local
        )

    # -- books --------------------------------------------------------------------
    def sequence_rule(self, symbol: str) -> SequenceRule:
        return self.rule

    def snapshot_via(self, symbol: str) -> SnapshotVia:
        return SnapshotVia.RESUBSCRIBE
