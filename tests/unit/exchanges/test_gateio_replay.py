"""Replay of real Gate.io traffic (cryptofeed recordings; see
tests/fixtures/recorded/PROVENANCE.md).

Each recording is driven through ``FeedCore(PublicSession(...))`` exactly as the live runtime
would: ``core.start()`` asks for one REST snapshot per book, each request is answered with
the recorded REST body whose URL equals the request, at its recorded time, interleaved with
the recorded websocket frames.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from connex.exchanges.base import Channel, ConnectionSpec, Subscription
from connex.exchanges.gateio import PROD_ENDPOINTS, PublicSession
from connex.exchanges.gateio.symbols import SymbolMap
from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    FeedError,
    NeedSnapshot,
    Side,
    Subscribed,
    Ticker,
    Trade,
)
from connex.runtime.core import FeedCore

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "recorded"


@dataclass
class Recording:
    received: list[tuple[float, str]] = field(default_factory=list)
    sent: list[tuple[float, str]] = field(default_factory=list)
    http: list[tuple[float, str, str]] = field(default_factory=list)


def read_format_a(*paths: Path) -> Recording:
    """Minimal reader of cryptofeed "format A" text recordings (gzip-compressed here)."""
    rec = Recording()
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                line = line.rstrip("\n")
                if not line or line.startswith("configuration: "):
                    continue
                if line.startswith("https://"):
                    url, rest = line.split(" -> ", 1)
                    ts, body = rest.split(": ", 1)
                    rec.http.append((float(ts), url, body))
                elif line.startswith("wss://"):
                    if " <- " in line:
                        ts, body = line.split(" <- ", 1)[1].split(": ", 1)
                        rec.sent.append((float(ts), body))
                else:
                    ts, body = line.split(": ", 1)
                    rec.received.append((float(ts), body))
    return rec


def _ns(ts: float) -> int:
    return round(ts * 1e9)


@dataclass
class Replay:
    core: FeedCore
    out: list[Any]
    requested: list[str]
    answered: list[str]


def replay(
    folder: str,
    name: str,
    market: str,
    suffix: str,
    on_frame: Callable[[str, FeedCore], None] | None = None,
) -> Replay:
    ws = read_format_a(FIXTURES / folder / f"{name}.ws.1.0.gz")
    http = read_format_a(FIXTURES / folder / f"{name}.http.0.0.gz").http
    # the symbols the recorder subscribed books for, from the frames it sent
    venues = [
        json.loads(body)["payload"][0]
        for _, body in ws.sent
        if json.loads(body)["channel"].endswith(".order_book_update")
    ]
    symbols = [v.replace("_", "/") + suffix for v in venues]
    subs = [
        Subscription(ch, s)
        for ch in (Channel.BOOK, Channel.TRADES, Channel.TICKER)
        for s in symbols
    ]
    spec = ConnectionSpec(
        exchange="gateio", name="replay", url="", market=market, subscriptions=tuple(subs)
    )
    session = PublicSession(spec, PROD_ENDPOINTS[market])
    core = FeedCore(session)
    out: list[Any] = []
    start = core.start()
    requested = [c.symbol for c in start if isinstance(c, NeedSnapshot)]
    by_url = {}
    for sym in requested:
        req = session.snapshot_request(sym)
        by_url[f"{req.url}?{urlencode(req.params)}"] = sym
    timeline = [(ts, 1, body, "") for ts, body in ws.received]
    timeline += [(ts, 0, body, url) for ts, url, body in http]
    timeline.sort(key=lambda x: (x[0], x[1]))
    answered = []
    for ts, kind, body, url in timeline:
        if kind == 0:
            sym = by_url[url]  # KeyError = the recorded request is not what we would ask
            answered.append(sym)
            out.extend(core.on_snapshot(sym, body.encode(), _ns(ts)))
        else:
            out.extend(core.on_frame(body, _ns(ts)))
            if on_frame is not None:
                on_frame(body, core)
    return Replay(core, out, requested, answered)


def _levels(core: FeedCore, symbol: str) -> tuple[dict[str, str], dict[str, str]]:
    book = core.books[symbol].book
    return dict(book.bids()), dict(book.asks())


# -- spot ---------------------------------------------------------------------------------------


def test_spot_replay_syncs_every_book_without_errors() -> None:
    r = replay("gateio", "GATEIO", "spot", "")
    assert len(r.requested) == 10 and sorted(r.answered) == sorted(r.requested)
    assert r.core.counters.frames == 239
    assert not [e for e in r.out if isinstance(e, (FeedError, BookReset))]
    assert r.core.counters.malformed == 0 and r.core.counters.errors == 0
    for sym, sync in r.core.books.items():
        assert sync.is_live, sym
        c = sync.counters
        assert (c.gaps, c.crossed, c.stale_snapshots, c.snapshots) == (0, 0, 0, 1), sym
        assert not sync.book.is_crossed()
    # 22 acks (trades, 10 books, 10 candlesticks, tickers): all success
    assert sum(isinstance(e, Subscribed) for e in r.out) == 22
    # every delta that was released is newer than its book's snapshot
    assert sum(isinstance(e, BookDelta) for e in r.out) == 158


def test_spot_trade_content() -> None:
    r = replay("gateio", "GATEIO", "spot", "")
    trades = [e for e in r.out if isinstance(e, Trade)]
    assert len(trades) == 9
    t = trades[0]
    assert t.symbol == "DIS/USDT" and t.trade_id == "816995772"
    assert t.price == Decimal("121.58") and t.size == Decimal("0.201") and t.side is Side.SELL
    # create_time_ms "1619093543708.2642" kept exactly to the ns
    assert t.ts_exchange == 1619093543708264200
    buy = next(e for e in trades if e.trade_id == "816995970")
    assert (buy.symbol, buy.side, buy.price, buy.size) == (
        "NEO/BTC",
        Side.BUY,
        Decimal("0.0018735"),
        Decimal("0.5"),
    )


def test_spot_levels_after_a_specific_update() -> None:
    seen: dict[str, tuple[dict[str, str], dict[str, str]]] = {}

    def grab(frame: str, core: FeedCore) -> None:
        if '"s":"QTUM3S_USDT","U":69526944,' in frame:
            seen["before"] = _levels(core, "QTUM3S/USDT")
        if '"s":"QTUM3S_USDT","U":69526952,' in frame:
            seen["after"] = _levels(core, "QTUM3S/USDT")

    r = replay("gateio", "GATEIO", "spot", "", on_frame=grab)
    bids0, asks0 = seen["before"]
    bids1, asks1 = seen["after"]
    # the update 69526952..69526959: b 0.214932=7871.91, 0.21115=0; a 0.229291=0, 0.289862=3886.59
    assert (
        bids0["0.21115"] == "8756.38" and "0.214932" not in bids0 and asks0["0.229291"] == "5869.24"
    )
    assert bids1["0.214932"] == "7871.91" and "0.21115" not in bids1
    assert "0.229291" not in asks1 and asks1["0.289862"] == "3886.59"
    assert r.core.books["QTUM3S/USDT"].counters.skipped_before_snapshot == 2


def test_spot_buffered_delta_newer_than_snapshot_is_applied_on_sync() -> None:
    # DIS_USDT: snapshot id 1750468 arrived after the update 1750469..1750469 (ask 122 -> 0)
    r = replay("gateio", "GATEIO", "spot", "")
    snap = next(e for e in r.out if isinstance(e, BookSnapshot) and e.symbol == "DIS/USDT")
    assert snap.sequence == 1750469
    assert snap.asks[0] == ("122.36", "0.024") and ("163.68", "0.024") in snap.asks
    assert not any(p == "122" for p, _ in snap.asks)


# -- futures ------------------------------------------------------------------------------------


def test_futures_replay_syncs_every_book_without_errors() -> None:
    r = replay("gateio_futures", "GATEIO_FUTURES", "linear", ":USDT")
    assert len(r.requested) == 10 and sorted(r.answered) == sorted(r.requested)
    assert r.core.counters.frames == 450
    assert not [e for e in r.out if isinstance(e, (FeedError, BookReset))]
    for sym, sync in r.core.books.items():
        assert sym.endswith(":USDT") and sync.is_live, sym
        c = sync.counters
        assert (c.gaps, c.crossed, c.stale_snapshots) == (0, 0, 0), sym
    # sizes are contracts, kept as exact integer strings
    rdnt = next(e for e in r.out if isinstance(e, BookSnapshot) and e.symbol == "RDNT/USDT:USDT")
    assert rdnt.sequence >= 203083287
    assert all(q.isdigit() for _, q in rdnt.bids + rdnt.asks)


def test_futures_levels_after_specific_updates() -> None:
    seen: dict[str, dict[str, str]] = {}

    def grab(frame: str, core: FeedCore) -> None:
        for u in ("3132789381", "3132789382"):
            if f'"U":{u},' in frame and '"s":"OMG_USDT"' in frame:
                seen[u] = _levels(core, "OMG/USDT:USDT")[0]

    replay("gateio_futures", "GATEIO_FUTURES", "linear", ":USDT", on_frame=grab)
    assert seen["3132789381"]["0.7696"] == "918"
    assert seen["3132789382"]["0.7696"] == "53"


def test_futures_book_ticker_content() -> None:
    r = replay("gateio_futures", "GATEIO_FUTURES", "linear", ":USDT")
    ticks = [e for e in r.out if isinstance(e, Ticker)]
    assert len(ticks) == 75
    t = ticks[0]
    assert t.symbol == "PHB/USDT:USDT"
    assert (t.bid_price, t.bid_size, t.ask_price, t.ask_size) == (
        Decimal("0.7379"),
        Decimal(814),
        Decimal("0.739"),
        Decimal(677),
    )
    assert t.ts_exchange == 1684930165621 * 1_000_000


@pytest.mark.parametrize(
    ("folder", "name", "market", "suffix"),
    [("gateio", "GATEIO", "spot", ""), ("gateio_futures", "GATEIO_FUTURES", "linear", ":USDT")],
)
def test_books_never_crossed_during_replay(
    folder: str, name: str, market: str, suffix: str
) -> None:
    crossed: list[str] = []

    def check(frame: str, core: FeedCore) -> None:
        crossed.extend(
            s for s, sync in core.books.items() if sync.is_live and sync.book.is_crossed()
        )

    replay(folder, name, market, suffix, on_frame=check)
    assert crossed == []


def test_recorded_listings_load_into_the_symbol_map() -> None:
    (pairs,) = read_format_a(FIXTURES / "gateio" / "GATEIO.0.gz").http
    (contracts,) = read_format_a(FIXTURES / "gateio_futures" / "GATEIO_FUTURES.0.gz").http
    assert pairs[1].endswith("/api/v4/spot/currency_pairs")
    assert contracts[1].endswith("/api/v4/futures/usdt/contracts")
    m = SymbolMap()
    m.load_currency_pairs(json.loads(pairs[2]))
    m.load_contracts(json.loads(contracts[2]))
    assert m.to_unified("spot", "QTUM3S_USDT") == "QTUM3S/USDT"
    assert m.to_unified("linear", "RDNT_USDT") == "RDNT/USDT:USDT"
    assert m.multiplier("BTC/USDT:USDT") == Decimal("0.0001")
    assert m.multiplier("DOGE/USDT:USDT") == Decimal("10")
    assert m.multiplier("RDNT/USDT:USDT") == Decimal("1")
