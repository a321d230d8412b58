"""cryptofeed format A reader: line shapes, bytes literals, file names, .gz, merging."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest

from connex.record import RecordKind, read_cryptofeed
from connex.record.cryptofeed import connection_name, parse_line, parse_timestamp, read_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "recorded"


def test_timestamp_is_exact_nanoseconds():
    # float("1633998512.0633569") * 1e9 would round; the reader must not
    assert parse_timestamp("1633998512.0633569") == 1633998512063356900
    assert parse_timestamp("1626992741.06217") == 1626992741062170000
    assert parse_timestamp("1652459224") == 1652459224000000000
    with pytest.raises(ValueError):
        parse_timestamp("12a")


def test_received_text_frame_kept_verbatim():
    rec = parse_line('1633998512.564785: {"stream":"x@depth","data":{"p":"0.10: 2"}}\n', "ws.1")
    assert rec is not None
    assert rec.kind == RecordKind.RECV
    assert rec.conn == "ws.1"
    assert rec.ts == 1633998512564785000
    # only the first ": " splits; the frame keeps its own colons and spaces
    assert rec.data == '{"stream":"x@depth","data":{"p":"0.10: 2"}}'


def test_bytes_literal_gzip_frame_becomes_exact_bytes():
    payload = b'{"ch":"market.btcusdt.depth.step0","tick":{"bids":[[1.5,2]]}}'
    blob = gzip.compress(payload, mtime=0)
    line = f"1618678070.6: {blob!r}"
    rec = parse_line(line)
    assert rec is not None and rec.kind == RecordKind.RECV
    assert isinstance(rec.data, bytes)
    assert rec.data == blob
    assert gzip.decompress(rec.data) == payload


def test_bytes_literal_json_frame_with_escapes():
    # Upbit-style: JSON written as a bytes literal with non-ASCII escaped
    line = '1618678263.010785: b\'{"cd":"KRW-LAMB","n":"\\xea\\xb0\\x80","q":"it\\\'s"}\''
    rec = parse_line(line)
    assert rec is not None
    assert rec.data == b'{"cd":"KRW-LAMB","n":"\xea\xb0\x80","q":"it\'s"}'
    assert rec.data.decode("utf-8").endswith('"q":"it\'s"}')


def test_text_frame_starting_with_b_is_not_a_bytes_literal():
    rec = parse_line("1.5: bad frame'")
    assert rec is not None and rec.data == "bad frame'"


def test_sent_open_rest_config_and_empty_lines():
    sent = parse_line(
        'wss://ws.okx.com:8443/ws/v5/public <- 1652459225.2987883: {"op":"subscribe","args":[]}'
    )
    assert sent is not None and sent.kind == RecordKind.SEND
    assert sent.url == "wss://ws.okx.com:8443/ws/v5/public"
    assert sent.ts == 1652459225298788300
    assert sent.data == '{"op":"subscribe","args":[]}'

    opened = parse_line("wss://ws.okx.com:8443/ws/v5/public <-> 1652459224.5300605\n")
    assert opened is not None and opened.kind == RecordKind.OPEN
    assert opened.url == "wss://ws.okx.com:8443/ws/v5/public"
    assert opened.ts == 1652459224530060500

    rest = parse_line(
        "https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000 -> 1633998512.320639: "
        '{"lastUpdateId":499869752,"bids":[["0.35210000","672.00000000"]],"asks":[]}'
    )
    assert rest is not None and rest.kind == RecordKind.REST
    assert rest.url == "https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000"
    assert rest.ts == 1633998512320639000
    assert (
        rest.data == b'{"lastUpdateId":499869752,"bids":[["0.35210000","672.00000000"]],"asks":[]}'
    )

    config = parse_line('configuration: {"trades":["NKN-USDT"]}')
    assert config is not None and config.kind == RecordKind.CONFIG
    assert config.data == '{"trades":["NKN-USDT"]}'

    assert parse_line("") is None
    assert parse_line("   \n") is None
    with pytest.raises(ValueError, match="unrecognised"):
        parse_line("garbage without a timestamp")


@pytest.mark.parametrize(
    ("name", "conn"),
    [
        ("BINANCE.ws.1.0", "ws.1"),
        ("BINANCE.ws.12.0.gz", "ws.12"),
        ("BINANCE_FUTURES.http.0.0", "http.0"),
        ("CRYPTO.COM.http.3.0.gz", "http.3"),
        ("BINANCE.0", "info"),
        ("BIT.COM.0.gz", "info"),
    ],
)
def test_connection_names(name, conn):
    assert connection_name(name) == conn


def _write(path: Path, text: str, compress: bool) -> Path:
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_read_merges_files_in_time_order(tmp_path, compress):
    info = _write(tmp_path / "X.0", 'configuration: {"l2_book":["A-B"]}\n', compress)
    http = _write(
        tmp_path / "X.http.0.0",
        'https://h/depth?symbol=AB -> 10.5: {"id":1}\n\n',
        compress,
    )
    ws = _write(
        tmp_path / "X.ws.1.0",
        "wss://h/stream <-> 10.0\n"
        'wss://h/stream <- 10.1: {"sub":1}\n'
        "10.2: first\n"
        "10.5: same-time-as-rest\n"
        "11.0: b'\\x00\\x01'\n"
        "\n",
        compress,
    )
    recs = list(read_cryptofeed([ws, http, info]))
    kinds = [(r.kind, r.conn, r.ts) for r in recs]
    assert kinds == [
        ("config", "info", 0),
        ("open", "ws.1", 10_000_000_000),
        ("send", "ws.1", 10_100_000_000),
        ("recv", "ws.1", 10_200_000_000),
        ("rest", "http.0", 10_500_000_000),  # a tie: the http file sorts before ws files
        ("recv", "ws.1", 10_500_000_000),
        ("recv", "ws.1", 11_000_000_000),
    ]
    assert recs[3].data == "first" and recs[3].url == "wss://h/stream"
    assert recs[4].data == b'{"id":1}'
    assert recs[-1].data == b"\x00\x01"


def test_truncated_gzip_keeps_complete_lines(tmp_path):
    blob = gzip.compress(b"1.0: one\n2.0: two\n3.0: three\n")
    path = tmp_path / "T.ws.1.0.gz"
    path.write_bytes(blob[: len(blob) - 12])  # cut off the gzip trailer and some data
    recs = list(read_file(path))
    assert [r.data for r in recs][:2] == ["one", "two"]


def test_reads_the_committed_binance_fixture():
    recs = list(read_cryptofeed(sorted((FIXTURES / "binance").iterdir())))
    config = next(r for r in recs if r.kind == RecordKind.CONFIG)
    assert recs.index(config) == 1  # after the exchangeInfo reply on the line before it
    assert config.ts == recs[0].ts == 1633998511132921000
    assert '"l2_book":["NKN-USDT","BLZ-ETH","LRC-BTC","RUNE-EUR"]' in config.data
    opens = [r for r in recs if r.kind == RecordKind.OPEN]
    assert len(opens) == 1 and opens[0].url.startswith("wss://stream.binance.com:9443/stream?")
    rest = [r for r in recs if r.kind == RecordKind.REST]
    assert [r.url.split("symbol=")[1].split("&")[0] for r in rest if "depth" in r.url] == [
        "NKNUSDT",
        "BLZETH",
        "LRCBTC",
        "RUNEEUR",
    ]
    frames = [r for r in recs if r.kind == RecordKind.RECV]
    assert len(frames) == 265
    assert frames[0].ts == 1633998512063356900
    assert frames[0].data.startswith('{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate"')
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(recs))
