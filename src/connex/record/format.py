"""Connex's own recording format and the ``Recorder`` that writes it.

A recording is one gzip-compressed file of JSON lines. The first line is a header,
every other line one record, in the order the driver saw them::

    {"k":"header","format":"connex-record","v":1,"connex":"0.1.0","t":...,
     "exchange":"binance","subscriptions":{"binance":[["book","BTC/USDT"],...]}}
    {"t":1700000000000000000,"k":"open","c":"binance-spot-0","url":"wss://...",
     "exchange":"binance","market":"spot","subs":[["book","BTC/USDT"]]}
    {"t":...,"k":"send","c":"binance-spot-0","d":"{\\"method\\":\\"SUBSCRIBE\\",...}"}
    {"t":...,"k":"recv","c":"binance-spot-0","d":"{\\"stream\\":...}"}
    {"t":...,"k":"recv","c":"...","d":"H4sIAAAA...","b":true}        (binary, base64)
    {"t":...,"k":"rest","c":"binance-spot-0","url":"https://.../depth?symbol=BTCUSDT",
     "exchange":"binance","market":"spot","symbol":"BTC/USDT","s":200,"d":"{...}"}

``t`` is the local receive (or send) time in integer nanoseconds since the epoch, as
passed in by the driver: the recorder never reads a clock, so it is as deterministic
as the code that feeds it. Text frames are stored verbatim in ``d``; binary frames and
REST bodies that are not UTF-8 are base64 with ``"b": true``.

The live runtime accepts any object that satisfies ``FrameSink``; ``Recorder`` is the
one that writes this format. ``read_connex`` reads it back as ``Record`` values, the
same type the cryptofeed reader yields, so replay has one input shape.
"""

from __future__ import annotations

import base64
import gzip
import io
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

import msgspec
import orjson

from connex import __version__
from connex.exchanges.base import Channel, ConnectionSpec, Subscription

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "FrameSink",
    "Record",
    "RecordKind",
    "Recorder",
    "is_connex_recording",
    "open_text",
    "read_connex",
]

FORMAT_NAME = "connex-record"
FORMAT_VERSION = 1


class RecordKind:
    """Values of ``Record.kind``."""

    HEADER = "header"
    CONFIG = "config"  # cryptofeed ``configuration:`` line
    OPEN = "open"
    RECV = "recv"
    SEND = "send"
    REST = "rest"


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded item, whichever file format it came from.

    ``data`` is the frame exactly as delivered: ``str`` for text frames, ``bytes`` for
    binary ones (and for REST bodies). ``ts`` is integer nanoseconds (0 when unknown).
    ``symbol`` (unified) is only known for Connex REST records; ``subscriptions`` only
    for Connex ``open`` records.
    """

    kind: str
    ts: int
    conn: str = ""
    url: str = ""
    data: str | bytes = ""
    exchange: str = ""
    market: str = ""
    symbol: str = ""
    status: int = 200
    subscriptions: tuple[Subscription, ...] = ()
    meta: dict[str, Any] = {}


@runtime_checkable
class FrameSink(Protocol):
    """What the live runtime calls to record traffic (``Runner(recorder=...)``).

    Every method receives the local time ``ts`` (integer ns) chosen by the caller.
    Implementations must not raise on ordinary input and must be cheap: ``recv`` is
    called once per received frame on the hot path.
    """

    def open(self, conn: str, url: str, ts: int, spec: ConnectionSpec | None = None) -> None:
        """A websocket connection named ``conn`` was opened to ``url``."""

    def recv(self, conn: str, frame: str | bytes, ts: int) -> None:
        """A frame was received on ``conn`` (``bytes`` = binary frame)."""

    def send(self, conn: str, text: str, ts: int) -> None:
        """A frame was sent on ``conn``."""

    def rest(
        self, conn: str, request_url: str, symbol: str, status: int, body: bytes, ts: int
    ) -> None:
        """A REST reply for ``symbol`` (unified) arrived for connection ``conn``."""

    def close(self) -> None:
        """Flush and close; further calls are ignored."""


def _subs_json(subs: Iterable[Subscription]) -> list[list[str]]:
    return [[s.channel.value, s.symbol] for s in subs]


class Recorder:
    """Writes the Connex recording format (see module docstring) through gzip.

    Args:
        target: a path, or a binary file object (left open by ``close``).
        exchange: the exchange recorded, when there is one.
        subscriptions: subscriptions known at start, as a sequence (for ``exchange``)
            or a mapping exchange -> subscriptions. Each ``open`` record carries the
            subscriptions of its connection as well, so this may stay empty.
        ts: header timestamp (ns).
        flush_every: flush the gzip stream (sync flush, so a reader sees a valid prefix)
            after this many records...
        flush_interval_ns: ...or when this much recorded time passed since the last flush.
        compresslevel: gzip level (6 keeps up with a busy feed on one core).
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | IO[bytes],
        *,
        exchange: str = "",
        subscriptions: Sequence[Subscription] | Mapping[str, Sequence[Subscription]] = (),
        ts: int = 0,
        flush_every: int = 1000,
        flush_interval_ns: int = 1_000_000_000,
        compresslevel: int = 6,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(target, (str, os.PathLike)):
            self._raw: IO[bytes] = open(target, "wb")  # noqa: SIM115 - closed in close()
            self._own = True
        else:
            self._raw = target
            self._own = False
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=compresslevel, mtime=0)
        self._closed = False
        self._pending = 0
        self._last_flush = ts
        self.flush_every = flush_every
        self.flush_interval_ns = flush_interval_ns
        self.records = 0
        self._conns: dict[str, tuple[str, str]] = {}  # conn -> (exchange, market)
        if isinstance(subscriptions, Mapping):
            subs_by_ex = {ex: _subs_json(s) for ex, s in subscriptions.items()}
        else:
            subs_by_ex = {exchange: _subs_json(subscriptions)} if subscriptions else {}
        header: dict[str, Any] = {
            "k": RecordKind.HEADER,
            "format": FORMAT_NAME,
            "v": FORMAT_VERSION,
            "connex": __version__,
            "t": ts,
            "exchange": exchange,
            "subscriptions": subs_by_ex,
        }
        if meta:
            header["meta"] = dict(meta)
        self._write(header, ts)

    # -- FrameSink ------------------------------------------------------------------
    def open(self, conn: str, url: str, ts: int, spec: ConnectionSpec | None = None) -> None:
        rec: dict[str, Any] = {"t": ts, "k": RecordKind.OPEN, "c": conn, "url": url}
        if spec is not None:
            rec["exchange"] = spec.exchange
            rec["market"] = spec.market
            rec["subs"] = _subs_json(spec.subscriptions)
            self._conns[conn] = (spec.exchange, spec.market)
        self._write(rec, ts)

    def recv(self, conn: str, frame: str | bytes, ts: int) -> None:
        if type(frame) is str:
            self._write({"t": ts, "k": RecordKind.RECV, "c": conn, "d": frame}, ts)
        else:
            d = base64.b64encode(frame).decode("ascii")  # type: ignore[arg-type]
            self._write({"t": ts, "k": RecordKind.RECV, "c": conn, "d": d, "b": True}, ts)

    def send(self, conn: str, text: str, ts: int) -> None:
        self._write({"t": ts, "k": RecordKind.SEND, "c": conn, "d": text}, ts)

    def rest(
        self, conn: str, request_url: str, symbol: str, status: int, body: bytes, ts: int
    ) -> None:
        exchange, market = self._conns.get(conn, ("", ""))
        rec: dict[str, Any] = {
            "t": ts,
            "k": RecordKind.REST,
            "c": conn,
            "url": request_url,
            "exchange": exchange,
            "market": market,
            "symbol": symbol,
            "s": status,
        }
        try:
            rec["d"] = body.decode("utf-8")
        except UnicodeDecodeError:
            rec["d"] = base64.b64encode(body).decode("ascii")
            rec["b"] = True
        self._write(rec, ts)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._gz.close()
        if self._own:
            self._raw.close()

    # -- helpers --------------------------------------------------------------------
    def flush(self) -> None:
        """Sync-flush the gzip stream so that what was written so far can be read."""
        if not self._closed:
            self._gz.flush()
            self._raw.flush()
            self._pending = 0

    def _write(self, rec: dict[str, Any], ts: int) -> None:
        if self._closed:
            return
        self._gz.write(orjson.dumps(rec) + b"\n")
        self.records += 1
        self._pending += 1
        if self._pending >= self.flush_every or ts - self._last_flush >= self.flush_interval_ns:
            self._last_flush = ts
            self.flush()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- reading --------------------------------------------------------------------------
_GZIP_MAGIC = b"\x1f\x8b"


def open_text(path: str | os.PathLike[str]) -> IO[str]:
    """Open ``path`` as UTF-8 text, gunzipping transparently when it is gzip data."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == _GZIP_MAGIC:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def is_connex_recording(path: str | os.PathLike[str]) -> bool:
    """True when the first line of ``path`` is a Connex recording header."""
    try:
        with open_text(path) as fh:
            first = fh.readline(1 << 20)
    except (OSError, EOFError, UnicodeDecodeError):
        return False
    if not first.startswith("{"):
        return False
    try:
        head = orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return isinstance(head, dict) and head.get("format") == FORMAT_NAME


def _subs_from_json(items: Any) -> tuple[Subscription, ...]:
    out = []
    for item in items or ():
        try:
            out.append(Subscription(Channel(item[0]), str(item[1])))
        except (ValueError, IndexError, TypeError):
            continue
    return tuple(out)


def read_connex(path: str | os.PathLike[str]) -> Iterator[Record]:
    """Yield the records of a Connex recording, header first.

    A file cut short (the process died before ``close``) yields everything up to the
    last complete line; the truncation is reported as a final ``Record`` of kind
    ``header`` with ``meta={"truncated": True}``.
    """
    name = Path(path).name
    with open_text(path) as fh:
        lineno = 0
        while True:
            try:
                line = fh.readline()
            except (EOFError, gzip.BadGzipFile, OSError, UnicodeDecodeError):
                yield Record(kind=RecordKind.HEADER, ts=0, meta={"truncated": True, "file": name})
                return
            if not line:
                return
            lineno += 1
            if not line.endswith("\n"):
                # a partial last line from an interrupted writer
                yield Record(kind=RecordKind.HEADER, ts=0, meta={"truncated": True, "file": name})
                return
            line = line.strip()
            if not line:
                continue
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"{name}:{lineno}: not a JSON record ({exc})") from exc
            yield _record_from_json(rec, name)


def _record_from_json(rec: dict[str, Any], name: str) -> Record:
    kind = rec.get("k", "")
    ts = int(rec.get("t") or 0)
    if kind == RecordKind.HEADER:
        meta = {k: v for k, v in rec.items() if k not in ("k", "t")}
        meta["file"] = name
        return Record(kind=kind, ts=ts, exchange=rec.get("exchange") or "", meta=meta)
    data: str | bytes = rec.get("d", "")
    if rec.get("b"):
        data = base64.b64decode(data)
    elif kind == RecordKind.REST and isinstance(data, str):
        data = data.encode("utf-8")
    return Record(
        kind=kind,
        ts=ts,
        conn=rec.get("c", ""),
        url=rec.get("url", ""),
        data=data,
        exchange=rec.get("exchange", ""),
        market=rec.get("market", ""),
        symbol=rec.get("symbol", ""),
        status=int(rec.get("s", 200)),
        subscriptions=_subs_from_json(rec.get("subs")),
    )
