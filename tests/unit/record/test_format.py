"""Connex recording format: Recorder -> read_connex round trip, header, flushes."""

from __future__ import annotations

import gzip
import io

import orjson

from connex import __version__
from connex.exchanges.base import Channel, ConnectionSpec, Subscription
from connex.record import FrameSink, Recorder, RecordKind, read_connex
from connex.record.format import is_connex_recording

SPEC = ConnectionSpec(
    exchange="binance",
    name="binance-spot-0",
    url="wss://stream.binance.com:9443/stream",
    market="spot",
    subscriptions=(
        Subscription(Channel.BOOK, "BTC/USDT"),
        Subscription(Channel.TRADES, "BTC/USDT"),
    ),
)


def test_recorder_is_a_frame_sink(tmp_path):
    with Recorder(tmp_path / "r.gz") as rec:
        assert isinstance(rec, FrameSink)


def test_round_trip_every_record_kind(tmp_path):
    path = tmp_path / "session.jsonl.gz"
    binary = gzip.compress(b'{"ch":"x"}', mtime=0) + b"\xff\x00"
    with Recorder(path, exchange="binance", subscriptions=SPEC.subscriptions, ts=5) as rec:
        rec.open(SPEC.name, SPEC.url, 10, SPEC)
        rec.send(SPEC.name, '{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1}', 11)
        rec.recv(SPEC.name, '{"result":null,"id":1}', 12)
        rec.recv(SPEC.name, binary, 13)
        rec.recv(SPEC.name, 'unicode \u00e9 "quoted"\n', 14)
        rec.rest(
            SPEC.name,
            "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000",
            "BTC/USDT",
            200,
            b'{"lastUpdateId":7,"bids":[["1.0","2"]],"asks":[]}',
            15,
        )
        rec.rest(SPEC.name, "https://x/depth", "BTC/USDT", 429, b"\x80not utf8", 16)
    assert is_connex_recording(path)
    recs = list(read_connex(path))
    header = recs[0]
    assert header.kind == RecordKind.HEADER
    assert header.exchange == "binance"
    assert header.meta["connex"] == __version__
    assert header.meta["format"] == "connex-record" and header.meta["v"] == 1
    assert header.meta["subscriptions"] == {
        "binance": [["book", "BTC/USDT"], ["trades", "BTC/USDT"]]
    }
    opened, sent, ack, blob, text, rest, limited = recs[1:]
    assert (opened.kind, opened.ts, opened.conn, opened.url) == ("open", 10, SPEC.name, SPEC.url)
    assert opened.exchange == "binance" and opened.market == "spot"
    assert opened.subscriptions == SPEC.subscriptions
    assert sent.kind == RecordKind.SEND and sent.data.startswith('{"method":"SUBSCRIBE"')
    assert ack.data == '{"result":null,"id":1}' and ack.ts == 12
    assert blob.data == binary and isinstance(blob.data, bytes)
    assert text.data == 'unicode \u00e9 "quoted"\n'
    assert rest.kind == RecordKind.REST
    assert (rest.symbol, rest.market, rest.exchange, rest.status) == (
        "BTC/USDT",
        "spot",
        "binance",
        200,
    )
    assert rest.data == b'{"lastUpdateId":7,"bids":[["1.0","2"]],"asks":[]}'
    assert (limited.status, limited.data) == (429, b"\x80not utf8")


def test_lines_are_plain_json_with_documented_keys(tmp_path):
    path = tmp_path / "r.gz"
    with Recorder(path, exchange="okx") as rec:
        rec.open("okx-0", "wss://ws.okx.com:8443/ws/v5/public", 1)
        rec.recv("okx-0", b"\x01\x02", 2)
    lines = [orjson.loads(x) for x in gzip.decompress(path.read_bytes()).splitlines()]
    assert lines[0]["k"] == "header" and lines[0]["exchange"] == "okx"
    assert lines[1] == {
        "t": 1,
        "k": "open",
        "c": "okx-0",
        "url": "wss://ws.okx.com:8443/ws/v5/public",
    }
    assert lines[2] == {"t": 2, "k": "recv", "c": "okx-0", "d": "AQI=", "b": True}


def test_periodic_flush_makes_a_readable_prefix_before_close():
    buf = io.BytesIO()
    rec = Recorder(buf, exchange="binance", flush_every=3, flush_interval_ns=10**18)
    for i in range(7):
        rec.recv("c", f'{{"n":{i}}}', 100 + i)
    # not closed: the file has no gzip trailer, but the sync-flushed part is readable
    data = buf.getvalue()
    text = gzip.GzipFile(fileobj=io.BytesIO(data))
    got = []
    try:
        for line in text:
            got.append(orjson.loads(line))
    except EOFError:
        pass
    ns = [g["d"] for g in got if g["k"] == "recv"]
    assert ns[:5] == ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']
    rec.close()
    rec.recv("c", "after close is ignored", 999)
    assert not buf.closed  # a caller's file object stays open


def test_time_based_flush(tmp_path):
    buf = io.BytesIO()
    rec = Recorder(buf, flush_every=10**9, flush_interval_ns=1_000, ts=0)
    rec.recv("c", "a", 500)
    size_before = len(buf.getvalue())
    rec.recv("c", "b", 2_000)  # 2 us of recorded time passed: flush
    assert len(buf.getvalue()) > size_before
    rec.close()


def test_truncated_recording_is_read_up_to_the_cut(tmp_path):
    path = tmp_path / "cut.gz"
    with open(path, "wb") as fh:
        rec = Recorder(fh, exchange="binance", flush_every=1)
        for i in range(5):
            rec.recv("c", f"frame {i}", i + 1)
        rec.flush()
        data = fh.tell()
    path.write_bytes(path.read_bytes()[:data])
    recs = list(read_connex(path))
    assert [r.data for r in recs if r.kind == RecordKind.RECV] == [f"frame {i}" for i in range(5)]
    assert recs[-1].kind == RecordKind.HEADER and recs[-1].meta["truncated"] is True


def test_cryptofeed_file_is_not_a_connex_recording(tmp_path):
    p = tmp_path / "X.ws.1.0"
    p.write_text("wss://h <-> 1.0\n1.5: {}\n")
    assert not is_connex_recording(p)
    p.write_text('{"k":"something else"}\n')
    assert not is_connex_recording(p)
