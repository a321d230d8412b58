"""Reader for cryptofeed's v2 text recordings ("format A").

The format, in our words (full description: ``tests/fixtures/recorded/PROVENANCE.md``):
one record per line, UTF-8; timestamps are the recorder's wall clock in Unix seconds
with a fraction. Line shapes:

=================================  ==============================================
``configuration: {json}``          subscription used (channel -> symbols), ``NAME.0``
``URL -> TS: body``                a REST reply (newlines removed from ``body``)
``URL <-> TS``                     a websocket connection was opened
``URL <- TS: text``                a frame the client sent
``TS: text``                       a frame received, exactly as delivered
=================================  ==============================================

A received frame written as a Python bytes literal (``b'...'``) was a *binary* frame:
it is decoded back to the exact bytes (gzip data for Huobi, JSON for Upbit) and handed
over as ``bytes``, like the live transport would. Files are ``NAME.0`` (listings and the
configuration), ``NAME.http.N.0`` (book snapshots) and ``NAME.ws.N.0`` (one websocket
connection each); any of them may be gzip-compressed (``.gz`` suffix or not: the
content decides). Empty lines are skipped.
"""

from __future__ import annotations

import ast
import gzip
import heapq
import os
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .format import Record, RecordKind, open_text

__all__ = ["connection_name", "parse_line", "parse_timestamp", "read_cryptofeed", "read_file"]

_TS = r"\d+(?:\.\d+)?"
_RECV = re.compile(rf"^({_TS}): ")
_REST = re.compile(rf"^(\S+) -> ({_TS}): ")
_OPEN = re.compile(rf"^(\S+) <-> ({_TS})\s*$")
_SENT = re.compile(rf"^(\S+) <- ({_TS}): ")
_NS = Decimal(1_000_000_000)


def parse_timestamp(text: str) -> int:
    """Unix seconds with a fraction -> integer nanoseconds, exactly (no float rounding)."""
    try:
        return int(Decimal(text) * _NS)
    except InvalidOperation as exc:
        raise ValueError(f"bad timestamp {text!r}") from exc


def connection_name(path: str | os.PathLike[str]) -> str:
    """``BINANCE.ws.1.0[.gz]`` -> ``ws.1``; ``BINANCE.http.0.0`` -> ``http.0``;
    ``BINANCE.0`` -> ``info``."""
    name = Path(path).name
    if name.endswith(".gz"):
        name = name[:-3]
    m = re.search(r"\.(ws|http)\.(\d+)\.\d+$", name)
    if m:
        return f"{m.group(1)}.{m.group(2)}"
    return "info"


def _frame(text: str) -> str | bytes:
    if len(text) > 2 and text[0] == "b" and text[1] in "'\"" and text[-1] == text[1]:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(value, bytes):
            return value
    return text


def parse_line(line: str, conn: str = "") -> Record | None:
    """Parse one line of a cryptofeed recording; ``None`` for an empty line.

    Raises ``ValueError`` for a line that matches no known shape.
    """
    line = line.rstrip("\r\n")
    if not line.strip():
        return None
    m = _RECV.match(line)
    if m:
        return Record(
            kind=RecordKind.RECV, ts=parse_timestamp(m.group(1)), conn=conn,
            data=_frame(line[m.end():]),
        )  # fmt: skip
    if line.startswith("configuration: "):
        return Record(kind=RecordKind.CONFIG, ts=0, conn=conn, data=line[len("configuration: ") :])
    m = _OPEN.match(line)
    if m:
        return Record(
            kind=RecordKind.OPEN, ts=parse_timestamp(m.group(2)), conn=conn, url=m.group(1)
        )
    m = _SENT.match(line)
    if m:
        return Record(
            kind=RecordKind.SEND, ts=parse_timestamp(m.group(2)), conn=conn, url=m.group(1),
            data=line[m.end():],
        )  # fmt: skip
    m = _REST.match(line)
    if m:
        return Record(
            kind=RecordKind.REST, ts=parse_timestamp(m.group(2)), conn=conn, url=m.group(1),
            data=line[m.end():].encode("utf-8"),
        )  # fmt: skip
    raise ValueError(f"unrecognised cryptofeed line: {line[:120]!r}")


def read_file(path: str | os.PathLike[str]) -> Iterator[Record]:
    """Records of one cryptofeed file, in file order. The websocket URL of the last
    ``open`` is attached to each received frame's ``url``."""
    conn = connection_name(path)
    url = ""
    last_ts = 0
    with open_text(path) as fh:
        lineno = 0
        while True:
            try:
                line = fh.readline()
            except (EOFError, gzip.BadGzipFile):  # a truncated .gz: keep what was read
                return
            if not line:
                return
            lineno += 1
            try:
                rec = parse_line(line, conn)
            except ValueError as exc:
                raise ValueError(f"{Path(path).name}:{lineno}: {exc}") from exc
            if rec is None:
                continue
            if rec.kind == RecordKind.CONFIG:
                # no time of its own: it takes the time of the line before it
                rec = Record(kind=rec.kind, ts=last_ts, conn=conn, data=rec.data)
            last_ts = rec.ts
            if rec.kind == RecordKind.OPEN:
                url = rec.url
            elif rec.kind == RecordKind.RECV and url:
                rec = Record(kind=rec.kind, ts=rec.ts, conn=conn, url=url, data=rec.data)
            yield rec


def read_cryptofeed(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Record]:
    """Records of several files of one recording, merged in timestamp order.

    Within a file the recorded order is kept; across files records are merged by
    time (ties go to ``NAME.0``, then ``http`` files, then ``ws`` files). The
    ``configuration`` line has no time and takes the time of the line before it.
    """
    files = sorted({os.fspath(p) for p in paths}, key=_file_order)

    def keyed(i: int, path: str) -> Iterator[tuple[int, int, int, Record]]:
        for n, rec in enumerate(read_file(path)):
            yield (rec.ts, i, n, rec)

    for _, _, _, rec in heapq.merge(*(keyed(i, p) for i, p in enumerate(files))):
        yield rec


def _file_order(path: str) -> tuple[int, str]:
    conn = connection_name(path)
    rank = {"info": 0, "http": 1, "ws": 2}[conn.split(".")[0]]
    return (rank, path)
