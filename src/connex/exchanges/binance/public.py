"""Binance public market-data session (spot and USD-M), sans-I/O.

One instance speaks one combined-stream connection. Subscriptions are sent as
``{"method":"SUBSCRIBE","params":[...],"id":N}`` and acknowledged with
``{"result":null,"id":N}``; errors come back as ``{"error":{"code":2,"msg":...},"id":N}``
(or ``{"code":..,"msg":..}``) and become ``FeedError`` events. Data frames arrive as
``{"stream":"btcusdt@depth@100ms","data":{...}}``; the stream name routes the payload
to a typed decoder (built once) and tells which symbol it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    chunk_by_key,
)
from connex.model import BookDelta, BookSnapshot, FeedError, MarketType, Subscribed
from connex.model.errors import MalformedFrameError

from . import parse
from .endpoints import UM_ROUTE, depth_request, stream_url
from .integrity import sequence_rule
from .messages import (
    AggTrade,
    BookTicker,
    ControlReply,
    DepthEnvelope,
    DepthSnapshot,
    DepthUpdate,
    Envelope,
    ForceOrder,
    MarkPriceUpdate,
    RawTrade,
)
from .symbols import SymbolMap, market_of, to_venue

__all__ = ["STREAM_SUFFIX", "UNSUPPORTED_KINDS", "UNSUPPORTED_PREFIXES", "PublicSession"]

#: normalized channel -> Binance stream suffix (per market)
STREAM_SUFFIX: dict[str, dict[Channel, str]] = {
    "spot": {
        Channel.BOOK: "depth@100ms",
        Channel.TRADES: "aggTrade",
        Channel.TICKER: "bookTicker",
    },
    "linear": {
        Channel.BOOK: "depth@100ms",
        Channel.TRADES: "aggTrade",
        Channel.TICKER: "bookTicker",
        Channel.LIQUIDATIONS: "forceOrder",
        Channel.FUNDING: "markPrice@1s",
        Channel.MARK_PRICE: "markPrice@1s",
    },
}

#: Stream kinds Binance offers that this connector does not parse: frames of these
#: become ``FeedError(kind="unsupported")`` (counted apart from parse errors), not
#: ``malformed``. Exact kinds, then prefixes (``kline_1m``, ``ticker_1h``...).
UNSUPPORTED_KINDS: frozenset[str] = frozenset({
    "miniTicker", "ticker", "avgPrice", "depth5", "depth10", "depth20", "indexPrice",
    "compositeIndex", "contractInfo", "assetIndex",
})  # fmt: skip
UNSUPPORTED_PREFIXES: tuple[str, ...] = (
    "kline_", "continuousKline_", "markPriceKline_", "indexPriceKline_", "ticker_",
)  # fmt: skip

#: Streams per SUBSCRIBE frame and per connection (Binance allows 1024 per connection).
STREAMS_PER_FRAME = 200
STREAMS_PER_CONNECTION = 1000

_envelope = msgspec.json.Decoder(Envelope)
_control = msgspec.json.Decoder(ControlReply)
_depth = msgspec.json.Decoder(DepthUpdate)
_depth_env = msgspec.json.Decoder(DepthEnvelope)
_snapshot = msgspec.json.Decoder(DepthSnapshot)
_agg = msgspec.json.Decoder(AggTrade)
_trade = msgspec.json.Decoder(RawTrade)
_ticker = msgspec.json.Decoder(BookTicker)
_force = msgspec.json.Decoder(ForceOrder)
_mark = msgspec.json.Decoder(MarkPriceUpdate)
_encode = msgspec.json.encode


def _stream_name(sub: Subscription, market: str) -> str:
    return f"{to_venue(sub.symbol).lower()}@{STREAM_SUFFIX[market][sub.channel]}"


class PublicSession(PublicProtocol):
    """Binance spot / USD-M public streams. See the module docstring."""

    exchange: ClassVar[str] = "binance"
    channels: ClassVar[dict[MarketType, frozenset[Channel]]] = {
        MarketType.SPOT: frozenset(STREAM_SUFFIX["spot"]),
        MarketType.LINEAR_PERP: frozenset(STREAM_SUFFIX["linear"]),
    }
    ping_interval: ClassVar[float | None] = None  # the server pings; we answer with pongs
    stale_after: ClassVar[float] = 30.0
    max_lifetime: ClassVar[float | None] = 23.5 * 3600  # Binance cuts at 24 h
    text_as_bytes: ClassVar[bool] = True

    def __init__(
        self, spec: ConnectionSpec, endpoints: MarketEndpoints, symbol_map: SymbolMap | None = None
    ) -> None:
        super().__init__(spec, endpoints)
        self.market = spec.market
        self.symbols = symbol_map or SymbolMap()
        for sub in spec.subscriptions:
            self.symbols.add(self.market, to_venue(sub.symbol), sub.symbol)
        self._next_id = 1
        self._pending: dict[int, tuple[str, ...]] = {}
        self._routes: dict[str, tuple[Callable[[bytes, str, int], Any], str]] = {}

    # -- planning -----------------------------------------------------------------
    @classmethod
    def plan(
        cls, subscriptions: Sequence[Subscription], endpoints: dict[str, MarketEndpoints]
    ) -> list[ConnectionSpec]:
        groups: dict[tuple[str, str], list[Subscription]] = {}
        for sub in subscriptions:
            cls.check_subscription(sub)
            market = market_of(sub.symbol)
            suffix = STREAM_SUFFIX[market][sub.channel]
            route = "" if market == "spot" else UM_ROUTE[suffix.split("@")[0]]
            groups.setdefault((market, route), []).append(sub)
        specs = []
        for (market, route), subs in groups.items():
            url = stream_url(market, endpoints[market].ws, route)
            chunks = chunk_by_key(
                subs, lambda s, m=market: _stream_name(s, m), STREAMS_PER_CONNECTION
            )
            specs += [cls.connection_spec(market, i, url, c, route) for i, c in enumerate(chunks)]
        return specs

    # -- outgoing -----------------------------------------------------------------
    def _streams(self, subscriptions: Sequence[Subscription]) -> list[str]:
        out: list[str] = []
        for sub in subscriptions:
            name = _stream_name(sub, self.market)
            if name not in out:
                out.append(name)
        return out

    def _control_frames(self, method: str, subscriptions: Sequence[Subscription]) -> list[str]:
        streams = self._streams(subscriptions)
        frames = []
        for i in range(0, len(streams), STREAMS_PER_FRAME):
            params = streams[i : i + STREAMS_PER_FRAME]
            rid = self._next_id
            self._next_id += 1
            self._pending[rid] = tuple(params)
            frames.append(_encode({"method": method, "params": params, "id": rid}).decode())
        return frames

    def subscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        return self._control_frames("SUBSCRIBE", subscriptions)

    def unsubscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        return self._control_frames("UNSUBSCRIBE", subscriptions)

    # -- incoming -----------------------------------------------------------------
    def receive(self, frame: str | bytes, ts_local: int) -> list[Any]:
        try:
            head = frame[:48]
            # diff-depth streams only ("@depth@100ms", "@depth"): not "@depth5" & co
            if (
                ("@depth@" in head or '@depth"' in head)
                if type(head) is str
                else (b"@depth@" in head or b'@depth"' in head)
            ):
                # hot path: one-pass decode of a combined depthUpdate
                env = _depth_env.decode(frame)
                route = self._routes.get(env.stream)
                if route is None:
                    route = self._route(env.stream)
                m = env.data
                return [
                    BookDelta(
                        exchange="binance",
                        symbol=route[1],
                        bids=m.b,
                        asks=m.a,
                        sequence=m.u,
                        first_seq=m.U,
                        prev_seq=m.pu,
                        ts_exchange=m.E * 1_000_000,
                        ts_local=ts_local,
                    )
                ]
            if frame[:10] in ('{"stream":', b'{"stream":'):
                env = _envelope.decode(frame)
                route = self._routes.get(env.stream)
                if route is None:
                    route = self._route(env.stream)
                handler, symbol = route
                return handler(env.data, symbol, ts_local)
            return self._receive_control(frame, ts_local)
        except (msgspec.DecodeError, MalformedFrameError, ValueError, ArithmeticError) as exc:
            return [self._error("malformed", str(exc), frame, ts_local)]

    def _route(self, stream: str) -> tuple[Callable[[bytes, str, int], Any], str]:
        venue, _, kind = stream.partition("@")
        kind = kind.split("@")[0]
        handler = self._HANDLERS.get(kind)
        if handler is None:
            if kind in UNSUPPORTED_KINDS or kind.startswith(UNSUPPORTED_PREFIXES):
                route = (self._unsupported(stream), "")
                self._routes[stream] = route
                return route
            raise MalformedFrameError(f"unknown stream {stream!r}")
        symbol = self.symbols.to_unified(self.market, venue)
        route = (handler.__get__(self), symbol)
        self._routes[stream] = route
        return route

    @staticmethod
    def _unsupported(stream: str) -> Callable[[bytes, str, int], list[Any]]:
        message = f"unsupported stream {stream!r}"

        def handler(raw: bytes, symbol: str, ts_local: int) -> list[Any]:
            snippet = bytes(raw)[:200].decode("utf-8", "replace")
            return [
                FeedError(
                    exchange="binance",
                    kind="unsupported",
                    message=message,
                    snippet=snippet,
                    ts_local=ts_local,
                )
            ]

        return handler

    def _on_depth(self, raw: bytes, symbol: str, ts_local: int) -> list[Any]:
        return [parse.parse_depth_update(_depth.decode(raw), symbol, ts_local)]

    def _on_agg(self, raw: bytes, symbol: str, ts_local: int) -> list[Any]:
        return [parse.parse_agg_trade(_agg.decode(raw), symbol, ts_local)]

    def _on_trade(self, raw: bytes, symbol: str, ts_local: int) -> list[Any]:
        return [parse.parse_raw_trade(_trade.decode(raw), symbol, ts_local)]

    def _on_ticker(self, raw: bytes, symbol: str, ts_local: int) -> list[Any]:
        return [parse.parse_book_ticker(_ticker.decode(raw), symbol, ts_local)]

    def _on_force(self, raw: bytes, symbol: str, ts_local: int) -> list[Any]:
        return [parse.parse_force_order(_force.decode(raw), symbol, ts_local)]

    def _on_mark(self, raw: bytes, symbol: str, ts_local: int) -> list[Any]:
        return list(parse.parse_mark_price(_mark.decode(raw), symbol, ts_local))

    _HANDLERS: ClassVar[dict[str, Callable[..., list[Any]]]] = {
        "depth": _on_depth,
        "aggTrade": _on_agg,
        "trade": _on_trade,
        "bookTicker": _on_ticker,
        "forceOrder": _on_force,
        "markPrice": _on_mark,
    }

    def _receive_control(self, frame: str | bytes, ts_local: int) -> list[Any]:
        reply = _control.decode(frame)
        if reply.error is not None or reply.code is not None:
            err = reply.error or {"code": reply.code, "msg": reply.msg}
            streams = self._pending.pop(reply.id, ()) if isinstance(reply.id, int) else ()
            detail = f" for {', '.join(streams)}" if streams else ""
            return [
                self._error(
                    "exchange_error",
                    f"code {err.get('code')}: {err.get('msg')}{detail}",
                    frame,
                    ts_local,
                )
            ]
        if reply.id is not None:
            streams = self._pending.pop(reply.id, ()) if isinstance(reply.id, int) else ()
            return [Subscribed(exchange="binance", request_id=str(reply.id), channels=streams)]
        raise MalformedFrameError("unknown frame")

    def _error(self, kind: str, message: str, frame: str | bytes, ts_local: int) -> FeedError:
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        return FeedError(
            exchange="binance", kind=kind, message=message, snippet=text[:200], ts_local=ts_local
        )

    # -- books --------------------------------------------------------------------
    def sequence_rule(self, symbol: str) -> SequenceRule:
        return sequence_rule(self.market)

    def snapshot_request(self, symbol: str) -> HttpRequest:
        return depth_request(self.market, self.endpoints.rest, to_venue(symbol))

    def parse_snapshot(self, symbol: str, body: bytes, ts_local: int) -> BookSnapshot:
        try:
            return parse.parse_depth_snapshot(_snapshot.decode(body), symbol, ts_local)
        except msgspec.DecodeError as exc:
            raise MalformedFrameError(
                f"binance depth snapshot for {symbol}: {exc}", body[:200].decode("utf-8", "replace")
            ) from exc
