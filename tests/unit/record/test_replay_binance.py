"""Replay of the recorded Binance spot and USD-M sessions (cryptofeed format A).

Expected values were read from the recordings themselves (see each test); the final
books are also checked against a naive, independent dict replay written below.
"""

from __future__ import annotations

import gzip
import io
import json
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from connex.model import BookDelta, BookReset, FeedError, Side, Ticker, Trade
from connex.record import replay
from connex.record.cli import replay_command
from connex.record.replay import ReplayError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "recorded"
SPOT = FIXTURES / "binance"
FUTURES = FIXTURES / "binance_futures"
NS = 1_000_000_000


def _ns(ts: str) -> int:
    return int(Decimal(ts) * NS)


def _naive_books(folder: Path, futures: bool) -> dict[str, tuple[dict, dict, int]]:
    """Independent reference: plain json + dicts, snapshot applied once the recording
    clock reached its receive time, then every later update applied by id."""
    snaps = {}
    for path in folder.glob("*.http.*.gz"):
        with gzip.open(path, "rt") as fh:
            lines = fh.read().splitlines()
        for line in lines:
            if not line.strip():
                continue
            url, rest = line.split(" -> ", 1)
            ts, body = rest.split(": ", 1)
            symbol = url.split("symbol=")[1].split("&")[0]
            snaps[symbol] = (Decimal(ts), json.loads(body))
    books: dict[str, tuple[dict, dict, int]] = {}
    with gzip.open(next(folder.glob("*.ws.*.gz")), "rt") as fh:
        ws_lines = fh.read().splitlines()
    for line in ws_lines:
        if not line.strip() or " <-> " in line:
            continue
        ts_text, body = line.split(": ", 1)
        ts = Decimal(ts_text)
        for sym, (sts, snap) in snaps.items():
            if sym not in books and sts <= ts:
                books[sym] = (
                    {Decimal(p): Decimal(q) for p, q in snap["bids"]},
                    {Decimal(p): Decimal(q) for p, q in snap["asks"]},
                    snap["lastUpdateId"],
                )
        msg = json.loads(body)
        data = msg["data"]
        if "@depth" not in msg["stream"] or data["s"] not in books:
            continue
        bids, asks, last = books[data["s"]]
        if data["u"] < last or (not futures and data["u"] == last):
            continue
        for side, key in ((bids, "b"), (asks, "a")):
            for p, q in data[key]:
                if Decimal(q) == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = Decimal(q)
        books[data["s"]] = (bids, asks, data["u"])
    return books


@pytest.fixture(scope="module")
def spot():
    events: list = []
    result = replay([SPOT], "binance", on_event=events.append)
    return result, events


@pytest.fixture(scope="module")
def futures():
    events: list = []
    result = replay([FUTURES], "binance", on_event=events.append)
    return result, events


def test_spot_detected_from_url_and_books_valid(spot):
    result, _ = spot
    s = result.summary()
    assert s["format"] == "cryptofeed"
    assert s["connections"] == {"ws.1": "spot"}
    assert s["frames"] == 265
    assert s["errors"]["parse_errors"] == 0
    assert result.parse_errors == 0
    # the two kline_1m frames are reported as unsupported, not as parse errors
    assert s["errors"]["unsupported"] == 2
    assert {e["message"] for e in s["errors"]["samples"]} == {
        "unsupported stream 'nknusdt@kline_1m'",
        "unsupported stream 'lrcbtc@kline_1m'",
    }
    assert sorted(s["books"]) == ["BLZ/ETH", "LRC/BTC", "NKN/USDT", "RUNE/EUR"]
    for symbol, book in s["books"].items():
        assert book["valid"], symbol
        assert book["crossed"] == 0 and book["gaps"] == 0 and book["resyncs"] == 0, symbol
    for sync in result.books.values():
        assert sync.counters.crossed == 0
    assert s["snapshots"] == {"used": 4, "failed": 0, "unavailable": 0, "unused_rest_replies": 0}


def test_spot_first_agg_trade(spot):
    # 1633998523.9757886 (recv): nknusdt@aggTrade a=15683430 p=0.35280000 q=58 m=false
    _, events = spot
    trades = [e for e in events if type(e) is Trade]
    first = trades[0]
    assert first.symbol == "NKN/USDT"
    assert first.trade_id == "15683430"
    assert first.price == Decimal("0.35280000")
    assert first.size == Decimal("58.00000000")
    assert first.side is Side.BUY  # m=false: the buyer was the taker
    assert first.ts_exchange == 1633998523963 * 1_000_000
    assert [t.trade_id for t in trades] == ["15683430", "9213679"]
    assert trades[1].symbol == "LRC/BTC" and trades[1].price == Decimal("0.00000638")


def test_spot_book_level_after_specific_update():
    # snapshot NKNUSDT lastUpdateId 499869752 has bid 0.35200000 x 1144 and no 0.35170000;
    # update U=499869753 u=499869754 (recv 1633998512.564785) sets bid 0.35170000 -> 4265;
    # update U=499869755 u=499869757 (recv 1633998512.663777) sets bid 0.35200000 -> 1290.
    before = replay([SPOT], "binance", until=_ns("1633998512.663777") - 1)
    book = before.books["NKN/USDT"].book
    bids = dict(book.bids())
    assert book.sequence == 499869754
    assert bids["0.35170000"] == "4265.00000000"
    assert bids["0.35200000"] == "1144.00000000"
    after = replay([SPOT], "binance", until=_ns("1633998512.663777"))
    book = after.books["NKN/USDT"].book
    assert book.sequence == 499869757
    assert dict(book.bids())["0.35200000"] == "1290.00000000"


def test_spot_final_top_of_book(spot):
    result, _ = spot
    books = result.summary()["books"]
    assert books["NKN/USDT"]["best_bid"] == ["0.35270000", "9602.00000000"]
    assert books["NKN/USDT"]["best_ask"] == ["0.35310000", "152.00000000"]
    assert books["NKN/USDT"]["sequence"] == 499870179
    assert books["LRC/BTC"]["best_bid"] == ["0.00000637", "2500.00000000"]
    assert books["LRC/BTC"]["best_ask"] == ["0.00000638", "2285.00000000"]
    assert books["RUNE/EUR"]["best_bid"] == ["6.25100000", "69.30000000"]
    assert books["RUNE/EUR"]["best_ask"] == ["6.26900000", "69.30000000"]
    assert books["BLZ/ETH"]["depth"] == {"bids": 173, "asks": 999}


@pytest.mark.parametrize(("folder", "futures_market"), [(SPOT, False), (FUTURES, True)])
def test_final_books_equal_independent_replay(folder, futures_market):
    result = replay([folder], "binance")
    naive = _naive_books(folder, futures_market)
    assert len(naive) == 4
    by_venue = {sym.split(":")[0].replace("/", ""): sync for sym, sync in result.books.items()}
    for venue, (bids, asks, last) in naive.items():
        sync = by_venue[venue]
        got_bids, got_asks = sync.book.as_decimal_dict()
        assert sync.book.sequence == last, venue
        assert got_bids == bids, venue
        assert got_asks == asks, venue


def test_futures_detected_and_valid(futures):
    result, events = futures
    s = result.summary()
    assert s["connections"] == {"ws.1": "linear"}
    assert s["frames"] == 1535
    assert s["errors"]["parse_errors"] == 0
    assert s["errors"]["by_kind"] == {"unsupported": 67}  # kline_1m frames only
    assert sorted(s["books"]) == [
        "AKRO/USDT:USDT",
        "CTK/USDT:USDT",
        "KEEP/USDT:USDT",
        "SUSHI/USDT:USDT",
    ]
    for symbol, book in s["books"].items():
        assert book["valid"] and book["crossed"] == 0 and book["gaps"] == 0, symbol
    assert not [e for e in events if type(e) is BookReset]
    assert not [e for e in events if type(e) is FeedError and e.kind != "unsupported"]
    books = s["books"]
    assert books["SUSHI/USDT:USDT"]["best_bid"] == ["7.6120", "303"]
    assert books["SUSHI/USDT:USDT"]["best_ask"] == ["7.6160", "267"]
    assert books["SUSHI/USDT:USDT"]["sequence"] == 600860425198
    assert books["AKRO/USDT:USDT"]["best_ask"] == ["0.01735", "50697"]
    assert books["CTK/USDT:USDT"]["best_bid"] == ["1.01100", "1698"]
    assert books["KEEP/USDT:USDT"]["best_ask"] == ["0.2467", "9047"]


def test_futures_first_agg_trade_and_ticker(futures):
    # first aggTrade: ctkusdt a=16599292 p=1.01100 q=10 T=1626992741421 m=false
    # first frame: sushiusdt@bookTicker b=7.6110 B=2 a=7.6120 A=297 (recv 1626992741.06217)
    _, events = futures
    trade = next(e for e in events if type(e) is Trade)
    assert (trade.symbol, trade.trade_id, trade.price, trade.size, trade.side) == (
        "CTK/USDT:USDT",
        "16599292",
        Decimal("1.01100"),
        Decimal("10"),
        Side.BUY,
    )
    assert trade.ts_exchange == 1626992741421 * 1_000_000
    ticker = next(e for e in events if type(e) is Ticker)
    assert ticker.symbol == "SUSHI/USDT:USDT"
    assert (ticker.bid_price, ticker.bid_size, ticker.ask_price, ticker.ask_size) == (
        Decimal("7.6110"),
        Decimal("2"),
        Decimal("7.6120"),
        Decimal("297"),
    )
    assert ticker.ts_local == _ns("1626992741.06217")


def test_futures_first_applied_update_links_to_snapshot():
    # SUSHIUSDT snapshot lastUpdateId 600859605926: bid 7.5600 x 3479.
    # first update spanning it: U=600859605926 u=600859607423 (recv 1626992742.289501)
    # sets bid 7.5600 -> 478; the next (pu=600859607423, u=600859609417) sets it to 3539.
    deltas: list[BookDelta] = []
    r1 = replay(
        [FUTURES],
        "binance",
        until=_ns("1626992742.289501"),
        on_event=lambda e: deltas.append(e) if type(e) is BookDelta else None,
    )
    sushi = r1.books["SUSHI/USDT:USDT"].book
    assert sushi.sequence == 600859607423
    assert dict(sushi.bids())["7.5600"] == "478"
    first = next(d for d in deltas if d.symbol == "SUSHI/USDT:USDT")
    assert (first.first_seq, first.sequence, first.prev_seq) == (
        600859605926,
        600859607423,
        600859604824,
    )
    r2 = replay([FUTURES], "binance", until=_ns("1626992742.289614"))
    sushi = r2.books["SUSHI/USDT:USDT"].book
    assert sushi.sequence == 600859609417
    assert dict(sushi.bids())["7.5600"] == "3539"


def test_replay_is_deterministic():
    a: list = []
    b: list = []
    replay([FUTURES], "binance", on_event=a.append)
    replay([FUTURES], "binance", on_event=b.append)
    assert len(a) == len(b) > 1000
    assert a == b


def test_cli_json_summary(capsys):
    buf = io.StringIO()
    code = replay_command([str(SPOT)], "binance", None, True, out=buf)
    assert code == 0
    data = orjson.loads(buf.getvalue())
    assert data["books"]["NKN/USDT"]["best_ask"] == ["0.35310000", "152.00000000"]
    assert data["events"]["Trade"] == 2
    text = io.StringIO()
    assert replay_command([str(FUTURES)], "binance", None, False, out=text) == 0
    assert "SUSHI/USDT:USDT" in text.getvalue() and "7.6160" in text.getvalue()


def test_cli_unknown_file_and_wrong_exchange(tmp_path, capsys):
    assert replay_command([str(tmp_path / "missing.gz")], "binance", None, True) == 2
    assert "no such recording file" in capsys.readouterr().err
    with pytest.raises(ReplayError):
        replay([SPOT], "binance", market="linear")  # the spot streams map to no USD-M book
