"""OKX v5 public market-data session (spot, perpetual swaps, dated futures), sans-I/O.

One instance speaks one ``/ws/v5/public`` connection. Subscriptions are
``{"id":"N","op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},...]}``;
OKX answers one ``{"event":"subscribe","arg":{...}}`` per arg (-> ``Subscribed``) or
``{"event":"error","code":"60018","msg":...}`` (-> ``FeedError`` kind
``exchange_error`` with the code and message). Data pushes are routed on
``arg.channel`` and mapped to unified symbols through ``arg.instId``.

Channel map (``CHANNELS``): ``BOOK`` -> ``books`` (400-level snapshot then 100 ms
updates), ``TRADES`` -> ``trades``, ``TICKER`` -> ``tickers`` (best bid/ask from the
ticker; chosen over ``bbo-tbt`` because it also works for every instrument type and is
what the recorded data carries), ``FUNDING`` -> ``funding-rate``, ``MARK_PRICE`` ->
``mark-price``, ``LIQUIDATIONS`` -> ``liquidation-orders`` (subscribed per ``instType``;
only instruments subscribed on this connection are emitted).

Keepalive: OKX closes a connection that received nothing for 30 s; the client sends the
text frame ``ping`` every ``ping_interval`` (20 s) and the server answers ``pong``, which
is swallowed here. Source: ../shared/protocols/okx.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import msgspec

from connex.book import L2Book, SequenceRule
from connex.exchanges.base import (
    Channel,
    ConnectionSpec,
    MarketEndpoints,
    PublicProtocol,
    Subscription,
)
from connex.model import FeedError, MarketType, SnapshotVia, Subscribed
from connex.model.errors import MalformedFrameError, UnknownSymbolError

from . import parse
from .endpoints import public_url
from .integrity import checksum, sequence_rule
from .messages import (
    BookData,
    BooksPush,
    Envelope,
    FundingData,
    LiquidationData,
    MarkPriceData,
    TickerData,
    TradeData,
)
from .symbols import SymbolMap, inst_type, market_of, to_venue

__all__ = ["CHANNELS", "PublicSession"]

#: normalized channel -> OKX channel name
CHANNELS: dict[Channel, str] = {
    Channel.BOOK: "books",
    Channel.TRADES: "trades",
    Channel.TICKER: "tickers",
    Channel.FUNDING: "funding-rate",
    Channel.MARK_PRICE: "mark-price",
    Channel.LIQUIDATIONS: "liquidation-orders",
}

_SPOT = frozenset({Channel.BOOK, Channel.TRADES, Channel.TICKER})
_PERP = frozenset(CHANNELS)
_FUTURE = frozenset(
    {Channel.BOOK, Channel.TRADES, Channel.TICKER, Channel.MARK_PRICE, Channel.LIQUIDATIONS}
)

#: Args per subscribe request (the whole request must stay under 64 KB).
ARGS_PER_FRAME = 100
#: OKX recommends fewer than 30 depth-400 channels per connection.
BOOKS_PER_CONNECTION = 30
#: Args per connection (subscribe+unsubscribe are limited to 480 per hour per connection).
ARGS_PER_CONNECTION = 200

_envelope = msgspec.json.Decoder(Envelope)
_books_push = msgspec.json.Decoder(BooksPush)
#: How a ``books`` push starts (OKX writes ``arg`` first, ``channel`` first in it).
_BOOKS_HEAD_S = '{"arg":{"channel":"books",'
_BOOKS_HEAD_B = _BOOKS_HEAD_S.encode()
_books = msgspec.json.Decoder(list[BookData])
_trades = msgspec.json.Decoder(list[TradeData])
_tickers = msgspec.json.Decoder(list[TickerData])
_liqs = msgspec.json.Decoder(list[LiquidationData])
_funding = msgspec.json.Decoder(list[FundingData])
_marks = msgspec.json.Decoder(list[MarkPriceData])
_encode = msgspec.json.encode


def _arg(sub: Subscription) -> dict[str, str]:
    name = CHANNELS[sub.channel]
    if sub.channel is Channel.LIQUIDATIONS:
        return {"channel": name, "instType": inst_type(sub.symbol)}
    return {"channel": name, "instId": to_venue(sub.symbol)}


def _arg_key(arg: dict[str, str]) -> str:
    return f"{arg['channel']}:{arg.get('instId') or arg.get('instType', '')}"


class PublicSession(PublicProtocol):
    """OKX public channels on one connection. See the module docstring."""

    exchange: ClassVar[str] = "okx"
    channels: ClassVar[dict[MarketType, frozenset[Channel]]] = {
        MarketType.SPOT: _SPOT,
        MarketType.LINEAR_PERP: _PERP,
        MarketType.INVERSE_PERP: _PERP,
        MarketType.LINEAR_FUTURE: _FUTURE,
        MarketType.INVERSE_FUTURE: _FUTURE,
    }
    ping_interval: ClassVar[float | None] = 20.0
    stale_after: ClassVar[float] = 30.0
    max_lifetime: ClassVar[float | None] = None  # no documented lifetime

    def __init__(
        self, spec: ConnectionSpec, endpoints: MarketEndpoints, symbols: SymbolMap | None = None
    ) -> None:
        super().__init__(spec, endpoints)
        self.market = spec.market
        self.symbols = symbols or SymbolMap()
        self._liq_inst: set[str] = set()
        for sub in spec.subscriptions:
            inst = to_venue(sub.symbol)
            self.symbols.add(inst, sub.symbol)
            if sub.channel is Channel.LIQUIDATIONS:
                self._liq_inst.add(inst)
        self._next_id = 1

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
            ep = endpoints.get(market) or endpoints.get("linear") or endpoints.get("spot")
            if ep is None:
                raise KeyError(f"okx: no endpoints for market {market!r}")
            url = public_url(ep.ws)
            chunk: list[Subscription] = []
            keys: set[str] = set()
            books = 0
            part = 0
            for sub in subs:
                key = _arg_key(_arg(sub))
                is_book = sub.channel is Channel.BOOK and key not in keys
                if key not in keys and (
                    len(keys) >= ARGS_PER_CONNECTION or (is_book and books >= BOOKS_PER_CONNECTION)
                ):
                    specs.append(cls.connection_spec(market, part, url, chunk))
                    chunk, keys, books, part = [], set(), 0, part + 1
                    is_book = sub.channel is Channel.BOOK
                if is_book:
                    books += 1
                keys.add(key)
                chunk.append(sub)
            specs.append(cls.connection_spec(market, part, url, chunk))
        return specs

    # -- outgoing -----------------------------------------------------------------
    def _frames(self, op: str, subscriptions: Sequence[Subscription]) -> list[str]:
        args: list[dict[str, str]] = []
        seen: set[str] = set()
        for sub in subscriptions:
            arg = _arg(sub)
            key = _arg_key(arg)
            if key not in seen:
                seen.add(key)
                args.append(arg)
        frames = []
        for i in range(0, len(args), ARGS_PER_FRAME):
            rid = str(self._next_id)
            self._next_id += 1
            frames.append(
                _encode({"id": rid, "op": op, "args": args[i : i + ARGS_PER_FRAME]}).decode()
            )
        return frames

    def subscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        return self._frames("subscribe", subscriptions)

    def unsubscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        return self._frames("unsubscribe", subscriptions)

    def ping_frame(self) -> str | None:
        return "ping"

    # -- incoming -----------------------------------------------------------------
    def receive(self, frame: str | bytes, ts_local: int) -> list[Any]:
        if frame == "pong" or frame == b"pong":
            return []
        # Hot path: a ``books`` push, decoded in one pass (no Raw + second decode).
        if frame[:26] == _BOOKS_HEAD_S if type(frame) is str else frame[:26] == _BOOKS_HEAD_B:
            try:
                push = _books_push.decode(frame)
            except msgspec.DecodeError:
                pass  # not the common shape: the general path decides (and reports)
            else:
                if push.data:
                    try:
                        return self._books_events(push.arg.instId, push.action, push.data, ts_local)
                    except UnknownSymbolError as exc:
                        return [self._error("unknown_symbol", str(exc), frame, ts_local)]
                    except (MalformedFrameError, ValueError, ArithmeticError, IndexError) as exc:
                        return [self._error("malformed", str(exc), frame, ts_local)]
        try:
            env = _envelope.decode(frame)
            if env.event:
                return self._on_event(env, frame, ts_local)
            arg = env.arg
            if arg is None or not len(env.data):
                raise MalformedFrameError("neither an event nor a data push")
            handler = self._HANDLERS.get(arg.channel)
            if handler is None:
                return [
                    self._error(
                        "unknown_channel", f"unexpected channel {arg.channel!r}", frame, ts_local
                    )
                ]
            return handler(self, env, ts_local)
        except UnknownSymbolError as exc:
            return [self._error("unknown_symbol", str(exc), frame, ts_local)]
        except (
            msgspec.DecodeError,
            MalformedFrameError,
            ValueError,
            ArithmeticError,
            IndexError,
        ) as exc:
            return [self._error("malformed", str(exc), frame, ts_local)]

    def _on_event(self, env: Envelope, frame: str | bytes, ts_local: int) -> list[Any]:
        ev = env.event
        if ev == "subscribe":
            arg = env.arg
            name = f"{arg.channel}:{arg.instId or arg.instType}" if arg is not None else ""
            return [Subscribed(exchange="okx", request_id=env.id, channels=(name,) if name else ())]
        if ev == "error":
            return [self._error("exchange_error", f"code {env.code}: {env.msg}", frame, ts_local)]
        if ev == "notice":
            return [self._error("notice", f"code {env.code}: {env.msg}", frame, ts_local)]
        if ev == "channel-conn-count-error":
            return [
                self._error("exchange_error", f"too many connections: {env.msg}", frame, ts_local)
            ]
        return []  # unsubscribe acks, channel-conn-count, login...

    def _on_books(self, env: Envelope, ts_local: int) -> list[Any]:
        assert env.arg is not None
        return self._books_events(env.arg.instId, env.action, _books.decode(env.data), ts_local)

    def _books_events(
        self, inst: str, action: str, data: list[BookData], ts_local: int
    ) -> list[Any]:
        out: list[Any] = []
        update = action == "update"
        for d in data:
            symbol = self.symbols.to_unified(inst or d.instId)
            if update:
                out.append(parse.parse_book_delta(d, symbol, ts_local))
            else:
                out.append(parse.parse_book_snapshot(d, symbol, ts_local))
        return out

    def _on_trades(self, env: Envelope, ts_local: int) -> list[Any]:
        sym = self.symbols
        return [
            parse.parse_trade(t, sym.to_unified(t.instId), ts_local, sym.contract_value(t.instId))
            for t in _trades.decode(env.data)
        ]

    def _on_tickers(self, env: Envelope, ts_local: int) -> list[Any]:
        out: list[Any] = []
        for t in _tickers.decode(env.data):
            ev = parse.parse_ticker(t, self.symbols.to_unified(t.instId), ts_local)
            if ev is not None:
                out.append(ev)
        return out

    def _on_liquidations(self, env: Envelope, ts_local: int) -> list[Any]:
        out: list[Any] = []
        sym = self.symbols
        for row in _liqs.decode(env.data):
            if row.instId not in self._liq_inst:
                continue  # the channel is per instType: keep what was asked for
            symbol = sym.to_unified(row.instId)
            ct = sym.contract_value(row.instId)
            for d in row.details:
                out.append(parse.parse_liquidation(row.instId, d, symbol, ts_local, ct))
        return out

    def _on_funding(self, env: Envelope, ts_local: int) -> list[Any]:
        return [
            parse.parse_funding(f, self.symbols.to_unified(f.instId), ts_local)
            for f in _funding.decode(env.data)
        ]

    def _on_mark(self, env: Envelope, ts_local: int) -> list[Any]:
        return [
            parse.parse_mark_price(m, self.symbols.to_unified(m.instId), ts_local)
            for m in _marks.decode(env.data)
        ]

    _HANDLERS: ClassVar[dict[str, Callable[..., list[Any]]]] = {
        "books": _on_books,
        "books5": _on_books,
        "bbo-tbt": _on_books,
        "books50-l2-tbt": _on_books,
        "books-l2-tbt": _on_books,
        "trades": _on_trades,
        "tickers": _on_tickers,
        "liquidation-orders": _on_liquidations,
        "funding-rate": _on_funding,
        "mark-price": _on_mark,
    }

    def _error(self, kind: str, message: str, frame: str | bytes, ts_local: int) -> FeedError:
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        return FeedError(
            exchange="okx", kind=kind, message=message, snippet=text[:200], ts_local=ts_local
        )

    # -- books --------------------------------------------------------------------
    def sequence_rule(self, symbol: str) -> SequenceRule:
        return sequence_rule()

    def snapshot_via(self, symbol: str) -> SnapshotVia:
        return SnapshotVia.RESUBSCRIBE

    def checksum(self, symbol: str) -> Callable[[L2Book], int] | None:
        """CRC32 over the top 25 levels; the sync checks it only when a message carries a
        non-zero ``checksum`` (0 = deprecated/absent)."""
        return checksum
