"""Consolidated book: hand-computed spreads, fees, executable sizes, stale/reset exclusion."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connex.aggregate import ConsolidatedBook
from connex.book import L2Book
from connex.model import BookDelta, BookReset, BookSnapshot, ResetReason

SYM = "BTC/USDT"
T = 1_700_000_000_000_000_000
SEC = 1_000_000_000


def snap(ex, bids, asks, ts=T, symbol=SYM, seq=1):
    return BookSnapshot(
        exchange=ex, symbol=symbol, bids=tuple(bids), asks=tuple(asks), sequence=seq, ts_local=ts
    )


def delta(ex, bids=(), asks=(), ts=T, symbol=SYM, seq=2):
    return BookDelta(
        exchange=ex, symbol=symbol, bids=tuple(bids), asks=tuple(asks), sequence=seq, ts_local=ts
    )


def crossed_pair(cb: ConsolidatedBook) -> None:
    """binance asks 100.5 x1, 100.6 x4; okx bids 101.0 x0.4, 100.9 x2 (okx bid > binance ask)."""
    cb.on_event(snap("binance", [("100.0", "2"), ("99.5", "3")], [("100.5", "1"), ("100.6", "4")]))
    cb.on_event(snap("okx", [("101.0", "0.4"), ("100.9", "2")], [("101.5", "2"), ("102", "1")]))


def test_quote_picks_best_venue_per_side_and_spread_bps():
    cb = ConsolidatedBook()
    cb.on_event(snap("binance", [("100", "1")], [("100.5", "3")]))
    cb.on_event(snap("okx", [("100.2", "0.7")], [("100.4", "2.5")]))
    q = cb.quote(SYM, T)
    assert (q.bid_price, q.bid_size, q.bid_exchange) == (D("100.2"), D("0.7"), "okx")
    assert (q.ask_price, q.ask_size, q.ask_exchange) == (D("100.4"), D("2.5"), "okx")
    assert q.spread == D("0.2")
    # 0.2 / 100.3 * 10^4 = 19.94017946... -> 19.9402
    assert q.spread_bps == D("19.9402")
    assert q.crossed is False
    assert [(v.exchange, v.bid_price, v.ask_price, v.usable) for v in q.venues] == [
        ("binance", D("100"), D("100.5"), True),
        ("okx", D("100.2"), D("100.4"), True),
    ]


def test_crossed_venues_give_negative_spread():
    cb = ConsolidatedBook()
    crossed_pair(cb)
    q = cb.quote(SYM, T)
    assert (q.bid_exchange, q.bid_price, q.ask_exchange, q.ask_price) == (
        "okx",
        D("101.0"),
        "binance",
        D("100.5"),
    )
    # -0.5 / 100.75 * 10^4 = -49.62779... -> -49.6278
    assert q.spread == D("-0.5")
    assert q.spread_bps == D("-49.6278")
    assert q.crossed is True


def test_arbitrage_walks_levels_net_of_fees():
    cb = ConsolidatedBook(taker_fees={"binance": D("0.0004"), "okx": D("0.0002")})
    crossed_pair(cb)
    opps = cb.arbitrage(SYM, T + 2 * SEC)
    assert len(opps) == 1
    o = opps[0]
    assert (o.buy_exchange, o.sell_exchange) == ("binance", "okx")
    assert (o.buy_price, o.sell_price) == (D("100.5"), D("101.0"))
    # per unit: 101.0 * 0.9998 - 100.5 * 1.0004 = 100.9798 - 100.5402 = 0.4396
    assert o.net_per_unit == D("0.4396")
    assert o.gross_bps == D("49.7512")  # 0.5 / 100.5
    assert o.net_bps == D("43.7413")  # 0.4396 / 100.5 = 43.74129...
    assert o.top_size == D("0.4")
    # walk: 0.4 @100.5/101.0, 0.6 @100.5/100.9, 1.4 @100.6/100.9 (okx bids exhausted)
    assert o.size == D("2.4")
    assert (o.levels_buy, o.levels_sell) == (2, 2)
    # 242.2 * 0.9998 - 241.34 * 1.0004 = 0.715024
    assert o.net_profit == D("0.715024")
    assert abs(o.avg_buy_price * D("2.4") - D("241.34")) < D("1e-30")
    assert abs(o.avg_sell_price * D("2.4") - D("242.2")) < D("1e-30")
    assert str(o.avg_buy_price).startswith("100.55833333")
    assert (o.buy_age_ns, o.sell_age_ns) == (2 * SEC, 2 * SEC)


def test_arbitrage_walk_stops_when_next_level_unprofitable():
    # Second okx bid 100.55 sells into binance's 100.5 ask: 100.55*0.9998 - 100.5402 < 0.
    cb = ConsolidatedBook(taker_fees={"binance": D("0.0004"), "okx": D("0.0002")})
    cb.on_event(snap("binance", [("100.0", "2")], [("100.5", "1"), ("100.6", "4")]))
    cb.on_event(snap("okx", [("101.0", "0.4"), ("100.55", "2")], [("101.5", "2")]))
    (o,) = cb.arbitrage(SYM, T)
    assert o.size == D("0.4")
    assert o.net_profit == D("0.17584")  # 0.4 * 0.4396
    assert (o.levels_buy, o.levels_sell) == (1, 1)


def test_arbitrage_top_size_mode_and_fees_that_kill_the_edge():
    cb = ConsolidatedBook(taker_fees={"binance": D("0.0004"), "okx": D("0.0002")})
    crossed_pair(cb)
    (o,) = cb.arbitrage(SYM, T, walk=False)
    assert o.size == D("0.4") and o.net_profit == D("0.17584")
    # 0.3% each: 101.0 * 0.997 = 100.697 < 100.5 * 1.003 = 100.8015 -> nothing
    cb2 = ConsolidatedBook(default_taker_fee=D("0.003"))
    crossed_pair(cb2)
    assert cb2.arbitrage(SYM, T) == []
    # min_net_bps filters below the threshold
    assert cb.arbitrage(SYM, T, min_net_bps=D("43.7413")) == []
    assert len(cb.arbitrage(SYM, T, min_net_bps=D("43.7412"))) == 1


def test_stale_venue_excluded_at_the_age_edge():
    cb = ConsolidatedBook(max_age_ns=SEC)
    cb.on_event(snap("binance", [("100", "1")], [("100.5", "3")], ts=T + SEC))
    cb.on_event(snap("okx", [("100.2", "0.7")], [("100.4", "2.5")], ts=T))
    q = cb.quote(SYM, T + SEC)  # okx exactly max_age old: still usable
    assert q.bid_exchange == "okx" and q.ask_exchange == "okx"
    q = cb.quote(SYM, T + SEC + 1)  # 1 ns older than the limit: excluded
    assert (q.bid_exchange, q.bid_price, q.ask_exchange, q.ask_price) == (
        "binance",
        D("100"),
        "binance",
        D("100.5"),
    )
    okx = next(v for v in q.venues if v.exchange == "okx")
    assert okx.stale and not okx.usable and okx.valid and okx.reason.startswith("stale")
    # a delta refreshes ts_local and brings it back
    cb.on_event(delta("okx", bids=[("100.1", "1")], ts=T + SEC + 1))
    assert cb.quote(SYM, T + SEC + 1).bid_exchange == "okx"


def test_stale_quotes_never_make_arbitrage():
    cb = ConsolidatedBook(max_age_ns=SEC, default_taker_fee=D("0"))
    cb.on_event(snap("binance", [("100.0", "2")], [("100.5", "1")], ts=T + 5 * SEC))
    cb.on_event(snap("okx", [("101.0", "0.4")], [("101.5", "2")], ts=T))
    assert cb.arbitrage(SYM, T + 5 * SEC) == []
    assert len(cb.arbitrage(SYM, T + SEC)) == 1


def test_reset_excludes_venue_until_next_snapshot():
    cb = ConsolidatedBook(default_taker_fee=D("0"))
    crossed_pair(cb)
    assert (
        cb.on_event(BookReset(exchange="okx", symbol=SYM, reason=ResetReason.GAP, ts_local=T))
        is True
    )
    q = cb.quote(SYM, T)
    assert (q.bid_exchange, q.bid_price) == ("binance", D("100.0"))
    assert cb.arbitrage(SYM, T) == []
    okx = next(v for v in q.venues if v.exchange == "okx")
    assert not okx.valid and okx.bid_price is None and "reset" in okx.reason
    # deltas while invalid are ignored (they would patch a cleared book)
    assert cb.on_event(delta("okx", bids=[("105", "9")], ts=T + 1)) is False
    assert cb.quote(SYM, T + 1).bid_price == D("100.0")
    cb.on_event(snap("okx", [("100.8", "1")], [("101.2", "1")], ts=T + 2, seq=10))
    q = cb.quote(SYM, T + 2)
    assert (q.bid_exchange, q.bid_price, q.bid_size) == ("okx", D("100.8"), D("1"))


def test_delta_reports_top_changes_only():
    cb = ConsolidatedBook()
    cb.on_event(snap("binance", [("100.0", "2"), ("99.5", "3")], [("100.5", "1"), ("100.6", "4")]))
    assert cb.on_event(delta("binance", bids=[("99.0", "5")])) is False  # deep level
    v0 = cb.version(SYM)
    assert cb.on_event(delta("binance", asks=[("100.5", "0")])) is True  # best ask removed
    assert cb.version(SYM) == v0 + 1
    q = cb.quote(SYM, T)
    assert (q.ask_price, q.ask_size) == (D("100.6"), D("4"))
    assert cb.on_event(delta("binance", bids=[("100.0", "2.5")])) is True  # best bid size
    assert cb.quote(SYM, T).bid_size == D("2.5")


def test_consolidated_top_n_with_venue_attribution():
    cb = ConsolidatedBook()
    cb.on_event(snap("binance", [("100.0", "2"), ("99.5", "3")], [("100.5", "1"), ("100.6", "4")]))
    cb.on_event(
        snap("kraken", [("100.00", "1.5"), ("99.9", "1")], [("100.6", "0.5"), ("100.7", "2")])
    )
    cb.on_event(BookReset(exchange="okx", symbol=SYM, reason=ResetReason.RECONNECT, ts_local=T))
    d = cb.top(SYM, T, depth=3)
    assert d.exchanges == ("binance", "kraken")
    assert [(lv.price, lv.size, lv.venues) for lv in d.bids] == [
        (D("100.0"), D("3.5"), (("binance", D("2")), ("kraken", D("1.5")))),
        (D("99.9"), D("1"), (("kraken", D("1")),)),
        (D("99.5"), D("3"), (("binance", D("3")),)),
    ]
    assert [(lv.price, lv.size, lv.venues) for lv in d.asks] == [
        (D("100.5"), D("1"), (("binance", D("1")),)),
        (D("100.6"), D("4.5"), (("binance", D("4")), ("kraken", D("0.5")))),
        (D("100.7"), D("2"), (("kraken", D("2")),)),
    ]
    assert len(cb.top(SYM, T, depth=1).asks) == 1


def test_spot_perp_basis():
    cb = ConsolidatedBook()
    cb.on_event(snap("binance", [("100", "1")], [("100.5", "1")], ts=T))
    cb.on_event(snap("okx", [("100.9", "1")], [("101.1", "1")], ts=T + SEC, symbol="BTC/USDT:USDT"))
    cb.on_event(snap("okx", [("50", "1")], [("51", "1")], symbol="ETH/USDT:USDT"))
    cb.on_event(snap("bybit", [("100", "1")], [("101", "1")], symbol="BTC/USDC"))  # other quote
    (b,) = cb.basis("BTC", T + 2 * SEC, quote="USDT")
    assert (b.spot_exchange, b.perp_exchange, b.perp_symbol) == ("binance", "okx", "BTC/USDT:USDT")
    assert (b.spot_mid, b.perp_mid, b.basis) == (D("100.25"), D("101.0"), D("0.75"))
    assert b.basis_bps == D("74.8130")  # 0.75 / 100.25
    assert b.carry_bps == D("39.8010")  # (100.9 - 100.5) / 100.5
    assert b.reverse_bps == D("-108.8032")  # (100 - 101.1) / 101.1
    assert (b.spot_age_ns, b.perp_age_ns) == (2 * SEC, SEC)
    # BTC/USDC spot has no USDC perp: no extra pair without the quote filter either
    assert [(x.spot_symbol, x.perp_symbol) for x in cb.basis("btc", T)] == [
        ("BTC/USDT", "BTC/USDT:USDT")
    ]


def test_book_provider_mode_reads_runtime_books():
    books: dict[tuple[str, str], L2Book] = {}
    cb = ConsolidatedBook(book_provider=lambda ex, sym: books.get((ex, sym)))
    b = L2Book()
    b.load([("100", "1")], [("101", "2")])
    books[("binance", SYM)] = b
    cb.on_event(snap("binance", [], []))  # provider's book, not the event's levels
    assert cb.quote(SYM, T).bid_price == D("100")
    b.apply([("100.5", "3")], [])  # the runtime applied a delta, then emits it
    assert cb.on_event(delta("binance", bids=[("100.5", "3")])) is True
    assert cb.quote(SYM, T).bid_price == D("100.5")
    del books[("binance", SYM)]
    cb.on_event(BookReset(exchange="binance", symbol=SYM, reason=ResetReason.GAP, ts_local=T))
    assert cb.quote(SYM, T).bid_price is None


def test_bad_fee_rejected_and_unknown_symbol():
    with pytest.raises(ValueError, match="okx"):
        ConsolidatedBook(taker_fees={"okx": D("1.5")})
    cb = ConsolidatedBook()
    assert cb.quote("ETH/USDT", T) is None
    assert cb.arbitrage("ETH/USDT", T) == []
    assert cb.on_event(object()) is False
