"""StoreWriter: batching, backpressure, counters, sampling (real DuckDB file)."""

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from connex.model import BookSnapshot, Liquidation, PositionSide, Side, Trade
from connex.store import Store, StoreFull, StoreWriter

T0 = 1_763_000_000_000_000_000
SYM = "BTC/USDT:USDT"


def liq(i: int, ex: str = "binance") -> Liquidation:
    return Liquidation(
        exchange=ex,
        symbol=SYM,
        side=PositionSide.LONG if i % 2 else PositionSide.SHORT,
        price=Decimal(60000 + i),
        size=Decimal("0.001") * (i + 1),
        ts_exchange=T0 + i,
        liquidation_id=f"L{i}",
    )


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "w.duckdb")
    yield s
    s.close()


def ids(store: Store) -> list[str]:
    return [
        r[0]
        for r in store.cursor()
        .execute("SELECT liquidation_id FROM liquidations ORDER BY ts_ns")
        .fetchall()
    ]


async def test_flush_every_n_rows_and_stored_counts_only_committed(store: Store) -> None:
    commits: list[tuple[int, int]] = []

    def on_commit(stored: int) -> None:
        (n,) = store.cursor().execute("SELECT count(*) FROM liquidations").fetchone()  # type: ignore[misc]
        commits.append((stored, n))

    async def wait_flushes(w: StoreWriter, n: int) -> None:
        for _ in range(500):
            if w.flushes >= n:
                return
            await asyncio.sleep(0.01)

    async with StoreWriter(store, flush_rows=10, flush_interval_s=60, on_commit=on_commit) as w:
        for i in range(25):
            await w.put(liq(i))
            if i in (9, 19):  # a full batch kicks the flusher
                await wait_flushes(w, 1 if i == 9 else 2)
        assert w.stored == 20 and w.pending == 5  # two full batches committed, 5 waiting
        assert ids(store) == [f"L{i}" for i in range(20)]
    # stop() flushed the rest
    assert w.stored == 25 and w.pending == 0
    assert ids(store) == [f"L{i}" for i in range(25)]
    assert commits == [(10, 10), (20, 20), (25, 25)]  # every reported count was in the DB


async def test_flush_on_interval(store: Store) -> None:
    async with StoreWriter(store, flush_rows=1000, flush_interval_s=0.05) as w:
        await w.put(liq(1))
        for _ in range(200):
            if w.stored:
                break
            await asyncio.sleep(0.01)
        assert w.stored == 1 and ids(store) == ["L1"]


async def test_duplicates_are_counted_not_stored(store: Store) -> None:
    async with StoreWriter(store, flush_rows=1000, flush_interval_s=60) as w:
        for i in (1, 2, 1):
            await w.put(liq(i))
        assert await w.flush() == 2
        await w.put(liq(2))
        await w.put(liq(3))
        assert await w.flush() == 1
    assert (w.stored, w.duplicates) == (3, 2)
    assert ids(store) == ["L1", "L2", "L3"]


async def test_put_blocks_when_full_until_a_commit_frees_room(store: Store) -> None:
    w = StoreWriter(store, max_pending=4, flush_rows=4, flush_interval_s=60)
    await w.start()
    try:
        store._write_lock.acquire()  # hold the database: the flush cannot commit
        try:
            for i in range(4):
                await w.put(liq(i))
            with pytest.raises(StoreFull):
                w.put_nowait(liq(10))
            blocked = asyncio.create_task(w.put(liq(4)))
            await asyncio.sleep(0.2)
            assert not blocked.done()  # policy BLOCK: the producer waits
            assert w.pending == 4 and w.stored == 0 and w.blocked == 1
        finally:
            store._write_lock.release()
        await asyncio.wait_for(blocked, 5)
        assert w.stored == 4
    finally:
        await w.stop()
    assert ids(store) == ["L0", "L1", "L2", "L3", "L4"]


async def test_trades_opt_in_and_book_sampling(store: Store) -> None:
    def trade(i: int) -> Trade:
        return Trade(
            exchange="okx",
            symbol=SYM,
            price=Decimal("60000.1"),
            size=Decimal("1"),
            side=Side.BUY,
            trade_id=f"t{i}",
            ts_exchange=T0 + i,
        )

    def snap(ms: int, bid: str) -> BookSnapshot:
        return BookSnapshot(
            exchange="okx",
            symbol=SYM,
            bids=((bid, "1"),),
            asks=(("60010", "1"),),
            ts_exchange=T0 + ms * 1_000_000,
        )

    async with StoreWriter(
        store, flush_rows=1000, flush_interval_s=60, book_sample_interval_s=1.0
    ) as w:
        await w.put(trade(1))
        for ms, bid in (
            (0, "60000"),
            (400, "60001"),
            (1000, "60002"),
            (1999, "60003"),
            (2500, "60004"),
        ):
            await w.put(snap(ms, bid))
    cur = store.cursor()
    assert cur.execute("SELECT count(*) FROM trades").fetchone() == (0,)
    assert [
        r[0] for r in cur.execute("SELECT bid_price FROM top_of_book ORDER BY ts_ns").fetchall()
    ] == [Decimal(60000), Decimal(60002), Decimal(60004)]
    assert w.skipped == 3

    async with StoreWriter(store, store_trades=True) as w2:
        await w2.put(trade(2))
        await w2.put("not an event")
    assert cur.execute("SELECT trade_id, notional FROM trades").fetchall() == [
        ("t2", Decimal("60000.1"))
    ]


async def test_invalid_settings_rejected(store: Store) -> None:
    with pytest.raises(ValueError):
        StoreWriter(store, max_pending=0)
