"""MEXC public market-data session (spot v3 and futures), sans-I/O.

**Spot** (``market == "spot"``): one instance speaks one ``/ws`` connection (at most
``CHANNELS_PER_CONNECTION`` subscriptions, MEXC's limit of 30). Control traffic is JSON
text:

- subscribe ``{"method":"SUBSCRIPTION","params":[...],"id":N}`` -> ack
  ``{"id":N,"code":0,"msg":"<channels, comma-joined>"}`` (success iff ``msg`` echoes
  the channels) -> ``Subscribed``; a refusal ``{"code":0,"msg":"Not Subscribed
  successfully! [...]  Reason： Blocked! "}`` or any ``code != 0`` -> ``FeedError``;
- keepalive ``{"method":"PING"}`` (``ping_frame``) -> ``{"msg":"PONG"}`` (swallowed).

Market data are binary protobuf ``PushDataV3ApiWrapper`` frames; the populated ``body``
oneof routes the frame (``publicAggreDepths`` -> ``BookDelta``, ``publicAggreDeals`` ->
``Trade``s, ``publicAggreBookTicker`` -> ``Ticker``) and ``symbol`` (or the channel's
last ``@`` part) names the instrument. A frame is JSON when it is ``str`` or starts with
``{``; everything else is protobuf (a wrapper always starts with field 1, byte ``0x0a``).

**Futures** ("contract" API, ``market == "linear"``) speak JSON on ``/edge``:
``{"method":"sub.depth","param":{"symbol":"BTC_USDT","compress":false},"gzip":false}``
per symbol and channel -> ack ``{"channel":"rs.sub.depth","data":"success"}`` (->
``Subscribed``) or ``{"channel":"rs.error","data":"Contract doesn't exist!"}`` (->
``FeedError``); pushes ``{"channel":"push.depth","data":{...},"symbol":"BTC_USDT",
"ts":ms}``; keepalive ``{"method":"ping"}`` -> ``{"channel":"pong","data":ms}``. Depth is
subscribed unmerged (``compress: false``), so every push carries the next ``version``. A
gzip-compressed binary frame (what the server sends without ``"gzip": false`` is
unverified) is decompressed before decoding.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Literal

import msgspec
from google.protobuf.message import DecodeError as ProtobufDecodeError

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
from connex.model.errors import ConfigError, MalformedFrameError

from . import parse
from .endpoints import depth_request, futures_depth_request, ws_url
from .integrity import sequence_rule
from .messages import (
    ControlReply,
    DepthSnapshot,
    FuturesDeal,
    FuturesDepth,
    FuturesDepthSnapshot,
    FuturesEnvelope,
    FuturesFairPrice,
    FuturesFundingRate,
    PushDataV3ApiWrapper,
)
from .symbols import SymbolMap, market_of, to_venue

__all__ = [
    "CHANNELS_PER_CONNECTION",
    "CHANNEL_TEMPLATE",
    "FUTURES_SUB",
    "FUTURES_SUBS_PER_CONNECTION",
    "PublicSession",
    "channel_name",
]

#: normalized channel -> MEXC spot channel string (``{}`` = venue symbol, upper case)
CHANNEL_TEMPLATE: dict[Channel, str] = {
    Channel.BOOK: "spot@public.aggre.depth.v3.api.pb@100ms@{}",
    Channel.TRADES: "spot@public.aggre.deals.v3.api.pb@100ms@{}",
    Channel.TICKER: "spot@public.aggre.bookTicker.v3.api.pb@100ms@{}",
}

#: MEXC spot accepts 30 subscriptions per connection; extra ones are invalid.
CHANNELS_PER_CONNECTION = 30

#: normalized channel -> futures ``sub.<x>`` name and extra ``param`` fields
FUTURES_SUB: dict[Channel, tuple[str, dict[str, object]]] = {
    Channel.BOOK: ("depth", {"compress": False}),
    Channel.TRADES: ("deal", {}),
    Channel.FUNDING: ("funding.rate", {}),
    Channel.MARK_PRICE: ("fair.price", {}),
}
#: Futures subscriptions per connection (MEXC documents no limit; our choice).
FUTURES_SUBS_PER_CONNECTION = 100

_REFUSED = "Not Subscribed successfully"
_control = msgspec.json.Decoder(ControlReply)
_snapshot = msgspec.json.Decoder(DepthSnapshot)
_encode = msgspec.json.encode
_decode_wrapper = PushDataV3ApiWrapper.FromString

try:  # compiled reader of depth pushes (built from _fastpb.pyx); upb handles everything else
    from ._fastpb import decode_aggre_depth as _fast_depth
except ImportError:  # pragma: no cover - depends on the build
    _fast_depth = None
_fenvelope = msgspec.json.Decoder(FuturesEnvelope)
_fdepth = msgspec.json.Decoder(FuturesDepth)
_fdeals = msgspec.json.Decoder(list[FuturesDeal])
_fdeal = msgspec.json.Decoder(FuturesDeal)
_ffunding = msgspec.json.Decoder(FuturesFundingRate)
_ffair = msgspec.json.Decoder(FuturesFairPrice)
_fsnapshot = msgspec.json.Decoder(FuturesDepthSnapshot)


def channel_name(sub: Subscription) -> str:
    """MEXC channel of a normalized subscription (futures: ``depth:BTC_USDT``)."""
    if market_of(sub.symbol) == "linear":
        return f"{FUTURES_SUB[sub.channel][0]}:{to_venue(sub.symbol)}"
    return CHANNEL_TEMPLATE[sub.channel].format(to_venue(sub.symbol))


class PublicSession(PublicProtocol):
    """MEXC spot and futures public streams. See the module docstring.

    Args:
        spec: the connection this session speaks.
        endpoints: base URLs of the connection's market.
        symbols: id mapping and futures contract sizes (defaults to a fresh ``SymbolMap``).
        book_units: futures book sizes in ``"contracts"`` (MEXC's unit, default) or
            ``"base"`` units (needs every book symbol's contract size in ``symbols``).
            Futures trade sizes are base units whenever the contract size is known.
        contract_sizes: unified perpetual -> base units per contract, added to ``symbols``
            (e.g. ``{"BTC/USDT:USDT": "0.0001"}`` from ``/api/v1/contract/detail``).
    """

    exchange: ClassVar[str] = "mexc"
    channels: ClassVar[dict[MarketType, frozenset[Channel]]] = {
        MarketType.SPOT: frozenset(CHANNEL_TEMPLATE),
        MarketType.LINEAR_PERP: frozenset(FUTURES_SUB),
    }
    #: Spot closes a subscribed connection after 60 s without traffic; futures wants a
    #: ping every 10-20 s (none for a minute -> disconnect).
    ping_interval: ClassVar[float | None] = 15.0
    stale_after: ClassVar[float] = 30.0
    max_lifetime: ClassVar[float | None] = 23.5 * 3600  # spot cuts at 24 h

    def __init__(
        self,
        spec: ConnectionSpec,
        endpoints: MarketEndpoints,
        symbols: SymbolMap | None = None,
        *,
        book_units: Literal["contracts", "base"] = "contracts",
        contract_sizes: Mapping[str, Decimal | str] | None = None,
    ) -> None:
        super().__init__(spec, endpoints)
        self.market = spec.market
        self.symbols = symbols or SymbolMap()
        for unified, size in (contract_sizes or {}).items():
            self.symbols.set_contract_size(unified, size)
        for sub in spec.subscriptions:
            self.symbols.add(to_venue(sub.symbol), sub.symbol, self.market)
        if book_units not in ("contracts", "base"):
            raise ConfigError(f"mexc book_units must be 'contracts' or 'base', not {book_units!r}")
        self.book_units = book_units
        #: unified symbol -> contract size applied to futures book sizes (``None``: contracts)
        self._book_cs: dict[str, Decimal | None] = {}
        for sub in spec.subscriptions:
            if self.market == "linear" and sub.channel is Channel.BOOK and book_units == "base":
                cs = self.symbols.contract_size(sub.symbol)
                if cs is None:
                    raise ConfigError(
                        f"mexc book_units='base' needs the contract size of {sub.symbol}: load "
                        "/api/v1/contract/detail into the SymbolMap or call set_contract_size"
                    )
                self._book_cs[sub.symbol] = cs
        self._next_id = 1
        #: spot channels requested and not yet acknowledged
        self._pending: set[str] = set()
        self._pending_unsub: set[str] = set()
        self._unified: dict[str, str] = {}

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
            url = ws_url(endpoints[market].ws, market)
            limit = CHANNELS_PER_CONNECTION if market == "spot" else FUTURES_SUBS_PER_CONNECTION
            chunks = chunk_by_key(subs, channel_name, limit)
            specs += [cls.connection_spec(market, i, url, c) for i, c in enumerate(chunks)]
        return specs

    # -- outgoing -----------------------------------------------------------------
    def _futures_frames(self, op: str, subscriptions: Sequence[Subscription]) -> list[str]:
        frames: list[str] = []
        seen: set[str] = set()
        for sub in subscriptions:
            name, extra = FUTURES_SUB[sub.channel]
            venue = to_venue(sub.symbol)
            if f"{name}:{venue}" in seen:
                continue
            seen.add(f"{name}:{venue}")
            param: dict[str, object] = {"symbol": venue}
            if op == "sub":
                param.update(extra)
            frames.append(
                _encode({"method": f"{op}.{name}", "param": param, "gzip": False}).decode()
            )
        return frames

    def _control_frames(self, method: str, subscriptions: Sequence[Subscription]) -> list[str]:
        if self.market == "linear":
            return self._futures_frames(
                "sub" if method == "SUBSCRIPTION" else "unsub", subscriptions
            )
        params: list[str] = []
        for sub in subscriptions:
            name = channel_name(sub)
            if name not in params:
                params.append(name)
        if not params:
            return []
        rid = self._next_id
        self._next_id += 1
        if method == "SUBSCRIPTION":
            self._pending.update(params)
        else:
            self._pending_unsub.update(params)
        return [_encode({"method": method, "params": params, "id": rid}).decode()]

    def subscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        return self._control_frames("SUBSCRIPTION", subscriptions)

    def unsubscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        return self._control_frames("UNSUBSCRIPTION", subscriptions)

    def ping_frame(self) -> str | None:
        return '{"method":"PING"}' if self.market == "spot" else '{"method":"ping"}'

    # -- incoming -----------------------------------------------------------------
    def receive(self, frame: str | bytes, ts_local: int) -> list[Any]:
        try:
            if self.market == "linear":
                return self._receive_futures(frame, ts_local)
            if isinstance(frame, str) or frame[:1] == b"{":
                return self._receive_control(frame, ts_local)
            if _fast_depth is not None:
                # hot path: the compiled reader of depth pushes (None for other bodies)
                d = _fast_depth(frame)
                if d is not None:
                    channel, venue, send_time, asks, bids, frm, to = d
                    sym = self._unified.get(venue)
                    if sym is None:
                        sym = self._symbol_of(venue, channel)
                    return [
                        BookDelta(
                            exchange="mexc",
                            symbol=sym,
                            bids=bids,
                            asks=asks,
                            sequence=int(to),
                            first_seq=int(frm),
                            ts_exchange=send_time * 1_000_000,
                            ts_local=ts_local,
                        )
                    ]
            # one upb decode, then the depth body straight to parse
            w = _decode_wrapper(frame)
            if w.WhichOneof("body") == "publicAggreDepths":
                sym = self._unified.get(w.symbol)  # "" (no symbol field) is never a key
                if sym is None:
                    sym = self._symbol(w)
                return [parse.parse_aggre_depth(w.publicAggreDepths, sym, w.sendTime, ts_local)]
            return self._dispatch_push(w, ts_local)
        except (
            msgspec.DecodeError,
            ProtobufDecodeError,
            MalformedFrameError,
            ValueError,
            ArithmeticError,
            OSError,  # gzip.BadGzipFile
            EOFError,  # truncated gzip stream
        ) as exc:
            return [self._error("malformed", str(exc) or type(exc).__name__, frame, ts_local)]

    # -- spot -----------------------------------------------------------------------
    def _symbol(self, wrapper: Any) -> str:
        return self._symbol_of(wrapper.symbol, wrapper.channel)

    def _symbol_of(self, symbol: str, channel: str) -> str:
        venue = symbol or channel.rpartition("@")[2]
        sym = self._unified.get(venue)
        if sym is None:
            if not venue:
                raise MalformedFrameError("push without symbol or channel")
            sym = self._unified[venue] = self.symbols.to_unified(venue, "spot")
        return sym

    def _receive_push(self, frame: bytes, ts_local: int) -> list[Any]:
        return self._dispatch_push(_decode_wrapper(frame), ts_local)

    def _dispatch_push(self, w: Any, ts_local: int) -> list[Any]:
        kind = w.WhichOneof("body")
        handler = self._HANDLERS.get(kind) if kind is not None else None
        if handler is None:
            raise MalformedFrameError(f"unsupported push body {kind!r} on channel {w.channel!r}")
        return handler(self, w, ts_local)

    def _on_depth(self, w: Any, ts_local: int) -> list[Any]:
        return [parse.parse_aggre_depth(w.publicAggreDepths, self._symbol(w), w.sendTime, ts_local)]

    def _on_deals(self, w: Any, ts_local: int) -> list[Any]:
        return list(parse.parse_aggre_deals(w.publicAggreDeals, self._symbol(w), ts_local))

    def _on_ticker(self, w: Any, ts_local: int) -> list[Any]:
        body = w.publicAggreBookTicker
        return [parse.parse_aggre_book_ticker(body, self._symbol(w), w.sendTime, ts_local)]

    _HANDLERS: ClassVar[dict[str, Callable[..., list[Any]]]] = {
        "publicAggreDepths": _on_depth,
        "publicAggreDeals": _on_deals,
        "publicAggreBookTicker": _on_ticker,
    }

    def _receive_control(self, frame: str | bytes, ts_local: int) -> list[Any]:
        reply = _control.decode(frame)
        msg = reply.msg
        if msg == "PONG":
            return []
        if reply.code not in (None, 0) or msg.startswith(_REFUSED):
            for name in list(self._pending):
                if name in msg:
                    self._pending.discard(name)
            text = f"code {reply.code}: {msg.strip()}"
            return [self._error("exchange_error", text, frame, ts_local)]
        names = tuple(n for n in msg.split(",") if n)
        if names and all("@" in n for n in names):
            if not self._pending.intersection(names) and self._pending_unsub.issuperset(names):
                self._pending_unsub.difference_update(names)  # an unsubscribe ack
                return []
            self._pending.difference_update(names)
            return [Subscribed(exchange="mexc", request_id=str(reply.id), channels=names)]
        raise MalformedFrameError(f"unexpected control reply {msg!r}")

    # -- futures ----------------------------------------------------------------------
    def _receive_futures(self, frame: str | bytes, ts_local: int) -> list[Any]:
        if isinstance(frame, bytes) and frame[:2] == b"\x1f\x8b":
            frame = gzip.decompress(frame)
        env = _fenvelope.decode(frame)
        ch = env.channel
        handler = self._FUTURES_HANDLERS.get(ch)
        if handler is not None:
            return handler(self, env, ts_local)
        if ch.startswith("rs.sub."):
            if msgspec.json.decode(env.data) == "success":
                return [
                    Subscribed(exchange="mexc", request_id=ch, channels=(ch.removeprefix("rs."),))
                ]
            text = f"{ch}: {bytes(env.data).decode('utf-8', 'replace')}"
            return [self._error("exchange_error", text, frame, ts_local)]
        if ch.startswith("rs."):
            return []  # unsubscribe acks and other replies we do not act on
        raise MalformedFrameError(f"unknown futures channel {ch!r}")

    def _fsymbol(self, env: FuturesEnvelope, fallback: str = "") -> str:
        venue = env.symbol or fallback
        if not venue:
            raise MalformedFrameError(f"{env.channel} push without symbol")
        return self.symbols.to_unified(venue, "linear")

    def _on_fdepth(self, env: FuturesEnvelope, ts_local: int) -> list[Any]:
        sym = self._fsymbol(env)
        m = _fdepth.decode(env.data)
        return [parse.parse_futures_depth(m, sym, env.ts, ts_local, self._book_cs.get(sym))]

    def _on_fdeal(self, env: FuturesEnvelope, ts_local: int) -> list[Any]:
        sym = self._fsymbol(env)
        raw = bytes(env.data).lstrip()
        deals = _fdeals.decode(raw) if raw[:1] == b"[" else [_fdeal.decode(raw)]
        cs = self.symbols.contract_size(sym)
        return list(parse.parse_futures_deals(deals, sym, ts_local, cs))

    def _on_ffunding(self, env: FuturesEnvelope, ts_local: int) -> list[Any]:
        m = _ffunding.decode(env.data)
        return [parse.parse_futures_funding(m, self._fsymbol(env, m.symbol), env.ts, ts_local)]

    def _on_ffair(self, env: FuturesEnvelope, ts_local: int) -> list[Any]:
        m = _ffair.decode(env.data)
        return [parse.parse_futures_fair_price(m, self._fsymbol(env, m.symbol), env.ts, ts_local)]

    def _on_frs_error(self, env: FuturesEnvelope, ts_local: int) -> list[Any]:
        text = msgspec.json.decode(env.data)
        return [self._error("exchange_error", f"rs.error: {text}", bytes(env.data), ts_local)]

    def _on_fpong(self, env: FuturesEnvelope, ts_local: int) -> list[Any]:
        return []

    _FUTURES_HANDLERS: ClassVar[dict[str, Callable[..., list[Any]]]] = {
        "push.depth": _on_fdepth,
        "push.deal": _on_fdeal,
        "push.funding.rate": _on_ffunding,
        "push.fair.price": _on_ffair,
        "rs.error": _on_frs_error,
        "pong": _on_fpong,
    }

    def _error(self, kind: str, message: str, frame: str | bytes, ts_local: int) -> FeedError:
        if isinstance(frame, str):
            text = frame
        elif frame[:1] == b"{":
            text = frame.decode("utf-8", "replace")
        else:
            text = frame[:100].hex()
        return FeedError(
            exchange="mexc", kind=kind, message=message, snippet=text[:200], ts_local=ts_local
        )

    # -- books --------------------------------------------------------------------
    def sequence_rule(self, symbol: str) -> SequenceRule:
        return sequence_rule(self.market)

    def snapshot_request(self, symbol: str) -> HttpRequest:
        if self.market == "linear":
            return futures_depth_request(self.endpoints.rest, to_venue(symbol))
        return depth_request(self.endpoints.rest, to_venue(symbol))

    def parse_snapshot(self, symbol: str, body: bytes, ts_local: int) -> BookSnapshot:
        text = body[:200].decode("utf-8", "replace")
        try:
            if self.market == "linear":
                m = _fsnapshot.decode(body)
                if not m.success or m.code != 0:
                    raise MalformedFrameError(
                        f"mexc futures depth for {symbol}: code {m.code}", text
                    )
                cs = self._book_cs.get(symbol)
                return parse.parse_futures_snapshot(m, symbol, ts_local, cs)
            return parse.parse_depth_snapshot(_snapshot.decode(body), symbol, ts_local)
        except msgspec.DecodeError as exc:
            raise MalformedFrameError(f"mexc depth snapshot for {symbol}: {exc}", text) from exc
