"""The compiled depth-push reader agrees with the official protobuf runtime."""

from __future__ import annotations

import random

import pytest

from connex.exchanges.mexc import public
from connex.exchanges.mexc.proto.mexc_push_pb2 import PushDataV3ApiWrapper

fastpb = pytest.importorskip("connex.exchanges.mexc._fastpb")


def _wrapper(rng: random.Random, n_asks: int, n_bids: int) -> PushDataV3ApiWrapper:
    w = PushDataV3ApiWrapper(
        channel="spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT", symbol="BTCUSDT"
    )
    w.sendTime = rng.randint(1, 2**62)
    d = w.publicAggreDepths
    for side, n in ((d.asks, n_asks), (d.bids, n_bids)):
        for _ in range(n):
            item = side.add()
            item.price = f"{rng.randint(1, 10**7) / 100:.2f}"
            item.quantity = rng.choice(["0", f"{rng.randint(1, 10**6) / 1000:.3f}"])
    d.eventType = "spot@public.aggre.depth.v3.api.pb@100ms"
    d.fromVersion = str(rng.randint(1, 10**12))
    d.toVersion = str(int(d.fromVersion) + rng.randint(0, 50))
    return w


@pytest.mark.parametrize("seed", range(30))
def test_fast_reader_equals_official_runtime(seed: int) -> None:
    rng = random.Random(seed)
    w = _wrapper(rng, rng.randint(0, 25), rng.randint(0, 25))
    data = w.SerializeToString()
    channel, symbol, send_time, asks, bids, frm, to = fastpb.decode_aggre_depth(data)
    ref = PushDataV3ApiWrapper.FromString(data)
    assert (channel, symbol, send_time) == (ref.channel, ref.symbol, ref.sendTime)
    assert asks == tuple((i.price, i.quantity) for i in ref.publicAggreDepths.asks)
    assert bids == tuple((i.price, i.quantity) for i in ref.publicAggreDepths.bids)
    assert (frm, to) == (ref.publicAggreDepths.fromVersion, ref.publicAggreDepths.toVersion)


def test_other_bodies_fall_back_and_bad_bytes_raise() -> None:
    w = PushDataV3ApiWrapper(
        channel="spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT", symbol="BTCUSDT"
    )
    deal = w.publicAggreDeals.deals.add()
    deal.price, deal.quantity, deal.tradeType, deal.time = "1.5", "2", 1, 3
    assert fastpb.decode_aggre_depth(w.SerializeToString()) is None
    data = _wrapper(random.Random(1), 3, 3).SerializeToString()
    with pytest.raises(ValueError):
        fastpb.decode_aggre_depth(data[:-5])  # cut inside a field


def test_session_uses_the_compiled_reader() -> None:
    assert public._fast_depth is fastpb.decode_aggre_depth
