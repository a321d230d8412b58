"""Sans-I/O state of a Connex stream client: messages in, model events and commands out.

Theory of operation
-------------------
``StreamState`` knows the client's subscriptions and, for each book, a local
``L2Book``, whether it is live and the next expected stream ``seq``. ``on_message``
decodes one server frame (one message, or a JSON array of messages: a batch, handled
in order as if each had its own frame) and returns ``(events, commands)``:

* ``snapshot``: load the book, expect ``seq + 1``, emit the ``BookSnapshot``;
* ``delta`` with the expected ``seq``: apply, emit the ``BookDelta``;
* ``delta`` with any other ``seq`` (a gap): drop the book, emit ``BookReset(gap)`` and
  a ``resync`` command; deltas are ignored until the next snapshot;
* ``reset``: drop the book, emit the ``BookReset``;
* trades, liquidations, funding, ticker, mark price: emit the model event (a jump in
  their ``seq`` is reported as a ``FeedError(kind="gap")`` first);
* ``error``: a ``FeedError`` (``kind`` = the error code); auth errors raise ``AuthError``.

``on_disconnect`` turns every live book into a ``BookReset(reconnect)``, and
``subscribe_ops`` gives the commands to send on a fresh connection. No I/O, no clock:
the driver (``ConnexWebSocketClient``) does that.
"""

from __future__ import annotations

import msgspec

from connex.book import L2Book
from connex.gateway.protocol import DATA_TYPES, normalize_symbol, sub_key
from connex.model import BookDelta, BookReset, BookSnapshot, FeedError, ResetReason
from connex.model.errors import AuthError

__all__ = ["StreamState", "Subscription"]


class _Msg(msgspec.Struct, kw_only=True):
    type: str
    sub: str | None = None
    seq: int = 0
    ts_gw: int = 0
    data: msgspec.Raw = msgspec.Raw(b"")
    id: int | str | None = None
    op: str | None = None
    code: str | None = None
    reason: str | None = None
    heartbeat_s: float | None = None
    auth: str | None = None


_MSG = msgspec.json.Decoder(_Msg)
_BATCH = msgspec.json.Decoder(list[msgspec.Raw])
_DATA = {name: msgspec.json.Decoder(cls) for name, cls in DATA_TYPES.items()}
_FATAL = {"unauthorized"}


class Subscription:
    """One wanted subscription and, for books, its local state."""

    __slots__ = (
        "book",
        "channel",
        "depth",
        "exchange",
        "expect",
        "key",
        "last_seq",
        "live",
        "symbol",
    )

    def __init__(self, channel: str, exchange: str, symbol: str, depth: int | None = None) -> None:
        self.channel = channel
        self.exchange = exchange
        self.symbol = symbol
        self.depth = depth
        self.key = sub_key(channel, exchange, symbol)
        self.book = L2Book()
        self.live = False
        self.expect = -1
        self.last_seq = -1

    def op(self, op: str = "subscribe") -> dict[str, object]:
        msg: dict[str, object] = {
            "op": op,
            "channel": self.channel,
            "exchange": self.exchange,
            "symbol": self.symbol,
        }
        if op == "subscribe" and self.depth:
            msg["depth"] = self.depth
        return msg


class StreamState:
    """See the module docstring."""

    def __init__(self) -> None:
        self.subs: dict[str, Subscription] = {}
        self.gaps = 0
        self.resyncs_requested = 0
        self.heartbeat_s: float | None = None
        self.last_ts_gw = 0  # gateway send time (ns) of the last market-data message

    def add(
        self, channel: str, exchange: str, symbol: str, depth: int | None = None
    ) -> Subscription:
        sub = Subscription(channel, exchange.lower(), normalize_symbol(symbol), depth)
        self.subs[sub.key] = sub
        return sub

    def remove(self, channel: str, exchange: str, symbol: str) -> Subscription | None:
        return self.subs.pop(sub_key(channel, exchange.lower(), normalize_symbol(symbol)), None)

    def subscribe_ops(self) -> list[dict[str, object]]:
        return [s.op() for s in self.subs.values()]

    def book(self, exchange: str, symbol: str) -> L2Book | None:
        """The local book when live, else ``None``."""
        s = self.subs.get(sub_key("orderbook", exchange, symbol))
        return s.book if s is not None and s.live else None

    def on_disconnect(self, ts_local: int) -> list[object]:
        out: list[object] = []
        for s in self.subs.values():
            s.last_seq = -1
            if s.channel != "orderbook":
                continue
            was_live = s.live
            s.live = False
            s.expect = -1
            s.book.clear()
            if was_live:
                out.append(
                    BookReset(
                        exchange=s.exchange,
                        symbol=s.symbol,
                        reason=ResetReason.RECONNECT,
                        detail="connection to the Connex gateway lost",
                        ts_local=ts_local,
                    )
                )
        return out

    def on_message(self, text: str | bytes) -> tuple[list[object], list[dict[str, object]]]:
        """Decode one server frame: a message object, or a JSON array of them (a batch).

        Raises ``AuthError`` when the key was refused.
        """
        first = text[:1]
        if first == "[" or first == b"[":
            try:
                parts = _BATCH.decode(text)
            except msgspec.DecodeError as exc:
                return [
                    FeedError(
                        exchange="connex",
                        kind="malformed",
                        message=str(exc),
                        snippet=str(text[:80]),
                    )
                ], []
            events: list[object] = []
            commands: list[dict[str, object]] = []
            for raw in parts:
                evs, cmds = self._on_one(raw)
                events.extend(evs)
                commands.extend(cmds)
            return events, commands
        return self._on_one(text)

    def _on_one(self, text: str | bytes) -> tuple[list[object], list[dict[str, object]]]:
        try:
            msg = _MSG.decode(text)
        except msgspec.DecodeError as exc:
            return [
                FeedError(
                    exchange="connex", kind="malformed", message=str(exc), snippet=str(text[:80])
                )
            ], []
        t = msg.type
        dec = _DATA.get(t)
        if dec is not None and len(msg.data):
            self.last_ts_gw = msg.ts_gw
            sub = self.subs.get(msg.sub or "")
            if sub is None:
                return [], []  # unsubscribed meanwhile
            try:
                ev = dec.decode(msg.data)
            except msgspec.DecodeError as exc:
                return [FeedError(exchange=sub.exchange, kind="malformed", message=str(exc))], []
            if t == "delta":
                return self._delta(sub, msg.seq, ev)
            if t == "snapshot":
                book = sub.book
                book.load(ev.bids, ev.asks)
                book.sequence = ev.sequence
                book.ts_exchange = ev.ts_exchange
                book.ts_local = ev.ts_local
                sub.live = True
                sub.expect = msg.seq + 1
                return [ev], []
            if t == "reset":
                sub.live = False
                sub.book.clear()
                sub.expect = msg.seq + 1
                return [ev], []
            out: list[object] = []
            if sub.last_seq >= 0 and msg.seq != sub.last_seq + 1:
                self.gaps += 1
                out.append(
                    FeedError(
                        exchange=sub.exchange,
                        kind="gap",
                        message=f"{sub.key}: stream seq {msg.seq}, expected {sub.last_seq + 1}",
                    )
                )
            sub.last_seq = msg.seq
            out.append(ev)
            return out, []
        if t == "error":
            code = msg.code or "error"
            if code in _FATAL:
                raise AuthError(f"Connex gateway refused the API key: {msg.reason}")
            ex = "connex"
            if msg.sub and msg.sub in self.subs:
                ex = self.subs[msg.sub].exchange
            return [FeedError(exchange=ex, kind=code, message=msg.reason or code)], []
        if t == "welcome":
            self.heartbeat_s = msg.heartbeat_s
        return [], []

    def _delta(
        self, sub: Subscription, seq: int, ev: BookDelta
    ) -> tuple[list[object], list[dict[str, object]]]:
        if not sub.live:
            return [], []
        if seq != sub.expect:
            self.gaps += 1
            self.resyncs_requested += 1
            sub.live = False
            sub.book.clear()
            reset = BookReset(
                exchange=sub.exchange,
                symbol=sub.symbol,
                reason=ResetReason.GAP,
                detail=f"connex stream seq {seq}, expected {sub.expect}",
                ts_local=ev.ts_local,
            )
            return [reset], [sub.op("resync")]
        book = sub.book
        book.apply(ev.bids, ev.asks)
        book.sequence = ev.sequence
        book.ts_exchange = ev.ts_exchange
        book.ts_local = ev.ts_local
        sub.expect = seq + 1
        return [ev], []


def snapshot_of(sub: Subscription) -> BookSnapshot:
    """The current local book of ``sub`` as a snapshot."""
    return sub.book.snapshot(sub.exchange, sub.symbol)
