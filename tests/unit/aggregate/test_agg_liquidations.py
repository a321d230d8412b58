"""Liquidation merge: backoff schedule, dedupe window edges, normalization, supervision."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal as D

import pytest

from connex.aggregate import (
    Backoff,
    Deduper,
    HealthTracker,
    LiquidationAggregator,
    SourceState,
    dedupe_key,
    normalize_liquidation,
)
from connex.model import Liquidation, PositionSide

pytestmark = pytest.mark.timeout(20)

T = 1_700_000_000_000_000_000
MIN = 60 * 1_000_000_000


def liq(ex="binance", price="60000", size="0.5", side=PositionSide.LONG, ts_ex=T, ts=T, lid=""):
    return Liquidation(
        exchange=ex,
        symbol="BTC/USDT:USDT",
        side=side,
        price=D(price),
        size=D(size),
        ts_exchange=ts_ex,
        ts_local=ts,
        liquidation_id=lid,
    )


# -- backoff ----------------------------------------------------------------------
def test_backoff_schedule_doubles_and_caps():
    b = Backoff(initial=1.0, factor=2.0, cap=30.0)
    sched = b.delays()
    assert [next(sched) for _ in range(8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert b.delay(10_000) == 30.0
    assert Backoff(initial=0.5, cap=3).delay(3) == 2.0
    with pytest.raises(ValueError):
        b.delay(0)
    with pytest.raises(ValueError):
        Backoff(initial=5, cap=1)


# -- normalization / keys ---------------------------------------------------------
def test_normalize_side_strings_and_rejects():
    raw = Liquidation(
        exchange="okx",
        symbol="BTC/USDT:USDT",
        side="short",
        price=D("1"),
        size=D("2"),  # type: ignore[arg-type]
    )
    n = normalize_liquidation(raw)
    assert n is not None and n.side is PositionSide.SHORT and n.notional == D("2")
    assert normalize_liquidation(liq(size="0")) is None
    assert normalize_liquidation(liq(price="-1")) is None
    bad_side = Liquidation(exchange="okx", symbol="X/Y:Y", side="sell", price=D(1), size=D(1))  # type: ignore[arg-type]
    assert normalize_liquidation(bad_side) is None


def test_notional_in_quote_currency():
    assert liq(price="60000.5", size="0.002").notional == D("120.0010")


def test_dedupe_key_prefers_id_and_fingerprint_ignores_receive_time():
    assert dedupe_key(liq(lid="abc")) == ("id", "binance", "BTC/USDT:USDT", "abc")
    a = liq(price="60000.0", ts=T)
    b = liq(price="60000", ts=T + 5)  # same event received later, price text differs
    assert dedupe_key(a) == dedupe_key(b)
    assert dedupe_key(liq(ts_ex=T + 1)) != dedupe_key(a)
    assert dedupe_key(liq(side=PositionSide.SHORT)) != dedupe_key(a)
    assert dedupe_key(liq(ex="okx")) != dedupe_key(a)


# -- dedupe window ----------------------------------------------------------------
def test_dedupe_window_edges():
    d = Deduper(window_ns=10 * MIN)
    first = liq(lid="L1", ts=T)
    assert d.is_duplicate(first) is False
    assert d.is_duplicate(liq(lid="L1", ts=T + 1)) is True
    # other traffic advances the clock to exactly the window edge: still remembered
    assert d.is_duplicate(liq(lid="L2", ts=T + 10 * MIN)) is False
    assert d.is_duplicate(liq(lid="L1", ts=T + 10 * MIN)) is True
    # one ns past the edge: L1 is forgotten and accepted again
    assert d.is_duplicate(liq(lid="L3", ts=T + 10 * MIN + 1)) is False
    assert d.is_duplicate(liq(lid="L1", ts=T + 10 * MIN + 1)) is False
    assert d.evicted == 1


def test_dedupe_late_event_is_not_stored_and_memory_is_bounded():
    d = Deduper(window_ns=MIN, max_entries=3)
    d.is_duplicate(liq(lid="now", ts=T + 5 * MIN))
    assert d.is_duplicate(liq(lid="old", ts=T)) is False  # older than the window
    assert d.is_duplicate(liq(lid="old", ts=T)) is False  # not remembered
    for i in range(5):
        d.is_duplicate(liq(lid=f"x{i}", ts=T + 5 * MIN))
    assert len(d) == 3
    assert d.is_duplicate(liq(lid="x4", ts=T + 5 * MIN)) is True
    assert d.is_duplicate(liq(lid="x0", ts=T + 5 * MIN)) is False  # evicted by the cap


def test_dedupe_uses_exchange_time_when_no_receive_time():
    d = Deduper(window_ns=MIN)
    assert d.is_duplicate(liq(lid="a", ts=0, ts_ex=T)) is False
    assert d.clock == T


# -- supervision with in-memory sources --------------------------------------------
class ListSource:
    """Yields its items, then either ends or raises."""

    def __init__(self, exchange, batches, fail_with=None):
        self.exchange = exchange
        self.batches = list(batches)
        self.fail_with = fail_with
        self.calls = 0

    async def stream(self):
        self.calls += 1
        batch = self.batches.pop(0) if self.batches else []
        for item in batch:
            await asyncio.sleep(0)
            yield item
        if self.fail_with is not None:
            raise self.fail_with


class AlwaysFailing:
    exchange = "okx"

    def __init__(self):
        self.calls = 0

    async def stream(self):
        self.calls += 1
        raise ConnectionRefusedError("connect to 127.0.0.1:9 refused")
        yield  # pragma: no cover


async def fast_sleep(_: float) -> None:
    await asyncio.sleep(0)


async def test_failing_exchange_does_not_stop_the_other_and_backs_off(caplog):
    good = ListSource(
        "binance",
        [
            [liq(lid="b1", ts=T), liq(lid="b2", ts=T + 1), liq(lid="b1", ts=T + 2)],
            [liq(lid="b3", ts=T + 3)],
        ],
        fail_with=ConnectionResetError("peer reset"),
    )
    bad = AlwaysFailing()
    health = HealthTracker()
    agg = LiquidationAggregator(
        [good, bad],
        max_retries=5,
        sleep=fast_sleep,
        health=health,
        backoffs={"binance": Backoff(initial=0.5, cap=0.5)},
    )
    caplog.set_level(logging.WARNING, logger="connex.aggregate.liquidations")
    got = [(x.exchange, x.liquidation_id) async for x in agg]
    await agg.aclose()
    assert got == [("binance", "b1"), ("binance", "b2"), ("binance", "b3")]
    sb, so = agg.states["binance"], agg.states["okx"]
    assert sb.duplicates == 1 and sb.delivered == 3
    # okx: 6 attempts, delays 1, 2, 4, 8, 16 then given up loudly
    assert bad.calls == 6
    assert so.delays == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert so.state is SourceState.FAILED
    assert "ConnectionRefusedError: connect to 127.0.0.1:9 refused" in so.last_error
    assert any(
        "okx liquidation source stopped after 6 failures" in r.message for r in caplog.records
    )
    assert any("retrying in 4 s" in r.message for r in caplog.records)
    h = health.health("okx", T)
    assert not h.healthy and "given up after 6 failures" in h.detail
    # binance (own schedule) recovered after each failure: attempt back to 1 each time
    assert sb.delays[:2] == [0.5, 0.5]


async def test_backoff_state_visible_while_waiting():
    gate = asyncio.Event()

    async def blocking_sleep(_: float) -> None:
        await gate.wait()

    bad = AlwaysFailing()
    health = HealthTracker()
    agg = LiquidationAggregator([bad], sleep=blocking_sleep, health=health)
    agg.start()
    for _ in range(20):
        await asyncio.sleep(0)
    st = agg.states["okx"]
    assert st.state is SourceState.BACKOFF and st.next_delay == 1.0
    assert not st.healthy
    assert "retrying in 1 s" in health.health("okx", T).detail
    await agg.aclose()
    assert st.state is SourceState.STOPPED


async def test_recovery_clears_health_mark():
    src = ListSource("bybit", [[], [liq(ex="bybit", lid="y1")]], fail_with=OSError("down"))
    health = HealthTracker()
    agg = LiquidationAggregator([src], max_retries=1, sleep=fast_sleep, health=health)
    got = []
    async for x in agg:
        got.append(x.liquidation_id)
        assert "liquidations" not in health.health("bybit", T).detail  # recovered on delivery
    assert got == ["y1"]
    st = agg.states["bybit"]
    # fail (attempt 1) -> deliver y1, recover, fail (attempt 1 again) -> empty, fail (attempt 2)
    assert (st.state, st.failures, st.delays) == (SourceState.FAILED, 3, [1.0, 1.0])
    assert "given up after 3 failures: OSError: down" in health.health("bybit", T).detail


def test_duplicate_exchange_names_rejected():
    with pytest.raises(ValueError):
        LiquidationAggregator([AlwaysFailing(), AlwaysFailing()])


async def test_event_stream_source_filters_its_exchange_and_reopens():
    from connex.aggregate import EventStreamSource
    from connex.model import FeedState, FeedStatus

    opened = []
    seen = []

    async def gateway_events():  # what a gateway client stream yields: mixed model events
        opened.append(len(opened))
        if len(opened) > 2:
            raise ConnectionRefusedError("gateway down")
        yield FeedStatus(exchange="bybit", feed="gw", state=FeedState.CONNECTED)
        yield liq(ex="bybit", lid=f"y{len(opened)}")
        yield liq(ex="okx", lid="not-mine")
        raise ConnectionResetError("gateway closed")

    src = EventStreamSource("bybit", gateway_events, on_event=seen.append, name="bybit-gw")
    agg = LiquidationAggregator([src], max_retries=1, sleep=fast_sleep)
    got = [(x.exchange, x.liquidation_id) async for x in agg]
    assert got == [("bybit", "y1"), ("bybit", "y2")]
    # open 1 fails after y1, open 2 recovers (y2) then fails, open 3 fails: given up
    st = agg.states["bybit-gw"]
    assert len(opened) == 3 and st.delays == [1.0, 1.0] and st.state is SourceState.FAILED
    assert st.last_error == "ConnectionRefusedError: gateway down"
    assert [type(e).__name__ for e in seen[:3]] == ["FeedStatus", "Liquidation", "Liquidation"]
