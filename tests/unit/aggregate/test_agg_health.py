"""HealthTracker: connection state, freshness, rates, counters from events and metrics."""

from __future__ import annotations

from decimal import Decimal as D

from connex.aggregate import HealthTracker
from connex.model import (
    BookReset,
    BookSnapshot,
    FeedError,
    FeedState,
    FeedStatus,
    ResetReason,
    Trade,
)
from connex.model.types import Side

S = 1_000_000_000
T = 1_700_000_000 * S


def trade(ts, ex="binance"):
    return Trade(
        exchange=ex,
        symbol="BTC/USDT",
        price=D("1"),
        size=D("1"),
        side=Side.BUY,
        trade_id="1",
        ts_local=ts,
    )


def status(state, feed="binance-spot-0", ts=T, ex="binance"):
    return FeedStatus(exchange=ex, feed=feed, state=state, ts_local=ts)


def test_unknown_and_silent_exchange_is_unhealthy():
    h = HealthTracker()
    h.register("okx")
    r = h.health("okx", T)
    assert (r.connected, r.healthy, r.last_message_age_s, r.msgs_per_s) == (False, False, None, 0.0)
    assert "no message yet" in r.detail


def test_connected_fresh_and_rate():
    h = HealthTracker(stale_after_s=5, rate_window_s=10)
    h.on_event(status(FeedState.CONNECTED))
    for i in range(30):  # 30 messages over 3 seconds
        h.on_event(trade(T + i * S // 10))
    r = h.health("binance", T + 3 * S)
    assert r.connected and r.healthy and r.detail == ""
    assert r.last_message_age_s == 0.1
    assert r.msgs_per_s == 30 / 4  # seconds T..T+3 inclusive, window not yet full
    r = h.health("binance", T + 20 * S)  # rate window has passed; stale
    assert r.msgs_per_s == 0.0
    assert not r.healthy and "last message 17.1 s ago" in r.detail


def test_reconnects_errors_gaps_resyncs_from_events():
    h = HealthTracker()
    h.on_event(status(FeedState.CONNECTING))
    h.on_event(status(FeedState.CONNECTED))  # first connect: not a reconnect
    h.on_event(BookSnapshot(exchange="binance", symbol="BTC/USDT", bids=(), asks=(), ts_local=T))
    h.on_event(status(FeedState.DISCONNECTED))
    r = h.health("binance", T)
    assert not r.connected and "disconnected (binance-spot-0)" in r.detail
    h.on_event(status(FeedState.CONNECTED))
    h.on_event(BookReset(exchange="binance", symbol="BTC/USDT", reason=ResetReason.GAP, ts_local=T))
    h.on_event(
        BookReset(exchange="binance", symbol="BTC/USDT", reason=ResetReason.CHECKSUM, ts_local=T)
    )
    h.on_event(FeedError(exchange="binance", kind="malformed", message="x", ts_local=T))
    r = h.health("binance", T)
    assert (r.reconnects, r.gaps, r.errors, r.resyncs) == (1, 1, 1, 0)
    assert (r.books_live, r.books_total) == (0, 1) and "1/1 books resyncing" in r.detail
    h.on_event(
        BookSnapshot(exchange="binance", symbol="BTC/USDT", bids=(), asks=(), ts_local=T + S)
    )
    r = h.health("binance", T + S)
    assert (r.resyncs, r.books_live, r.healthy) == (1, 1, True)


def test_metrics_counters_take_max_not_sum_and_bulk_messages():
    h = HealthTracker()
    h.on_event(status(FeedState.CONNECTED))
    h.on_event(status(FeedState.DISCONNECTED))
    h.on_event(status(FeedState.CONNECTED))  # 1 reconnect seen as events
    h.update_counters("binance", reconnects=1, errors=4, gaps=2, books_live=3, books_total=4)
    h.on_messages("binance", 50, T)
    r = h.health("binance", T)
    assert (r.reconnects, r.errors, r.gaps) == (1, 4, 2)
    assert (r.books_live, r.books_total) == (3, 4)
    assert r.msgs_per_s == 50.0
    h.update_counters("binance", connected=False)
    assert not h.health("binance", T).connected


def test_external_unhealthy_mark_and_stale_feed_state():
    h = HealthTracker()
    h.on_event(status(FeedState.CONNECTED))
    h.on_event(trade(T))
    h.mark_unhealthy("binance", "liquidation stream failed 2x", source="liquidations")
    r = h.health("binance", T)
    assert r.connected and not r.healthy and r.detail == "liquidation stream failed 2x"
    h.clear_unhealthy("binance", source="liquidations")
    assert h.health("binance", T).healthy
    h.on_event(status(FeedState.STALE))
    r = h.health("binance", T)
    assert r.connected and not r.healthy and "stale feed (binance-spot-0)" in r.detail
    assert [x.exchange for x in h.snapshot(T)] == ["binance"]
