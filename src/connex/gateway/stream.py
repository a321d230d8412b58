"""Fan-out of normalized events to websocket clients.

Theory of operation
-------------------
The ``Hub`` is fed synchronously with model events (``publish``), in the order the
runtime produced them. It keeps, per (exchange, symbol), a *mirror* ``L2Book`` built from
the same events (snapshot -> load, delta -> apply, reset -> invalid), and per requested
depth a ``BookStream`` with its own sequence counter ``seq``:

* full-depth streams forward each upstream ``BookDelta`` as is;
* depth-limited streams diff the mirror's top-N before/after each delta and send only
  the levels that changed (a level leaving the top-N is sent with size ``"0"``), so a
  client's book is exactly the gateway's top-N after every message.

Each event is encoded **once** per stream (``protocol.encode``) and the same ``str`` is
appended to the bounded queue (``ClientConn.queue``) of every subscriber; one writer
task per client drains its queue into its socket. Publishing never awaits, so a slow
socket only ever stalls its own writer.

Batching: a client's pending messages go out as **one** websocket frame: a lone
message as its JSON object, several (at most ``max_batch``) as a JSON array of those
objects, built by joining the already encoded strings (no re-encoding). A burst of
upstream events (several symbols' updates handled in one loop iteration) thus costs one
frame per client instead of one per message; nothing waits to fill a batch.
``GatewayStats.sent`` counts messages (events delivered), ``frames`` websocket frames.

Two delivery modes per client:

* **queued** (every client without a synchronous writer, and any client with a
  backlog): messages go to ``ClientConn.queue`` and the client's writer task drains it
  (``max_batch`` per frame, awaiting the socket), with the backpressure policy below;
* **fast** (``direct`` writer given to ``Hub.connect`` -- the uvicorn path -- and
  nothing queued): ``_fan`` appends each encoded message once to the hub's per-loop
  ``_outbox`` instead of touching 100 queues; one ``call_soon`` flush per loop iteration
  then writes each fast client its share (outbox filtered by the client's streams, in
  publish order), building the frame once per distinct subscription set. A fast client
  that gets any other message (ack, heartbeat, snapshot...), changes subscriptions, or
  whose transport is paused first moves its share of the current outbox into its queue
  (``to_queued``), so order is kept; it returns to fast mode once its queue is drained.

Backpressure policy (per client):

1. When a client's queue reaches ``max_queue``, every queued *book* message is
   dropped and those book subscriptions are marked *pending*: they receive nothing
   until the writer has drained the queue, then a fresh ``snapshot`` (at the stream's
   current ``seq``) is queued for each; the client's sequence continues from there.
2. If the queue is still over half full after dropping book messages (trades,
   liquidations... cannot be rebuilt from a snapshot), the client is disconnected with
   an ``error`` message ``slow_consumer`` and close code 4008.

Non-book channels (trades, liquidations, funding, ticker, mark_price) have one ``Topic``
each with its own ``seq``, so clients can check completeness there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from connex.book import L2Book
from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    FundingRate,
    Level,
    Liquidation,
    MarkPrice,
    Ticker,
    Trade,
)

from .keys import CHANNELS, AuthFailure, Principal
from .protocol import (
    Envelope,
    ServerMessage,
    book_depth,
    encode,
    normalize_symbol,
    sub_key,
)

__all__ = [
    "BookMirror",
    "BookStream",
    "ClientConn",
    "GatewayStats",
    "Hub",
    "SubscribeError",
    "Topic",
]

log = logging.getLogger("connex.gateway")

#: Close code sent to a client disconnected for being too slow.
CLOSE_SLOW_CONSUMER = 4008

_TOPIC_CHANNEL: dict[type, str] = {
    Trade: "trades",
    Liquidation: "liquidations",
    FundingRate: "funding",
    Ticker: "ticker",
    MarkPrice: "mark_price",
}
_TOPIC_TYPE: dict[type, str] = {
    Trade: "trade",
    Liquidation: "liquidation",
    FundingRate: "funding",
    Ticker: "ticker",
    MarkPrice: "mark_price",
}


class SubscribeError(Exception):
    """A subscription request was refused; ``code`` and message go to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class GatewayStats:
    """Counters read by ``/metrics`` and the benchmark."""

    __slots__ = (
        "clients",
        "encoded",
        "events_in",
        "frames",
        "kicked",
        "publish_errors",
        "queued",
        "resyncs",
        "sent",
        "subscriptions",
    )

    def __init__(self) -> None:
        for n in self.__slots__:
            setattr(self, n, 0)

    def as_dict(self) -> dict[str, int]:
        return {n: getattr(self, n) for n in self.__slots__}


class BookMirror:
    """The gateway's own copy of one upstream book, built from the event stream."""

    __slots__ = ("book", "exchange", "last_reset", "live", "streams", "symbol")

    def __init__(self, exchange: str, symbol: str) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.book = L2Book()
        self.live = False
        self.last_reset: BookReset | None = None
        self.streams: dict[int | None, BookStream] = {}


class BookStream:
    """One (exchange, symbol, depth) book stream with its sequence and subscribers."""

    __slots__ = ("depth", "key", "mirror", "prev_asks", "prev_bids", "seq", "subscribers")

    def __init__(self, mirror: BookMirror, depth: int | None) -> None:
        self.mirror = mirror
        self.depth = depth
        self.key = sub_key("orderbook", mirror.exchange, mirror.symbol)
        self.seq = 0
        self.subscribers: set[ClientConn] = set()
        self.prev_bids: list[Level] = []
        self.prev_asks: list[Level] = []
        if mirror.live and depth is not None:
            self.prev_bids = mirror.book.bids(depth)
            self.prev_asks = mirror.book.asks(depth)

    def snapshot_payload(self) -> str:
        """A snapshot of the mirror at this stream's current ``seq`` (not counted)."""
        m = self.mirror
        snap = m.book.snapshot(m.exchange, m.symbol, self.depth)
        return encode(
            Envelope(type="snapshot", sub=self.key, seq=self.seq, ts_gw=time.time_ns(), data=snap)
        )

    def reset_payload(self) -> str | None:
        m = self.mirror
        if m.last_reset is None:
            return None
        return encode(
            Envelope(
                type="reset", sub=self.key, seq=self.seq, ts_gw=time.time_ns(), data=m.last_reset
            )
        )


class Topic:
    """One non-book stream (channel, exchange, symbol)."""

    __slots__ = ("key", "seq", "subscribers", "type")

    def __init__(self, key: str, type_: str) -> None:
        self.key = key
        self.type = type_
        self.seq = 0
        self.subscribers: set[ClientConn] = set()


def _diff(prev: list[Level], new: list[Level]) -> tuple[Level, ...]:
    if prev == new:
        return ()
    old = dict(prev)
    out: list[Level] = []
    seen = set()
    for p, q in new:
        seen.add(p)
        if old.get(p) != q:
            out.append((p, q))
    for p, _ in prev:
        if p not in seen:
            out.append((p, "0"))
    return tuple(out)


SendFn = Callable[[str], Awaitable[None]]
CloseFn = Callable[[int, str], Awaitable[None]]
#: Optional synchronous path to the socket: ``write(utf8)`` writes one text frame now
#: (raises when the socket is gone), ``can_write()`` says whether the transport accepts
#: more without waiting (False while it is paused above its high-water mark).
DirectWrite = tuple[Callable[[bytes], None], Callable[[], bool]]


class ClientConn:
    """One websocket client: its subscriptions, bounded queue and writer task."""

    def __init__(
        self,
        hub: Hub,
        principal: Principal,
        send: SendFn,
        close: CloseFn,
        *,
        max_queue: int,
        peer: str = "",
        max_batch: int = 500,
        direct: DirectWrite | None = None,
    ) -> None:
        self.hub = hub
        self.max_batch = max(1, max_batch)
        self._direct = direct
        self._dirty = False  # queued for the hub's next flush (direct mode)
        self._busy = False  # the writer task holds a batch (it alone may write then)
        #: fast mode (direct clients only): nothing queued, so the hub's flush writes
        #: this client's share of the loop iteration's outbox straight to its socket
        self.fast = False
        #: the BookStream/Topic objects this client is subscribed to (outbox filter)
        self.streams: frozenset[object] = frozenset()
        self.principal = principal
        self._send = send
        self._close = close
        self.max_queue = max_queue
        self.peer = peer
        self.queue: deque[tuple[str | None, str]] = deque()
        self.books: dict[str, BookStream] = {}
        self.topics: dict[str, Topic] = {}
        self.pending: set[str] = set()
        self.closed = False
        self.close_reason = ""
        self.resyncs = 0
        self.sent = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"ClientConn({self.principal.name!r}, {self.peer})"

    # -- queue ----------------------------------------------------------------------
    def push(self, payload: str, sub: str | None = None) -> None:
        """Queue a message (``sub`` set for book messages, which may be resynced)."""
        self.push_item((sub, payload))

    def push_item(self, item: tuple[str | None, str]) -> None:
        """``push`` with a prepared ``(sub, payload)`` tuple (shared by all subscribers)."""
        if self.closed:
            return
        if self.fast:
            self.to_queued()
        sub = item[0]
        if sub is not None and self.pending and sub in self.pending:
            return
        q = self.queue
        if len(q) >= self.max_queue:
            self._overflow()
            if self.closed or (sub is not None and sub in self.pending):
                return
            q = self.queue
        q.append(item)
        if self._dirty:
            return
        if self._direct is None:
            self._wake.set()
        else:
            self._dirty = True
            self.hub._mark_dirty(self)

    def to_queued(self, outbox: list[tuple[object, tuple[str | None, str]]] | None = None) -> None:
        """Leave fast mode: this loop iteration's outbox messages for this client move
        to its queue first, so everything stays in publish order."""
        if not self.fast:
            return
        hub = self.hub
        self.fast = False
        hub._fast.discard(self)
        streams = self.streams
        q = self.queue
        for owner, item in hub._outbox if outbox is None else outbox:
            if owner in streams:
                q.append(item)
        if not self._dirty:
            self._dirty = True
            hub._mark_dirty(self)

    def _to_fast(self) -> None:
        self.fast = True
        self.hub._fast.add(self)

    def _write_fast(self, data: bytes, n: int, outbox: list[Any]) -> None:
        """Fast mode: write this client's frame of the outbox (already built)."""
        assert self._direct is not None
        write, can_write = self._direct
        if not can_write():
            self.to_queued(outbox)  # paused transport: queue, the writer task waits
            return
        try:
            write(data)
        except Exception as exc:  # the socket went away: the reader side cleans up
            log.debug("direct write to %s failed: %r", self, exc)
            self.fast = False
            self.hub._fast.discard(self)
            self.closed = True
            self._wake.set()
            return
        self.sent += n
        stats = self.hub.stats
        stats.sent += n
        stats.frames += 1

    def _take(self) -> tuple[str, int]:
        """Pop the next frame: one queued message, or a JSON array of up to
        ``max_batch`` of them (joined from the encoded strings)."""
        q = self.queue
        n = len(q)
        if n == 1:
            return q.popleft()[1], 1
        n = min(n, self.max_batch)
        pop = q.popleft
        return "[" + ",".join([pop()[1] for _ in range(n)]) + "]", n

    def _flush_direct(self) -> None:
        """Write what is queued now, synchronously (called once per loop iteration by
        the hub). Hands over to the writer task when it already holds a batch, when the
        transport is paused, or when book resyncs are pending."""
        self._dirty = False
        if self._busy or self.closed or self._direct is None:
            self._wake.set()
            return
        write, can_write = self._direct
        q = self.queue
        stats = self.hub.stats
        try:
            while q and can_write():
                payload, n = self._take()
                write(payload.encode())
                self.sent += n
                stats.sent += n
                stats.frames += 1
        except Exception as exc:  # the socket went away: the reader side cleans up
            log.debug("direct write to %s failed: %r", self, exc)
            self.closed = True
        if q or self.pending or self.closed:
            self._wake.set()
        else:
            self._to_fast()

    def _overflow(self) -> None:
        books = self.books
        kept: deque[tuple[str | None, str]] = deque()
        dropped: set[str] = set()
        for item in self.queue:
            if item[0] is not None and item[0] in books:
                dropped.add(item[0])
            else:
                kept.append(item)
        self.queue = kept
        if dropped:
            self.pending |= dropped
            self.resyncs += 1
            self.hub.stats.resyncs += 1
            log.info(
                "slow client %s: dropped queued book messages, resyncing %d book(s)",
                self,
                len(dropped),
            )
        if len(kept) * 2 >= self.max_queue:
            self.kick(
                "slow_consumer", f"client too slow: more than {self.max_queue} queued messages"
            )

    def kick(self, code: str, reason: str) -> None:
        """Disconnect with an ``error`` message and close code 4008."""
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        self.hub.stats.kicked += 1
        log.warning("disconnecting client %s: %s", self, reason)
        self.queue.clear()
        self.queue.append((None, encode(ServerMessage(type="error", code=code, reason=reason))))
        self._wake.set()
        self._closer = asyncio.ensure_future(self._force_close(CLOSE_SLOW_CONSUMER, reason))

    async def _force_close(self, code: int, reason: str) -> None:
        task = self._task
        if task is not None and not task.done():
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(task), 1.0)
            if not task.done():
                task.cancel()
        with contextlib.suppress(Exception):
            await self._close(code, reason[:120])

    def refresh_streams(self) -> None:
        self.streams = frozenset(self.books.values()) | frozenset(self.topics.values())

    def _resync_pending(self) -> None:
        for key in list(self.pending):
            self.pending.discard(key)
            stream = self.books.get(key)
            if stream is None:
                continue
            payload = stream.snapshot_payload() if stream.mirror.live else stream.reset_payload()
            if payload is not None:
                self.queue.append((key, payload))

    def request_resync(self, key: str) -> None:
        """The client asked for a fresh snapshot of ``key`` (e.g. after a gap it saw)."""
        stream = self.books.get(key)
        if stream is None:
            raise SubscribeError("not_subscribed", f"not subscribed to {key}")
        self.pending.discard(key)
        payload = stream.snapshot_payload() if stream.mirror.live else stream.reset_payload()
        if payload is not None:
            self.push(payload, key)

    # -- writer ---------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.ensure_future(self._writer())

    async def _writer(self) -> None:
        stats = self.hub.stats
        try:
            while True:
                q = self.queue
                if not q:
                    if self.pending and not self.closed:
                        self._resync_pending()
                        if self.queue:
                            continue
                    if self.closed:
                        return
                    self._busy = False
                    if self._direct is not None and not self.pending and not self._dirty:
                        # back to fast mode at the next flush (after its outbox pass)
                        self._dirty = True
                        self.hub._mark_dirty(self)
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                self._busy = True
                payload, n = self._take()
                await self._send(payload)
                self.sent += n
                stats.sent += n
                stats.frames += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the socket went away: the reader side cleans up
            log.debug("writer of %s stopped: %r", self, exc)
            self.closed = True

    async def stop(self) -> None:
        """Stop the writer (the socket is closing)."""
        self.closed = True
        self.fast = False
        self.hub._fast.discard(self)
        self._wake.set()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class Hub:
    """Routes events to subscribed clients. See the module docstring.

    ``catalog(channel, exchange, symbol) -> bool`` says whether the runtime carries that
    stream (subscriptions to anything else are refused with ``unknown_symbol``).
    """

    def __init__(
        self,
        catalog: Callable[[str, str, str], bool],
        *,
        max_queue: int = 2000,
        heartbeat_s: float = 5.0,
    ) -> None:
        self.catalog = catalog
        self.max_queue = max_queue
        self.heartbeat_s = heartbeat_s
        self.mirrors: dict[tuple[str, str], BookMirror] = {}
        self.topics: dict[tuple[str, str, str], Topic] = {}
        self.clients: set[ClientConn] = set()
        self.stats = GatewayStats()
        self._dirty: list[ClientConn] = []
        self._flush_handle: asyncio.Handle | None = None
        #: this loop iteration's market-data messages: (BookStream/Topic, (sub, payload))
        self._outbox: list[tuple[object, tuple[str | None, str]]] = []
        self._fast: set[ClientConn] = set()
        self._hb_task: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        if self._hb_task is None:
            self._hb_task = asyncio.ensure_future(self._heartbeats())

    async def stop(self) -> None:
        if self._hb_task is not None:
            self._hb_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._hb_task
            self._hb_task = None
        for c in list(self.clients):
            await c.stop()

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            payload = encode(ServerMessage(type="heartbeat", ts=time.time_ns()))
            for c in list(self.clients):
                c.push(payload)

    def _mark_dirty(self, client: ClientConn) -> None:
        self._dirty.append(client)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Once per loop iteration after a publish: one frame per client with news.

        Fast clients get their share of the outbox (filtered by their streams, in
        publish order; clients with the same subscriptions share one built frame);
        queued clients drain their queues.
        """
        self._flush_handle = None
        outbox, self._outbox = self._outbox, []
        if outbox and self._fast:
            frames: dict[frozenset[object], tuple[bytes, int]] = {}
            for c in tuple(self._fast):
                streams = c.streams
                frame = frames.get(streams)
                if frame is None:
                    parts = [item[1] for owner, item in outbox if owner in streams]
                    n = len(parts)
                    if n == 1:
                        frame = (parts[0].encode(), 1)
                    elif n:
                        frame = (("[" + ",".join(parts) + "]").encode(), n)
                    else:
                        frame = (b"", 0)
                    frames[streams] = frame
                if frame[1]:
                    c._write_fast(frame[0], frame[1], outbox)
        dirty, self._dirty = self._dirty, []
        for c in dirty:
            c._flush_direct()

    def mirror(self, exchange: str, symbol: str) -> BookMirror:
        m = self.mirrors.get((exchange, symbol))
        if m is None:
            m = self.mirrors[(exchange, symbol)] = BookMirror(exchange, symbol)
        return m

    def seed_book(self, exchange: str, symbol: str, book: L2Book) -> None:
        """Initialise a mirror from a live upstream book (attaching to a running runtime)."""
        m = self.mirror(exchange, symbol)
        m.book.load(book.bids(), book.asks())
        m.book.sequence = book.sequence
        m.book.ts_exchange = book.ts_exchange
        m.book.ts_local = book.ts_local
        m.live = True

    # -- clients --------------------------------------------------------------------
    def connect(
        self,
        principal: Principal,
        send: SendFn,
        close: CloseFn,
        peer: str = "",
        direct: DirectWrite | None = None,
    ) -> ClientConn:
        """Register a client. ``send`` is its async frame writer; ``direct`` (optional) a
        synchronous one the hub uses to write each client's batch in one pass per loop
        iteration instead of waking one writer task per client."""
        client = ClientConn(
            self, principal, send, close, max_queue=self.max_queue, peer=peer, direct=direct
        )
        self.clients.add(client)
        self.stats.clients = len(self.clients)
        client.start()
        if direct is not None:
            client._to_fast()
        return client

    async def disconnect(self, client: ClientConn) -> None:
        for key in list(client.books):
            self._drop_book(client, key)
        for key in list(client.topics):
            self._drop_topic(client, key)
        self.clients.discard(client)
        self.stats.clients = len(self.clients)
        await client.stop()

    def subscribe(
        self,
        client: ClientConn,
        channel: str | None,
        exchange: str | None,
        symbol: str | None,
        depth: int | None = None,
        req_id: int | str | None = None,
    ) -> str:
        """Subscribe ``client``; queues the ack (and, for books, the first snapshot).

        Raises ``SubscribeError`` or ``AuthFailure`` with a message for the client.
        """
        if channel not in CHANNELS:
            raise SubscribeError(
                "unknown_channel", f"unknown channel {str(channel)[:40]!r}; valid: {list(CHANNELS)}"
            )
        if not exchange or not symbol:
            raise SubscribeError("bad_request", "subscribe needs 'exchange' and 'symbol'")
        exchange = exchange.lower()
        try:
            symbol = normalize_symbol(symbol)
        except Exception as exc:
            raise SubscribeError("unknown_symbol", str(exc)) from None
        client.principal.check(exchange, channel)
        if not self.catalog(channel, exchange, symbol):
            raise SubscribeError(
                "unknown_symbol",
                f"{exchange} {symbol} {channel} is not served here (see GET /v1/exchanges)",
            )
        key = sub_key(channel, exchange, symbol)
        client.to_queued()  # before the subscriptions change (keeps the outbox order)
        limit = client.principal.max_subscriptions
        is_new = key not in client.books and key not in client.topics
        if is_new and len(client.books) + len(client.topics) >= limit:
            raise SubscribeError(
                "too_many_subscriptions",
                f"key '{client.principal.name}' may hold {limit} subscriptions",
            )
        if channel == "orderbook":
            if depth is not None and (not isinstance(depth, int) or depth < 0):
                raise SubscribeError("bad_request", "depth must be a non-negative integer")
            eff = book_depth(depth)
            if key in client.books:
                self._drop_book(client, key)
            m = self.mirror(exchange, symbol)
            stream = m.streams.get(eff)
            if stream is None:
                stream = m.streams[eff] = BookStream(m, eff)
            stream.subscribers.add(client)
            client.books[key] = stream
            client.refresh_streams()
            client.push(
                encode(
                    ServerMessage(type="ack", op="subscribe", id=req_id, sub=key, depth=eff or 0)
                )
            )
            if m.live:
                client.push(stream.snapshot_payload(), key)
            else:
                payload = stream.reset_payload()
                if payload is not None:
                    client.push(payload, key)
        else:
            if key not in client.topics:
                tkey = (channel, exchange, symbol)
                topic = self.topics.get(tkey)
                if topic is None:
                    type_ = {v: _TOPIC_TYPE[k] for k, v in _TOPIC_CHANNEL.items()}[channel]
                    topic = self.topics[tkey] = Topic(key, type_)
                topic.subscribers.add(client)
                client.topics[key] = topic
                client.refresh_streams()
            client.push(encode(ServerMessage(type="ack", op="subscribe", id=req_id, sub=key)))
        self.stats.subscriptions += 1
        return key

    def unsubscribe(
        self,
        client: ClientConn,
        channel: str | None,
        exchange: str | None,
        symbol: str | None,
        req_id: int | str | None = None,
    ) -> str:
        try:
            key = sub_key(str(channel), str(exchange).lower(), normalize_symbol(str(symbol)))
        except Exception as exc:
            raise SubscribeError("unknown_symbol", str(exc)) from None
        client.to_queued()
        if key in client.books:
            self._drop_book(client, key)
        elif key in client.topics:
            self._drop_topic(client, key)
        else:
            raise SubscribeError("not_subscribed", f"not subscribed to {key}")
        client.queue = deque(item for item in client.queue if item[0] != key)
        client.push(encode(ServerMessage(type="ack", op="unsubscribe", id=req_id, sub=key)))
        return key

    def _drop_book(self, client: ClientConn, key: str) -> None:
        stream = client.books.pop(key)
        client.refresh_streams()
        client.pending.discard(key)
        stream.subscribers.discard(client)
        if not stream.subscribers:
            stream.mirror.streams.pop(stream.depth, None)

    def _drop_topic(self, client: ClientConn, key: str) -> None:
        topic = client.topics.pop(key)
        client.refresh_streams()
        topic.subscribers.discard(client)

    # -- events ---------------------------------------------------------------------
    def publish(self, ev: Any) -> None:
        """Route one model event to subscribers. Never raises."""
        try:
            self._publish(ev)
        except Exception:  # one bad event must not stop the fan-out
            self.stats.publish_errors += 1
            log.exception("gateway: could not publish %s", type(ev).__name__)

    def _publish(self, ev: Any) -> None:
        t = type(ev)
        self.stats.events_in += 1
        if t is BookDelta:
            m = self.mirrors.get((ev.exchange, ev.symbol))
            if m is None or not m.live:
                return
            book = m.book
            book.apply(ev.bids, ev.asks)
            book.sequence = ev.sequence
            book.ts_exchange = ev.ts_exchange
            book.ts_local = ev.ts_local
            if not m.streams:
                return
            now = time.time_ns()
            for stream in list(m.streams.values()):
                if stream.depth is None:
                    data: BookDelta = ev
                else:
                    nb = book.bids(stream.depth)
                    na = book.asks(stream.depth)
                    db = _diff(stream.prev_bids, nb)
                    da = _diff(stream.prev_asks, na)
                    stream.prev_bids, stream.prev_asks = nb, na
                    if not db and not da:
                        continue
                    data = BookDelta(
                        exchange=ev.exchange,
                        symbol=ev.symbol,
                        bids=db,
                        asks=da,
                        sequence=ev.sequence,
                        ts_exchange=ev.ts_exchange,
                        ts_local=ev.ts_local,
                    )
                stream.seq += 1
                self._fan(
                    stream,
                    Envelope(type="delta", sub=stream.key, seq=stream.seq, ts_gw=now, data=data),
                    book=True,
                )
        elif t is BookSnapshot:
            m = self.mirror(ev.exchange, ev.symbol)
            m.book.load(ev.bids, ev.asks)
            m.book.sequence = ev.sequence
            m.book.ts_exchange = ev.ts_exchange
            m.book.ts_local = ev.ts_local
            m.live = True
            for stream in list(m.streams.values()):
                if stream.depth is not None:
                    stream.prev_bids = m.book.bids(stream.depth)
                    stream.prev_asks = m.book.asks(stream.depth)
                stream.seq += 1
                payload = stream.snapshot_payload()
                self.stats.encoded += 1
                for c in list(stream.subscribers):
                    c.pending.discard(stream.key)  # a fresh snapshot resyncs everyone
                    c.push(payload, stream.key)
        elif t is BookReset:
            m = self.mirror(ev.exchange, ev.symbol)
            m.book.clear()
            m.live = False
            m.last_reset = ev
            now = time.time_ns()
            for stream in list(m.streams.values()):
                stream.prev_bids, stream.prev_asks = [], []
                stream.seq += 1
                self._fan(
                    stream,
                    Envelope(type="reset", sub=stream.key, seq=stream.seq, ts_gw=now, data=ev),
                    book=True,
                )
        else:
            ch = _TOPIC_CHANNEL.get(t)
            if ch is None:
                return
            topic = self.topics.get((ch, ev.exchange, ev.symbol))
            if topic is None or not topic.subscribers:
                return
            topic.seq += 1
            self._fan(
                topic,
                Envelope(
                    type=topic.type, sub=topic.key, seq=topic.seq, ts_gw=time.time_ns(), data=ev
                ),
                book=False,
            )

    def _fan(self, owner: BookStream | Topic, env: Envelope, *, book: bool) -> None:
        """Encode once; fast clients get it from the outbox at the flush, queued
        clients in their queue now."""
        subscribers = owner.subscribers
        if not subscribers:
            return
        item = (owner.key if book else None, encode(env))
        self.stats.encoded += 1
        self.stats.queued += len(subscribers)
        if self._fast:
            if not self._outbox:
                self._schedule_flush()
            self._outbox.append((owner, item))
        for c in tuple(subscribers):
            if not c.fast:
                c.push_item(item)


def check_auth_failure(exc: AuthFailure) -> ServerMessage:
    """The ``error`` message for an ``AuthFailure`` (never includes the key)."""
    return ServerMessage(
        type="error", code=exc.code, reason=exc.message, retry_after=exc.retry_after or None
    )
