"""The fan-out hub without sockets: clients are send functions; the client's own
``StreamState`` checks sequences and rebuilds books from what was sent."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import orjson
import pytest

from connex.client.state import StreamState
from connex.gateway.keys import AuthFailure, Principal
from connex.gateway.stream import CLOSE_SLOW_CONSUMER, Hub, SubscribeError
from connex.model import BookDelta, BookReset, BookSnapshot, ResetReason, Side, Trade

EX, SYM = "binance", "BTC/USDT"


def _levels(rng: random.Random, lo: int, hi: int, n: int) -> tuple[tuple[str, str], ...]:
    return tuple(
        (f"{p / 10:.1f}", f"{rng.randint(1, 9) / 100:.2f}") for p in rng.sample(range(lo, hi), n)
    )


def _snapshot(rng: random.Random, seq: int = 100) -> BookSnapshot:
    return BookSnapshot(
        exchange=EX,
        symbol=SYM,
        bids=_levels(rng, 9000, 9990, 60),
        asks=_levels(rng, 10010, 11000, 60),
        sequence=seq,
    )


def _delta(rng: random.Random, seq: int) -> BookDelta:
    def side(lo: int, hi: int) -> tuple[tuple[str, str], ...]:
        out = []
        for p in rng.sample(range(lo, hi), 8):
            q = "0" if rng.random() < 0.35 else f"{rng.randint(1, 9) / 100:.2f}"
            out.append((f"{p / 10:.1f}", q))
        return tuple(out)

    return BookDelta(
        exchange=EX,
        symbol=SYM,
        bids=side(9940, 9990),
        asks=side(10010, 10060),
        sequence=seq,
        first_seq=seq,
        prev_seq=seq - 1,
    )


class FakeSocket:
    """Records what the hub writes; ``gate`` blocks writes to mimic a stalled client."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.closed: tuple[int, str] | None = None

    async def send(self, text: str) -> None:
        await self.gate.wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


def _messages(frames: list[str]) -> list[dict]:
    """The messages of ``frames``: one object per frame, or a JSON array (a batch)."""
    out: list[dict] = []
    for f in frames:
        body = orjson.loads(f)
        out.extend(body if isinstance(body, list) else [body])
    return out


def _hub(max_queue: int = 1000) -> Hub:
    return Hub(lambda ch, ex, sym: ex == EX and sym == SYM, max_queue=max_queue, heartbeat_s=60)


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def _replay(sock: FakeSocket, state: StreamState) -> list[object]:
    events: list[object] = []
    for text in sock.sent:
        evs, cmds = state.on_message(text)
        assert not cmds, f"gap seen: {cmds}"
        events.extend(evs)
    sock.sent.clear()
    return events


async def test_depth_limited_stream_rebuilds_exact_top_n_and_full_stream_forwards_deltas() -> None:
    rng = random.Random(5)
    hub = _hub()
    hub.publish(_snapshot(rng))
    top_sock, full_sock = FakeSocket(), FakeSocket()
    top = hub.connect(Principal("t"), top_sock.send, top_sock.close)
    full = hub.connect(Principal("f"), full_sock.send, full_sock.close)
    hub.subscribe(top, "orderbook", EX, "BTC-USDT", depth=7)  # rounded up to 10
    hub.subscribe(full, "orderbook", EX, SYM)
    top_state, full_state = StreamState(), StreamState()
    top_state.add("orderbook", EX, SYM, 10)
    full_state.add("orderbook", EX, SYM)
    sent_deltas = []
    for seq in range(101, 301):
        d = _delta(rng, seq)
        sent_deltas.append(d)
        hub.publish(d)
        if seq % 25 == 0:
            await _settle()
            _replay(top_sock, top_state)
            mirror = hub.mirrors[(EX, SYM)].book
            tb = top_state.book(EX, SYM)
            assert tb.bids() == mirror.bids(10) and tb.asks() == mirror.asks(10)
            assert len(tb.bids()) == 10 and tb.sequence == seq
    await _settle()
    events = _replay(full_sock, full_state)
    assert isinstance(events[0], BookSnapshot)
    assert events[1:] == sent_deltas  # the very same model deltas, in order
    fb = full_state.book(EX, SYM)
    mirror = hub.mirrors[(EX, SYM)].book
    assert fb.bids() == mirror.bids() and fb.asks() == mirror.asks()
    # each stream message was encoded once: sequences are per stream
    assert top_state.gaps == 0 and full_state.gaps == 0


async def test_every_subscriber_gets_the_same_shared_payload() -> None:
    rng = random.Random(1)
    hub = _hub()
    hub.publish(_snapshot(rng))
    socks = [FakeSocket() for _ in range(5)]
    for s in socks:
        c = hub.connect(Principal("x"), s.send, s.close)
        hub.subscribe(c, "orderbook", EX, SYM, depth=20)
    await _settle()
    for s in socks:
        s.sent.clear()
    hub.publish(_delta(rng, 101))
    await _settle()
    payloads = [s.sent[0] for s in socks]
    assert all(p is payloads[0] for p in payloads)  # one encode, one shared str
    assert orjson.loads(payloads[0])["seq"] == 1


async def test_slow_client_is_resynced_without_touching_others() -> None:
    rng = random.Random(9)
    hub = _hub(max_queue=50)
    hub.publish(_snapshot(rng))
    slow_sock, fast_sock = FakeSocket(), FakeSocket()
    slow = hub.connect(Principal("slow"), slow_sock.send, slow_sock.close)
    fast = hub.connect(Principal("fast"), fast_sock.send, fast_sock.close)
    hub.subscribe(slow, "orderbook", EX, SYM, depth=20)
    hub.subscribe(fast, "orderbook", EX, SYM, depth=20)
    slow_state, fast_state = StreamState(), StreamState()
    slow_state.add("orderbook", EX, SYM, 20)
    fast_state.add("orderbook", EX, SYM, 20)
    await _settle()
    _replay(slow_sock, slow_state)
    slow_sock.gate.clear()  # the slow client stops reading
    for seq in range(101, 401):
        hub.publish(_delta(rng, seq))
        if seq % 10 == 0:
            await _settle()
            _replay(fast_sock, fast_state)
    assert slow.resyncs >= 1 and hub.stats.resyncs >= 1
    assert len(slow.queue) < 50 and not slow.closed
    assert fast.resyncs == 0
    slow_sock.gate.set()  # it reads again: a fresh snapshot, then the live stream
    hub.publish(_delta(rng, 401))
    await _settle()
    events = _replay(slow_sock, slow_state)
    assert any(isinstance(e, BookSnapshot) for e in events)
    mirror = hub.mirrors[(EX, SYM)].book
    for state in (slow_state, fast_state):
        await _settle()
        assert state.gaps == 0
    _replay(fast_sock, fast_state)
    assert slow_state.book(EX, SYM).bids() == mirror.bids(20)
    assert fast_state.book(EX, SYM).asks() == mirror.asks(20)


async def test_slow_trade_subscriber_is_disconnected_with_a_reason() -> None:
    hub = _hub(max_queue=20)
    sock = FakeSocket()
    sock.gate.clear()
    client = hub.connect(Principal("t"), sock.send, sock.close)
    hub.subscribe(client, "trades", EX, SYM)
    for i in range(40):
        hub.publish(
            Trade(
                exchange=EX,
                symbol=SYM,
                price=Decimal("100.5"),
                size=Decimal("1"),
                side=Side.SELL,
                trade_id=str(i),
            )
        )
    assert client.closed and hub.stats.kicked == 1
    sock.gate.set()
    for _ in range(50):
        await asyncio.sleep(0.01)
        if sock.closed:
            break
    assert sock.closed == (CLOSE_SLOW_CONSUMER, client.close_reason)
    last = _messages(sock.sent)[-1]
    assert last["type"] == "error" and last["code"] == "slow_consumer"
    assert "20 queued messages" in last["reason"]


async def test_reset_then_snapshot_and_unsubscribe_purges_queue() -> None:
    rng = random.Random(3)
    hub = _hub()
    sock = FakeSocket()
    client = hub.connect(Principal("c"), sock.send, sock.close)
    hub.subscribe(client, "orderbook", EX, SYM)  # not live yet: nothing but the ack
    await _settle()
    assert [m["type"] for m in _messages(sock.sent)] == ["ack"]
    hub.publish(_snapshot(rng, 500))
    hub.publish(_delta(rng, 501))
    hub.publish(BookReset(exchange=EX, symbol=SYM, reason=ResetReason.CHECKSUM, detail="bad"))
    hub.publish(_delta(rng, 502))  # ignored: the mirror is not live
    await _settle()
    msgs = _messages(sock.sent)[1:]
    assert [(m["type"], m["seq"]) for m in msgs] == [("snapshot", 1), ("delta", 2), ("reset", 3)]
    assert msgs[2]["data"]["reason"] == "checksum"
    sock.gate.clear()
    hub.publish(_snapshot(rng, 600))
    hub.publish(_delta(rng, 601))
    hub.unsubscribe(client, "orderbook", EX, "BTC-USDT", req_id=9)
    sock.gate.set()
    await _settle()
    # the pending snapshot/delta of that subscription were purged; only the ack remains
    tail = _messages(sock.sent)[4:]
    assert tail == [
        {"type": "ack", "id": 9, "op": "unsubscribe", "sub": "orderbook:binance:BTC/USDT"}
    ]
    assert hub.mirrors[(EX, SYM)].streams == {}


async def test_a_bad_event_does_not_break_publishing() -> None:
    rng = random.Random(2)
    hub = _hub()
    hub.publish(_snapshot(rng))
    bad = BookDelta(exchange=EX, symbol=SYM, bids=(("-1", "2"),), asks=(), sequence=101)
    hub.publish(bad)  # the book refuses a negative price: counted, not raised
    assert hub.stats.publish_errors == 1
    hub.publish(_delta(rng, 102))
    assert hub.stats.publish_errors == 1


async def test_subscription_limits_and_validation() -> None:
    hub = _hub()
    sock = FakeSocket()
    client = hub.connect(Principal("one", max_subscriptions=1), sock.send, sock.close)
    assert hub.subscribe(client, "trades", EX, "btc-usdt") == "trades:binance:BTC/USDT"
    assert hub.subscribe(client, "trades", EX, SYM) == "trades:binance:BTC/USDT"  # same one again
    with pytest.raises(SubscribeError) as e:
        hub.subscribe(client, "orderbook", EX, SYM)
    assert e.value.code == "too_many_subscriptions" and "key 'one' may hold 1" in e.value.message
    with pytest.raises(SubscribeError, match="not served here"):
        hub.subscribe(client, "trades", "okx", SYM)
    with pytest.raises(AuthFailure, match="may not read exchange 'binance'"):
        other = hub.connect(Principal("okx", exchanges=("okx",)), sock.send, sock.close)
        hub.subscribe(other, "trades", EX, SYM)


async def test_a_burst_goes_out_as_one_batch_frame_in_order() -> None:
    rng = random.Random(11)
    hub = _hub()
    hub.publish(_snapshot(rng))
    sock = FakeSocket()
    client = hub.connect(Principal("b"), sock.send, sock.close)
    hub.subscribe(client, "orderbook", EX, SYM)
    hub.subscribe(client, "trades", EX, SYM)
    await _settle()
    sock.sent.clear()
    deltas = [_delta(rng, seq) for seq in range(101, 106)]
    trade = Trade(
        exchange=EX,
        symbol=SYM,
        price=Decimal("1000.5"),
        size=Decimal("0.25"),
        side=Side.BUY,
        trade_id="t-77",
    )
    for d in deltas[:3]:
        hub.publish(d)
    hub.publish(trade)
    for d in deltas[3:]:
        hub.publish(d)
    await _settle()
    # one loop iteration's worth of messages: one frame, a JSON array in publish order
    assert len(sock.sent) == 1 and sock.sent[0].startswith("[")
    body = orjson.loads(sock.sent[0])
    assert [(m["type"], m["seq"]) for m in body] == [
        ("delta", 1),
        ("delta", 2),
        ("delta", 3),
        ("trade", 1),
        ("delta", 4),
        ("delta", 5),
    ]
    assert body[3]["data"]["trade_id"] == "t-77" and body[3]["data"]["price"] == "1000.5"
    assert [m["data"]["sequence"] for m in body if m["type"] == "delta"] == list(range(101, 106))
    assert hub.stats.frames >= 2 and client.sent == hub.stats.sent
    # the client's state machine reads the batch as six messages, gap-free
    state = StreamState()
    state.add("orderbook", EX, SYM)
    state.add("trades", EX, SYM)
    state.on_message(
        '{"type":"snapshot","sub":"orderbook:binance:BTC/USDT","seq":0,"ts_gw":1,"data":'
        + orjson.dumps(
            {
                "exchange": EX,
                "symbol": SYM,
                "bids": [["99.0", "1"]],
                "asks": [["101.0", "1"]],
                "sequence": 100,
            }
        ).decode()
        + "}"
    )
    events, commands = state.on_message(sock.sent[0])
    assert not commands and state.gaps == 0
    assert events == [*deltas[:3], trade, *deltas[3:]]


class FakeTransport:
    """A direct (synchronous) writer like the gateway's uvicorn fast path: ``write``
    appends a frame now; while ``writable`` is clear the hub must use ``send``."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.raw: list[bytes] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.closed: tuple[int, str] | None = None

    def write(self, data: bytes) -> None:
        self.raw.append(data)
        self.frames.append(data.decode())

    async def send(self, text: str) -> None:
        await self.writable.wait()
        self.frames.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def connect(self, hub: Hub, name: str) -> object:
        return hub.connect(
            Principal(name), self.send, self.close, direct=(self.write, self.writable.is_set)
        )


async def test_fast_path_writes_one_shared_frame_per_subscription_set() -> None:
    rng = random.Random(21)
    hub = _hub()
    hub.publish(_snapshot(rng))
    same = [FakeTransport() for _ in range(3)]
    clients = [t.connect(hub, f"s{i}") for i, t in enumerate(same)]
    for c in clients:
        hub.subscribe(c, "orderbook", EX, SYM, depth=10)
    other = FakeTransport()
    oc = other.connect(hub, "full")
    hub.subscribe(oc, "orderbook", EX, SYM)  # full depth: another stream, same sub key
    await _settle()
    assert all(c.fast for c in [*clients, oc])  # caught up: back in fast mode
    states = []
    for t in [*same, other]:
        st = StreamState()
        st.add("orderbook", EX, SYM, None if t is other else 10)
        for f in t.frames:
            assert not st.on_message(f)[1]
        t.frames.clear()
        t.raw.clear()
        states.append(st)
    deltas = [_delta(rng, seq) for seq in range(101, 109)]
    for d in deltas:
        hub.publish(d)
    assert all(not t.frames for t in [*same, other])  # nothing before the flush
    await _settle()
    # one frame each; the three depth-10 clients got the very same bytes object
    assert [len(t.raw) for t in [*same, other]] == [1, 1, 1, 1]
    assert same[0].raw[0] is same[1].raw[0] is same[2].raw[0]
    full = orjson.loads(other.frames[0])
    assert [m["data"]["sequence"] for m in full] == list(range(101, 109))
    for t, st in zip([*same, other], states, strict=True):
        events, commands = st.on_message(t.frames[0])
        assert not commands and st.gaps == 0
    mirror = hub.mirrors[(EX, SYM)].book
    assert states[0].book(EX, SYM).bids() == mirror.bids(10)
    assert states[3].book(EX, SYM).asks() == mirror.asks()
    assert events == deltas  # the full-depth client: the upstream deltas themselves


async def test_fast_path_paused_transport_queues_in_order_then_returns_to_fast() -> None:
    rng = random.Random(22)
    hub = _hub(max_queue=1000)
    hub.publish(_snapshot(rng))
    t = FakeTransport()
    c = t.connect(hub, "p")
    hub.subscribe(c, "orderbook", EX, SYM, depth=20)
    await _settle()
    st = StreamState()
    st.add("orderbook", EX, SYM, 20)
    t.writable.clear()  # the kernel buffer is full
    for seq in range(101, 131):
        hub.publish(_delta(rng, seq))
        if seq % 7 == 0:
            await _settle()
    assert not c.fast and len(c.queue) > 0
    hub.subscribe(c, "trades", EX, SYM)  # a control message while queued
    trade = Trade(
        exchange=EX, symbol=SYM, price=Decimal("1"), size=Decimal("2"), side=Side.BUY, trade_id="x"
    )
    hub.publish(trade)
    t.writable.set()
    await _settle()
    assert c.fast and not c.queue
    hub.publish(_delta(rng, 131))
    await _settle()
    st.add("trades", EX, SYM)
    seqs, trades = [], []
    for f in t.frames:
        events, commands = st.on_message(f)
        assert not commands
        seqs.extend(e.sequence for e in events if isinstance(e, BookDelta))
        trades.extend(e for e in events if isinstance(e, Trade))
    assert st.gaps == 0 and seqs == list(range(101, 132))
    assert trades == [trade]
    assert st.book(EX, SYM).bids() == hub.mirrors[(EX, SYM)].book.bids(20)


async def test_fast_path_subscribe_mid_burst_keeps_sequence() -> None:
    """Deltas published before a subscribe in the same loop iteration are already in
    the snapshot: the new client must not receive them again (that would be a gap)."""
    rng = random.Random(23)
    hub = _hub()
    hub.publish(_snapshot(rng))
    early, late = FakeTransport(), FakeTransport()
    ec = early.connect(hub, "early")
    hub.subscribe(ec, "orderbook", EX, SYM)
    await _settle()
    lc = late.connect(hub, "late")
    hub.publish(_delta(rng, 101))
    hub.publish(_delta(rng, 102))
    hub.subscribe(lc, "orderbook", EX, SYM)  # same iteration, after two deltas
    hub.publish(_delta(rng, 103))
    await _settle()
    hub.publish(_delta(rng, 104))
    await _settle()
    st = StreamState()
    st.add("orderbook", EX, SYM)
    got = []
    for f in late.frames:
        events, commands = st.on_message(f)
        assert not commands, "the late subscriber saw a gap"
        got.extend(type(e).__name__ + str(getattr(e, "sequence", "")) for e in events)
    assert got == ["BookSnapshot102", "BookDelta103", "BookDelta104"]
    est = StreamState()
    est.add("orderbook", EX, SYM)
    seqs = []
    for f in early.frames:
        events, commands = est.on_message(f)
        assert not commands
        seqs.extend(e.sequence for e in events if isinstance(e, BookDelta))
    assert seqs == [101, 102, 103, 104]
