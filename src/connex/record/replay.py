"""Deterministic replay of recorded traffic through the live sans-I/O path.

Theory of operation
-------------------
``replay`` reads one recording (Connex's own format, or cryptofeed's format A),
merges its records in recorded order, and drives one ``FeedCore`` per recorded
websocket connection, exactly as the live runtime does:

- ``open`` builds the exchange's ``PublicSession`` for that connection (via
  ``protocol_class(exchange)`` and its ``plan``) and asks ``FeedCore.start`` for the
  first snapshots; a second ``open`` on the same connection is a reconnect
  (``FeedCore.reset_all``).
- ``recv`` goes through ``FeedCore.on_frame``.
- A ``NeedSnapshot`` command is answered with a recorded REST reply: the first one not
  used yet, in recorded order, that names the book's symbol, and only once the replay
  clock (the time of the last record processed) has reached that reply's recorded
  time. A command still open at the end, with no reply left, counts as
  ``snapshot_unavailable``.

Nothing reads a clock or touches the network, so two replays of one file give the
same events. What a connection subscribed to comes from the recording, first found
wins: the ``open`` record (Connex format, when the runtime passed its
``ConnectionSpec``); per-exchange rules on the websocket URL (``URL_SUBSCRIPTIONS``;
Binance may put ``streams=`` in the URL) and on the frames sent on that connection
(``SENT_SUBSCRIPTIONS``: Binance ``SUBSCRIBE``, OKX ``subscribe``), read in a first
pass; the header's subscriptions; cryptofeed's ``configuration`` line. The market of
a connection comes from the recording, from ``MARKET_BY_HOST`` / ``MARKET_BY_PATH``,
or from the ``market`` argument (a contradiction is an error). Other exchanges add
their entries to these tables.

Limitation: all frames of one recorded connection go through one session, whose
``spec.market`` is the detected market (or the first planned one when a venue mixes
markets on one socket, as OKX does).
"""

from __future__ import annotations

import os
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from connex.book import BookSync
from connex.exchanges import EXCHANGES, prod_endpoints, protocol_class
from connex.exchanges.base import (
    Channel,
    ConnectionSpec,
    HttpRequest,
    MarketEndpoints,
    PublicProtocol,
    SendFrame,
    Subscription,
)
from connex.model import FeedError, MarketType, NeedSnapshot, ResetReason, SnapshotVia
from connex.model.errors import ConnexError
from connex.runtime.core import FeedCore

from .cryptofeed import read_cryptofeed
from .format import Record, RecordKind, is_connex_recording, read_connex

__all__ = [
    "CRYPTOFEED_CHANNELS",
    "MARKET_BY_HOST",
    "MARKET_BY_PATH",
    "SENT_SUBSCRIPTIONS",
    "URL_SUBSCRIPTIONS",
    "ReplayError",
    "ReplayResult",
    "detect_format",
    "expand_paths",
    "replay",
]

#: exchange -> websocket host -> market (spot or futures detected from recorded URLs).
MARKET_BY_HOST: dict[str, dict[str, str]] = {
    "binance": {
        "stream.binance.com": "spot",
        "data-stream.binance.vision": "spot",
        "fstream.binance.com": "linear",
        "dstream.binance.com": "inverse",
    },
}

#: cryptofeed channel name -> Connex channel (for the ``configuration:`` line).
CRYPTOFEED_CHANNELS: dict[str, Channel] = {
    "l2_book": Channel.BOOK,
    "trades": Channel.TRADES,
    "ticker": Channel.TICKER,
    "liquidations": Channel.LIQUIDATIONS,
    "funding": Channel.FUNDING,
}

#: Binance stream kind (before the first ``@``) -> channels it carries.
_BINANCE_KINDS: dict[str, tuple[Channel, ...]] = {
    "depth": (Channel.BOOK,),
    "aggTrade": (Channel.TRADES,),
    "trade": (Channel.TRADES,),
    "bookTicker": (Channel.TICKER,),
    "forceOrder": (Channel.LIQUIDATIONS,),
    "markPrice": (Channel.FUNDING, Channel.MARK_PRICE),
}

#: Query keys that name the instrument in a REST snapshot request.
_SYMBOL_PARAMS = frozenset(
    {"symbol", "instid", "currency_pair", "contract", "coin", "pair", "market", "s"}
)
_MAX_ERROR_SAMPLES = 5


class ReplayError(ConnexError):
    """The recording cannot be replayed (unknown format, no connection, bad market)."""


def _binance_streams(streams: Iterable[str], market: str) -> list[Subscription]:
    """Subscriptions for Binance stream names (``btcusdt@depth@100ms``...)."""
    from connex.exchanges.binance.symbols import SymbolMap

    if market not in ("spot", "linear"):
        return []  # the connector offers spot and USD-M only
    symbols = SymbolMap()
    out: list[Subscription] = []
    for stream in streams:
        venue, _, kind = stream.partition("@")
        channels = _BINANCE_KINDS.get(kind.split("@")[0])
        if not venue or not channels:
            continue
        try:
            symbol = symbols.to_unified(market, venue)
        except ConnexError:
            continue
        for ch in channels:
            sub = Subscription(ch, symbol)
            if sub not in out:
                out.append(sub)
    return out


def _binance_url_subscriptions(url: str, market: str) -> list[Subscription]:
    """Subscriptions named in a Binance stream URL (``/stream?streams=a/b``, ``/ws/a``)."""
    parts = urlsplit(url)
    streams = "/".join(parse_qs(parts.query).get("streams", []))
    if not streams and "/ws/" in parts.path:
        streams = parts.path.split("/ws/", 1)[1]
    return _binance_streams(streams.split("/") if streams else [], market)


def _binance_sent_subscriptions(frames: Sequence[str], market: str) -> list[Subscription]:
    """Subscriptions named in sent ``{"method":"SUBSCRIBE","params":[...]}`` frames."""
    streams: list[str] = []
    for frame in frames:
        try:
            msg = orjson.loads(frame)
        except orjson.JSONDecodeError:
            continue
        if isinstance(msg, dict) and msg.get("method") == "SUBSCRIBE":
            streams.extend(str(p) for p in msg.get("params") or ())
    return _binance_streams(streams, market)


#: exchange -> (ws URL, market) -> subscriptions carried in the URL itself.
URL_SUBSCRIPTIONS: dict[str, Callable[[str, str], list[Subscription]]] = {
    "binance": _binance_url_subscriptions,
}


def _okx_sent_subscriptions(frames: Sequence[str], market: str) -> list[Subscription]:
    """Subscriptions named in sent ``{"op":"subscribe","args":[{"channel","instId"}]}``."""
    from connex.exchanges.okx.public import CHANNELS
    from connex.exchanges.okx.symbols import to_unified

    by_name = {name: ch for ch, name in CHANNELS.items()}
    out: list[Subscription] = []
    for frame in frames:
        try:
            msg = orjson.loads(frame)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(msg, dict) or msg.get("op") != "subscribe":
            continue
        for arg in msg.get("args") or ():
            ch = by_name.get(arg.get("channel", "")) if isinstance(arg, dict) else None
            if ch is None or not arg.get("instId"):
                continue
            try:
                sub = Subscription(ch, to_unified(arg["instId"]))
            except ConnexError:
                continue
            if sub not in out:
                out.append(sub)
    return out


#: exchange -> (frames sent on the connection, market) -> subscriptions they asked for.
#: ``market`` may be "" when the recording does not tell.
SENT_SUBSCRIPTIONS: dict[str, Callable[[Sequence[str], str], list[Subscription]]] = {
    "binance": _binance_sent_subscriptions,
    "okx": _okx_sent_subscriptions,
}

#: exchange -> (URL path fragment, market), tried in order when the host is not known
#: (simulator or proxy URLs). Binance USD-M streams live under /public and /market.
MARKET_BY_PATH: dict[str, tuple[tuple[str, str], ...]] = {
    "binance": (
        ("/public/", "linear"),
        ("/market/", "linear"),
        ("/fapi/", "linear"),
        ("/", "spot"),
    ),
}


def _cryptofeed_symbol(text: str) -> str | None:
    """``BTC-USDT`` -> ``BTC/USDT``; ``BTC-USDT-PERP`` -> ``BTC/USDT:USDT``;
    ``BTC-USD-PERP`` -> ``BTC/USD:BTC``. Dated futures and options -> ``None``."""
    parts = text.split("-")
    if len(parts) == 2:
        return f"{parts[0]}/{parts[1]}"
    if len(parts) == 3 and parts[2] == "PERP":
        base, quote = parts[0], parts[1]
        settle = quote if quote in ("USDT", "USDC") else base
        return f"{base}/{quote}:{settle}"
    return None


def _config_subscriptions(config: str) -> list[Subscription]:
    try:
        data = orjson.loads(config)
    except orjson.JSONDecodeError:
        return []
    out: list[Subscription] = []
    for name, symbols in (data or {}).items():
        ch = CRYPTOFEED_CHANNELS.get(name)
        if ch is None or not isinstance(symbols, list):
            continue
        for s in symbols:
            unified = _cryptofeed_symbol(str(s))
            if unified is not None and Subscription(ch, unified) not in out:
                out.append(Subscription(ch, unified))
    return out


def _market_of_symbol(symbol: str) -> str:
    mt = Subscription(Channel.BOOK, symbol).market_type
    return {
        MarketType.SPOT: "spot",
        MarketType.LINEAR_PERP: "linear",
        MarketType.INVERSE_PERP: "inverse",
    }.get(mt, mt.value)


# -- input ------------------------------------------------------------------------------
def expand_paths(files: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Files as given; a directory stands for the recording files inside it."""
    out: list[str] = []
    for f in files:
        p = Path(f)
        if p.is_dir():
            out.extend(
                str(c) for c in sorted(p.iterdir()) if c.is_file() and c.suffix.lower() != ".md"
            )
        elif p.is_file():
            out.append(str(p))
        else:
            raise ReplayError(f"no such recording file: {f}")
    if not out:
        raise ReplayError("no recording files given")
    return out


def detect_format(files: Sequence[str]) -> str:
    """``connex`` or ``cryptofeed`` (raises ``ReplayError`` on a mix)."""
    kinds = {("connex" if is_connex_recording(f) else "cryptofeed") for f in files}
    if len(kinds) > 1:
        raise ReplayError("cannot replay Connex and cryptofeed recordings together")
    return kinds.pop()


def _merge_connex(files: Sequence[str]) -> Iterator[Record]:
    import heapq

    def keyed(i: int, f: str) -> Iterator[tuple[int, int, int, Record]]:
        for n, rec in enumerate(read_connex(f)):
            yield (rec.ts if rec.kind != RecordKind.HEADER else -1, i, n, rec)

    for _, _, _, rec in heapq.merge(*(keyed(i, f) for i, f in enumerate(files))):
        yield rec


# -- result -------------------------------------------------------------------------------
@dataclass
class ReplayResult:
    """Everything a replay produced; ``summary()`` gives a JSON-able dict."""

    exchange: str
    format: str
    files: list[str]
    frames: int = 0
    events: Counter[str] = field(default_factory=Counter)
    commands: Counter[str] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)
    error_samples: list[FeedError] = field(default_factory=list)
    cores: dict[str, FeedCore] = field(default_factory=dict)
    markets: dict[str, str] = field(default_factory=dict)
    snapshots_used: int = 0
    snapshot_failures: int = 0
    snapshot_unavailable: int = 0
    unused_rest: int = 0
    orphan_frames: int = 0
    reconnects: int = 0
    skipped_subscriptions: list[str] = field(default_factory=list)
    truncated: bool = False

    @property
    def books(self) -> dict[str, BookSync]:
        """Every book of every replayed connection, by unified symbol."""
        out: dict[str, BookSync] = {}
        for core in self.cores.values():
            out.update(core.books)
        return out

    @property
    def errors(self) -> int:
        return sum(self.error_kinds.values())

    @property
    def parse_errors(self) -> int:
        """FeedErrors of kind ``malformed`` (frames the connector could not parse)."""
        return self.error_kinds.get("malformed", 0)

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary: frames, events by type, errors, and per book state."""
        books: dict[str, Any] = {}
        for symbol, sync in sorted(self.books.items()):
            c = sync.counters
            bb, ba = sync.book.best_bid(), sync.book.best_ask()
            books[symbol] = {
                "valid": sync.is_live,
                "sequence": sync.book.sequence,
                **c.as_dict(),
                "best_bid": [str(bb[0]), str(bb[1])] if bb else None,
                "best_ask": [str(ba[0]), str(ba[1])] if ba else None,
                "depth": {"bids": sync.book.bid_count, "asks": sync.book.ask_count},
            }
        return {
            "exchange": self.exchange,
            "format": self.format,
            "files": [Path(f).name for f in self.files],
            "connections": dict(sorted(self.markets.items())),
            "frames": self.frames,
            "events": dict(sorted(self.events.items())),
            "commands": dict(sorted(self.commands.items())),
            "errors": {
                "count": self.errors,
                "parse_errors": self.parse_errors,
                "unsupported": self.error_kinds.get("unsupported", 0),
                "by_kind": dict(sorted(self.error_kinds.items())),
                "samples": [
                    {"kind": e.kind, "message": e.message, "snippet": e.snippet[:160]}
                    for e in self.error_samples
                ],
            },
            "snapshots": {
                "used": self.snapshots_used,
                "failed": self.snapshot_failures,
                "unavailable": self.snapshot_unavailable,
                "unused_rest_replies": self.unused_rest,
            },
            "reconnects": self.reconnects,
            "orphan_frames": self.orphan_frames,
            "skipped_subscriptions": self.skipped_subscriptions,
            "truncated": self.truncated,
            "books": books,
        }


# -- the driver -------------------------------------------------------------------------
class _Replayer:
    def __init__(
        self,
        exchange: str,
        market: str | None,
        result: ReplayResult,
        on_event: Callable[[Any], None] | None,
        depth_cap: int | None,
    ) -> None:
        self.exchange = exchange
        self.market = market
        self.result = result
        self.on_event = on_event
        self.depth_cap = depth_cap
        self.cls: type[PublicProtocol] = protocol_class(exchange)
        self.endpoints: dict[str, MarketEndpoints] = prod_endpoints(exchange)
        self.config_subs: list[Subscription] = []
        self.header_subs: list[Subscription] = []
        self.ignored: set[str] = set()
        self.sent: dict[str, list[str]] = {}
        self.clock = 0
        self.rest: list[Record] = []  # replies seen so far (clock reached them)
        self.used: set[int] = set()  # indexes into self.rest
        self.pending: deque[tuple[FeedCore, str]] = deque()
        self.tokens: dict[tuple[int, str], frozenset[str]] = {}

    # -- records --------------------------------------------------------------------
    def feed(self, rec: Record) -> None:
        kind = rec.kind
        if rec.ts > self.clock:
            self.clock = rec.ts
        if kind == RecordKind.RECV:
            core = self.result.cores.get(rec.conn)
            if core is None:
                if rec.conn not in self.ignored:
                    self.result.orphan_frames += 1
                return
            self.result.frames += 1
            self.handle(core, core.on_frame(rec.data, rec.ts))
        elif kind == RecordKind.REST:
            if self.foreign(rec) or rec.conn in self.ignored:
                return  # a reply for another exchange's connection
            self.rest.append(rec)
            self.fulfil()
        elif kind == RecordKind.OPEN:
            self.open(rec)
        elif kind == RecordKind.CONFIG:
            self.config_subs = _config_subscriptions(str(rec.data))
        elif kind == RecordKind.HEADER:
            if rec.meta.get("truncated"):
                self.result.truncated = True
            subs = (rec.meta.get("subscriptions") or {}).get(self.exchange) or []
            for ch, sym in subs:
                try:
                    self.header_subs.append(Subscription(Channel(ch), sym))
                except ValueError:
                    continue
        # SEND records are not replayed: the session builds its own frames (what was
        # sent was read beforehand, in ``_sent_frames``, for the subscriptions it names).

    def foreign(self, rec: Record) -> bool:
        """True for a connection of another exchange (by record, or by its name)."""
        if rec.exchange:
            return rec.exchange != self.exchange
        prefix = rec.conn.split("-", 1)[0]
        return prefix != self.exchange and prefix in EXCHANGES

    def open(self, rec: Record) -> None:
        if self.foreign(rec):
            self.ignored.add(rec.conn)
            return
        core = self.result.cores.get(rec.conn)
        if core is not None:  # reconnect on the same connection: as the live feed does
            self.result.reconnects += 1
            core.counters.reconnects += 1
            out = core.reset_all(ResetReason.RECONNECT, rec.ts, "reconnected")
            core.protocol.subscribe_frames(core.protocol.spec.subscriptions)
            out += core.start()
            self.handle(core, out)
            return
        protocol = self.session(rec, self.sent.get(rec.conn, ()))
        if protocol is None:
            self.ignored.add(rec.conn)
            return
        self.ignored.discard(rec.conn)
        core = FeedCore(protocol, depth_cap=self.depth_cap)
        self.result.cores[rec.conn] = core
        kinds = {_market_of_symbol(s.symbol) for s in protocol.spec.subscriptions}
        self.result.markets[rec.conn] = (
            protocol.spec.market if len(kinds) <= 1 else "+".join(sorted(kinds))
        )
        # Same calls as the live driver: subscribe frames (not sent), first snapshots.
        protocol.subscribe_frames(protocol.spec.subscriptions)
        self.handle(core, core.start())

    def session(self, rec: Record, sent: Sequence[str] = ()) -> PublicProtocol | None:
        detected = rec.market or self.market_from_url(rec.url)
        if self.market and detected and detected != self.market:
            raise ReplayError(
                f"{rec.conn} ({rec.url}) was recorded on the {detected} market, not {self.market}"
            )
        market = detected or self.market or ""
        if rec.subscriptions:
            subs = list(rec.subscriptions)
        else:
            from_url = URL_SUBSCRIPTIONS.get(self.exchange)
            subs = from_url(rec.url, market) if (from_url and market) else []
            from_sent = SENT_SUBSCRIPTIONS.get(self.exchange)
            if from_sent and sent:
                subs += [s for s in from_sent(sent, market) if s not in subs]
            if not subs:
                subs = self.header_subs or self.config_subs
                if market:
                    subs = [s for s in subs if _market_of_symbol(s.symbol) == market]
        ok: list[Subscription] = []
        for sub in subs:
            try:
                self.cls.check_subscription(sub)
            except ConnexError as exc:
                self.result.skipped_subscriptions.append(f"{sub.channel.value} {sub.symbol}: {exc}")
                continue
            ok.append(sub)
        if not ok:
            self.result.skipped_subscriptions.append(
                f"{rec.conn} ({rec.url}): nothing {self.exchange} offers"
                + (f" on the {market} market" if market else "")
            )
            return None
        try:
            specs = self.cls.plan(ok, self.endpoints)
        except ConnexError as exc:
            raise ReplayError(f"{self.exchange}: cannot plan {rec.conn}: {exc}") from exc
        if not specs:
            return None
        if not rec.subscriptions and len({s.url for s in specs}) > 1 and not market:
            specs = _specs_for_url(specs, rec.url)
        merged: list[Subscription] = []
        for spec in specs:
            merged.extend(s for s in spec.subscriptions if s not in merged)
        spec_market = market or specs[0].market
        spec = ConnectionSpec(
            exchange=self.exchange,
            name=rec.conn,
            url=rec.url or specs[0].url,
            market=spec_market,
            subscriptions=tuple(merged),
        )
        endpoints = self.endpoints.get(spec_market) or MarketEndpoints(ws=rec.url, rest="")
        return self.cls(spec, endpoints)

    def market_from_url(self, url: str) -> str:
        host = urlsplit(url).hostname or ""
        table = MARKET_BY_HOST.get(self.exchange, {})
        if host in table:
            return table[host]
        path = urlsplit(url).path or "/"
        for fragment, market in MARKET_BY_PATH.get(self.exchange, ()):
            if fragment in path:
                return market
        return ""

    # -- events and snapshots -------------------------------------------------------------
    def handle(self, core: FeedCore, out: list[Any]) -> None:
        res = self.result
        cb = self.on_event
        for ev in out:
            t = type(ev)
            if t is NeedSnapshot:
                res.commands["NeedSnapshot"] += 1
                if ev.via is SnapshotVia.REST:
                    self.pending.append((core, ev.symbol))
                continue
            if t is SendFrame:
                res.commands["SendFrame"] += 1
                continue
            res.events[t.__name__] += 1
            if t is FeedError:
                res.error_kinds[ev.kind] += 1
                if len(res.error_samples) < _MAX_ERROR_SAMPLES:
                    res.error_samples.append(ev)
            if cb is not None:
                cb(ev)
        if self.pending:
            self.fulfil()

    def fulfil(self) -> None:
        progress = True
        while progress and self.pending:
            progress = False
            for _ in range(len(self.pending)):
                core, symbol = self.pending.popleft()
                if symbol not in core.pending_snapshots:
                    continue  # superseded (reconnect, in-stream snapshot)
                idx = self.find_reply(core, symbol)
                if idx is None:
                    self.pending.append((core, symbol))
                    continue
                self.used.add(idx)
                reply = self.rest[idx]
                progress = True
                if reply.status != 200:
                    self.result.snapshot_failures += 1
                    core.on_snapshot_error(symbol)
                    core.pending_snapshots.add(symbol)
                    self.pending.append((core, symbol))
                    continue
                body = reply.data if isinstance(reply.data, bytes) else reply.data.encode()
                self.result.snapshots_used += 1
                self.handle(core, core.on_snapshot(symbol, body, reply.ts or self.clock))

    def find_reply(self, core: FeedCore, symbol: str) -> int | None:
        tokens: frozenset[str] | None = None
        for i, rec in enumerate(self.rest):
            if i in self.used:
                continue
            if rec.symbol:
                if rec.symbol == symbol:
                    return i
                continue
            if tokens is None:
                tokens = self.venue_tokens(core, symbol)
            if tokens and tokens & _url_tokens(rec.url):
                return i
        return None

    def venue_tokens(self, core: FeedCore, symbol: str) -> frozenset[str]:
        key = (id(core), symbol)
        hit = self.tokens.get(key)
        if hit is None:
            try:
                req = core.protocol.snapshot_request(symbol)
            except (NotImplementedError, ConnexError):
                hit = frozenset()
            else:
                hit = _request_tokens(req)
            self.tokens[key] = hit
        return hit

    def finish(self) -> None:
        self.result.snapshot_unavailable = sum(
            1 for core, sym in self.pending if sym in core.pending_snapshots
        )
        self.result.unused_rest = sum(
            1 for i, r in enumerate(self.rest) if i not in self.used and _is_book_reply(r)
        )


def _is_book_reply(rec: Record) -> bool:
    low = rec.url.lower()
    return "depth" in low or "book" in low or bool(rec.symbol)


_SPLIT = re.compile(r"[/?&=]")


def _url_tokens(url: str) -> frozenset[str]:
    return frozenset(t.upper() for t in _SPLIT.split(unquote(url)) if t)


def _request_tokens(req: HttpRequest) -> frozenset[str]:
    """The venue symbol a snapshot request names (query value or last path segment)."""
    named = {v.upper() for k, v in req.params.items() if k.lower() in _SYMBOL_PARAMS and v}
    if named:
        return frozenset(named)
    path = urlsplit(req.url).path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    return frozenset({last.upper()}) if last else frozenset()


def _specs_for_url(specs: list[ConnectionSpec], url: str) -> list[ConnectionSpec]:
    want = urlsplit(url)
    same = [
        s
        for s in specs
        if urlsplit(s.url).hostname == want.hostname
        and urlsplit(s.url).path.rstrip("/") == want.path.rstrip("/")
    ]
    if same:
        return same
    host = [s for s in specs if urlsplit(s.url).hostname == want.hostname]
    return host or specs


def _sent_frames(records: Iterable[Record]) -> dict[str, list[str]]:
    """Every text frame sent, per connection (a first pass over the recording)."""
    out: dict[str, list[str]] = {}
    for rec in records:
        if rec.kind == RecordKind.SEND and isinstance(rec.data, str):
            out.setdefault(rec.conn, []).append(rec.data)
    return out


def replay(
    files: Iterable[str | os.PathLike[str]],
    exchange: str,
    market: str | None = None,
    *,
    on_event: Callable[[Any], None] | None = None,
    depth_cap: int | None = None,
    until: int | None = None,
) -> ReplayResult:
    """Replay a recording deterministically and return what it produced.

    Args:
        files: the recording's files (Connex ``.gz`` file(s), or all cryptofeed files of
            one recording: ``NAME.0``, ``NAME.http.*``, ``NAME.ws.*``); a directory
            stands for the files in it.
        exchange: the connector to replay through (``binance``, ``okx``...).
        market: force the market (``spot``, ``linear``) when the recording does not say.
        on_event: called with every consumer event in order (not with commands).
        depth_cap: book depth cap, as in the live runtime.
        until: stop before the first record recorded after this time (ns), to look at
            the books as they were at that moment.

    Raises:
        ReplayError: unknown format, or nothing in the recording that the exchange's
            connector can replay.
    """
    paths = expand_paths(files)
    fmt = detect_format(paths)
    result = ReplayResult(exchange=exchange, format=fmt, files=paths)
    driver = _Replayer(exchange, market, result, on_event, depth_cap)

    def records() -> Iterator[Record]:
        return _merge_connex(paths) if fmt == "connex" else read_cryptofeed(paths)

    driver.sent = _sent_frames(records())
    for rec in records():
        if until is not None and rec.ts > until:
            break
        driver.feed(rec)
    driver.finish()
    if not result.cores:
        raise ReplayError(
            f"no {exchange} websocket connection found in {', '.join(Path(p).name for p in paths)}"
            + (f"; skipped: {'; '.join(result.skipped_subscriptions[:3])}"
               if result.skipped_subscriptions else "")
        )  # fmt: skip
    return result
