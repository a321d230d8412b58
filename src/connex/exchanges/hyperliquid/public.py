"""Hyperliquid public market-data session (perpetuals), sans-I/O.

One instance speaks one ``/ws`` connection. Each subscription is its own frame,
``{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}``, acknowledged
with ``{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":
{...}}}`` (-> ``Subscribed``); a refusal is ``{"channel":"error","data":"Invalid
subscription ..."}`` (-> ``FeedError``). Keepalive: ``{"method":"ping"}`` ->
``{"channel":"pong"}`` (the server closes a connection it has sent nothing on for 60 s).
On connect the server may send the plain text ``Websocket connection established.``,
which is skipped.

Channels:

- ``BOOK`` -> ``l2Book``: every push is a full snapshot (``BookSnapshot`` with
  ``sequence = time``); the book sync replaces the book and ignores pushes that are not
  newer. A fresh book is obtained by resubscribing.
- ``TRADES`` -> ``trades`` (``side`` is the aggressor: ``B`` buy, ``A`` sell).
- ``TICKER`` -> ``bbo``.
- ``FUNDING`` / ``MARK_PRICE`` -> ``activeAssetCtx`` (one subscription, both events).
- ``LIQUIDATIONS`` -> there is no public liquidation feed. With ``watch_addresses`` the
  session subscribes ``userFills`` for each address (no authentication needed) and turns
  fills that carry a ``liquidation`` object into ``Liquidation`` events for the
  subscribed coins. This sees only liquidations in which a watched address is the
  liquidated account or the liquidator; without addresses it yields nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import msgspec

from connex.book import SequenceRule
from connex.exchanges.base import (
    Channel,
    ConnectionSpec,
    MarketEndpoints,
    PublicProtocol,
    Subscription,
)
from connex.model import FeedError, MarketType, SnapshotVia, Subscribed
from connex.model.errors import ConfigError, MalformedFrameError

from . import parse
from .auth import normalize_address
from .endpoints import ws_url
from .integrity import sequence_rule
from .messages import (
    ActiveAssetCtx,
    BookPush,
    Envelope,
    SubscriptionResponse,
    UserFills,
    WsBbo,
    WsBook,
    WsTrade,
)
from .symbols import SymbolMap, market_of

__all__ = [
    "MAX_WATCHED_USERS",
    "SUBSCRIPTIONS_PER_CONNECTION",
    "SUBSCRIPTION_TYPE",
    "PublicSession",
]

#: normalized channel -> Hyperliquid subscription type (per coin)
SUBSCRIPTION_TYPE: dict[Channel, str] = {
    Channel.BOOK: "l2Book",
    Channel.TRADES: "trades",
    Channel.TICKER: "bbo",
    Channel.FUNDING: "activeAssetCtx",
    Channel.MARK_PRICE: "activeAssetCtx",
}

#: Hyperliquid allows 1000 subscriptions per IP; keep each connection well below.
SUBSCRIPTIONS_PER_CONNECTION = 500
#: Hyperliquid allows user feeds for at most 10 distinct users per IP.
MAX_WATCHED_USERS = 10

_WELCOME = "Websocket connection established."
_envelope = msgspec.json.Decoder(Envelope)
_book = msgspec.json.Decoder(WsBook)
_book_push = msgspec.json.Decoder(BookPush)
#: How an ``l2Book`` push starts (the venue writes ``channel`` first).
_BOOK_HEAD_S = '{"channel":"l2Book","data":'
_BOOK_HEAD_B = _BOOK_HEAD_S.encode()
_trades = msgspec.json.Decoder(list[WsTrade])
_bbo = msgspec.json.Decoder(WsBbo)
_ctx = msgspec.json.Decoder(ActiveAssetCtx)
_fills = msgspec.json.Decoder(UserFills)
_subresp = msgspec.json.Decoder(SubscriptionResponse)
_encode = msgspec.json.encode


def _sub_key(sub: dict[str, object]) -> str:
    """Identity of a subscription object: ``l2Book:BTC``, ``userFills:0xabc...``."""
    target = sub.get("coin", sub.get("user", ""))
    return f"{sub.get('type')}:{str(target).lower() if 'user' in sub else target}"


class PublicSession(PublicProtocol):
    """Hyperliquid perpetual public streams. See the module docstring.

    Args:
        spec: the connection this session speaks.
        endpoints: base URLs (``linear`` market).
        symbols: coin mapping (defaults to a fresh ``SymbolMap``).
        watch_addresses: accounts whose fills are watched for liquidations (at most
            ``MAX_WATCHED_USERS``); used only when ``LIQUIDATIONS`` is subscribed.
        include_snapshot_fills: also report liquidations found in the ``isSnapshot``
            history a ``userFills`` subscription starts with (off: only live ones).
    """

    exchange: ClassVar[str] = "hyperliquid"
    channels: ClassVar[dict[MarketType, frozenset[Channel]]] = {
        MarketType.LINEAR_PERP: frozenset([*SUBSCRIPTION_TYPE, Channel.LIQUIDATIONS]),
    }
    #: The server closes after 60 s without sending. A pong every 20 s also keeps a quiet
    #: coin from tripping the 30 s stale timer, which then only catches a connection that
    #: went fully silent (pongs included).
    ping_interval: ClassVar[float | None] = 20.0
    stale_after: ClassVar[float] = 30.0
    max_lifetime: ClassVar[float | None] = None

    def __init__(
        self,
        spec: ConnectionSpec,
        endpoints: MarketEndpoints,
        symbols: SymbolMap | None = None,
        *,
        watch_addresses: Iterable[str] = (),
        include_snapshot_fills: bool = False,
    ) -> None:
        super().__init__(spec, endpoints)
        self.market = spec.market
        self.symbols = symbols or SymbolMap()
        for sub in spec.subscriptions:
            coin = self.symbols.to_venue(sub.symbol)
            self.symbols.add(coin, sub.symbol)
        addrs: list[str] = []
        for a in watch_addresses:
            n = normalize_address(a)
            if n not in addrs:
                addrs.append(n)
        if len(addrs) > MAX_WATCHED_USERS:
            raise ConfigError(
                f"watch_addresses: {len(addrs)} addresses; Hyperliquid serves user feeds for "
                f"at most {MAX_WATCHED_USERS} users per IP"
            )
        self.watch_addresses: tuple[str, ...] = tuple(addrs)
        self.include_snapshot_fills = include_snapshot_fills
        #: coins whose liquidations are reported
        self._liq_coins: set[str] = {
            self.symbols.to_venue(s.symbol)
            for s in spec.subscriptions
            if s.channel is Channel.LIQUIDATIONS
        }
        self._pending: set[str] = set()

    # -- planning -----------------------------------------------------------------
    @classmethod
    def plan(
        cls, subscriptions: Sequence[Subscription], endpoints: dict[str, MarketEndpoints]
    ) -> list[ConnectionSpec]:
        subs: list[Subscription] = []
        for sub in subscriptions:
            cls.check_subscription(sub)
            market_of(sub.symbol)
            subs.append(sub)
        if not subs:
            return []
        # liquidation subscriptions first: they share the per-address ``userFills`` feeds,
        # which one connection should carry (once)
        subs.sort(key=lambda s: s.channel is not Channel.LIQUIDATIONS)
        url = ws_url(endpoints["linear"].ws)
        specs: list[ConnectionSpec] = []
        for i in range(0, len(subs), SUBSCRIPTIONS_PER_CONNECTION):
            chunk = tuple(subs[i : i + SUBSCRIPTIONS_PER_CONNECTION])
            specs.append(
                ConnectionSpec(
                    exchange="hyperliquid",
                    name=f"hyperliquid-linear-{len(specs)}",
                    url=url,
                    market="linear",
                    subscriptions=chunk,
                )
            )
        return specs

    # -- outgoing -----------------------------------------------------------------
    def subscription_objects(
        self, subscriptions: Sequence[Subscription]
    ) -> list[dict[str, object]]:
        """Hyperliquid ``subscription`` objects for ``subscriptions`` (deduplicated)."""
        out: list[dict[str, object]] = []
        seen: set[str] = set()
        for sub in subscriptions:
            if sub.channel is Channel.LIQUIDATIONS:
                objs: list[dict[str, object]] = [
                    {"type": "userFills", "user": a} for a in self.watch_addresses
                ]
            else:
                coin = self.symbols.to_venue(sub.symbol)
                objs = [{"type": SUBSCRIPTION_TYPE[sub.channel], "coin": coin}]
            for obj in objs:
                key = _sub_key(obj)
                if key not in seen:
                    seen.add(key)
                    out.append(obj)
        return out

    def subscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        objs = self.subscription_objects(subscriptions)
        self._pending.update(_sub_key(o) for o in objs)
        return [_encode({"method": "subscribe", "subscription": o}).decode() for o in objs]

    def unsubscribe_frames(self, subscriptions: Sequence[Subscription]) -> list[str]:
        objs = self.subscription_objects(subscriptions)
        return [_encode({"method": "unsubscribe", "subscription": o}).decode() for o in objs]

    def ping_frame(self) -> str | None:
        return '{"method":"ping"}'

    # -- incoming -----------------------------------------------------------------
    def receive(self, frame: str | bytes, ts_local: int) -> list[Any]:
        # Hot path: an ``l2Book`` push, decoded in one pass (no Raw + second decode).
        if frame[:27] == _BOOK_HEAD_S if type(frame) is str else frame[:27] == _BOOK_HEAD_B:
            try:
                m = _book_push.decode(frame).data
            except msgspec.DecodeError:
                pass  # not the common shape: the general path decides (and reports)
            else:
                try:
                    return [parse.parse_book(m, self.symbols.to_unified(m.coin), ts_local)]
                except (MalformedFrameError, ValueError, ArithmeticError) as exc:
                    msg = str(exc) or type(exc).__name__
                    return [self._error("malformed", msg, frame, ts_local)]
        try:
            env = _envelope.decode(frame)
            handler = self._HANDLERS.get(env.channel)
            if handler is None:
                raise MalformedFrameError(f"unknown channel {env.channel!r}")
            return handler(self, env.data, ts_local)
        except msgspec.DecodeError as exc:
            text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
            if text.strip() == _WELCOME:
                return []
            return [self._error("malformed", str(exc), frame, ts_local)]
        except (MalformedFrameError, ValueError, ArithmeticError) as exc:
            return [self._error("malformed", str(exc) or type(exc).__name__, frame, ts_local)]

    def _on_book(self, raw: bytes, ts_local: int) -> list[Any]:
        m = _book.decode(raw)
        return [parse.parse_book(m, self.symbols.to_unified(m.coin), ts_local)]

    def _on_trades(self, raw: bytes, ts_local: int) -> list[Any]:
        to_unified = self.symbols.to_unified
        return [parse.parse_trade(t, to_unified(t.coin), ts_local) for t in _trades.decode(raw)]

    def _on_bbo(self, raw: bytes, ts_local: int) -> list[Any]:
        m = _bbo.decode(raw)
        ticker = parse.parse_bbo(m, self.symbols.to_unified(m.coin), ts_local)
        return [] if ticker is None else [ticker]

    def _on_ctx(self, raw: bytes, ts_local: int) -> list[Any]:
        m = _ctx.decode(raw)
        return list(parse.parse_active_asset_ctx(m, self.symbols.to_unified(m.coin), ts_local))

    def _on_user_fills(self, raw: bytes, ts_local: int) -> list[Any]:
        m = _fills.decode(raw)
        if m.isSnapshot and not self.include_snapshot_fills:
            return []
        out: list[Any] = []
        for fill in m.fills:
            if fill.liquidation is None or fill.coin not in self._liq_coins:
                continue
            out.append(
                parse.parse_liquidation_fill(
                    fill, m.user, self.symbols.to_unified(fill.coin), ts_local
                )
            )
        return out

    def _on_subscribed(self, raw: bytes, ts_local: int) -> list[Any]:
        m = _subresp.decode(raw)
        key = _sub_key(m.subscription)
        if m.method != "subscribe":
            return []
        self._pending.discard(key)
        return [Subscribed(exchange="hyperliquid", request_id=key, channels=(key,))]

    def _on_error(self, raw: bytes, ts_local: int) -> list[Any]:
        text = msgspec.json.decode(raw)
        return [self._error("exchange_error", str(text), raw, ts_local)]

    def _on_pong(self, raw: bytes, ts_local: int) -> list[Any]:
        return []

    _HANDLERS: ClassVar[dict[str, Callable[..., list[Any]]]] = {
        "l2Book": _on_book,
        "trades": _on_trades,
        "bbo": _on_bbo,
        "activeAssetCtx": _on_ctx,
        "userFills": _on_user_fills,
        "subscriptionResponse": _on_subscribed,
        "error": _on_error,
        "pong": _on_pong,
        "post": _on_pong,
    }

    def _error(self, kind: str, message: str, frame: str | bytes, ts_local: int) -> FeedError:
        text = frame if isinstance(frame, str) else bytes(frame).decode("utf-8", "replace")
        return FeedError(
            exchange="hyperliquid",
            kind=kind,
            message=message,
            snippet=text[:200],
            ts_local=ts_local,
        )

    # -- books --------------------------------------------------------------------
    def sequence_rule(self, symbol: str) -> SequenceRule:
        return sequence_rule()

    def snapshot_via(self, symbol: str) -> SnapshotVia:
        return SnapshotVia.RESUBSCRIBE
