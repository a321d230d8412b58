"""The retired Bybit v2 API (2021 cryptofeed recordings) is refused clearly, never crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from connex.exchanges.base import Channel, ConnectionSpec, Subscription
from connex.exchanges.bybit import PROD_ENDPOINTS, PublicSession
from connex.model import FeedError
from connex.record import RecordKind, read_cryptofeed
from connex.runtime.core import FeedCore

DIR = Path(__file__).resolve().parents[2] / "fixtures" / "recorded" / "bybit"


@pytest.mark.parametrize(
    ("name", "market", "frames"),
    [("BYBIT.ws.25.0.gz", "linear", 3342), ("BYBIT.ws.26.0.gz", "linear", 1098)],
)
def test_v2_frames_give_unsupported_errors(name: str, market: str, frames: int) -> None:
    subs = (
        Subscription(Channel.BOOK, "BTC/USDT:USDT"),
        Subscription(Channel.TRADES, "BTC/USDT:USDT"),
    )
    spec = ConnectionSpec(exchange="bybit", name="v2", url="", market=market, subscriptions=subs)
    core = FeedCore(PublicSession(spec, PROD_ENDPOINTS[market]))
    events: list[object] = []
    n = 0
    for rec in read_cryptofeed([DIR / name]):
        if rec.kind == RecordKind.RECV:
            n += 1
            events.extend(core.on_frame(rec.data, rec.ts))
    assert n == frames == core.counters.frames
    assert len(events) == frames and all(isinstance(e, FeedError) for e in events)
    kinds = {e.kind for e in events}
    assert kinds == {"unsupported"}
    msgs = {e.message for e in events}
    assert "unsupported: Bybit v2 API reply" in msgs
    assert any(m.startswith("unsupported: Bybit v2 API topic 'orderBookL2_25.") for m in msgs)
    assert any(m.startswith("unsupported: Bybit v2 API topic 'trade.") for m in msgs)
    assert core.counters.malformed == 0 and all(not s.is_live for s in core.books.values())
