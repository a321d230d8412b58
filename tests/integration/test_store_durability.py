"""A writer killed with SIGKILL: what it reported as stored is in the file afterwards.

A real subprocess writes liquidations L0, L1, ... through StoreWriter and prints its
``stored`` counter after every commit; the test kills it with SIGKILL mid-stream, then
reopens the file (DuckDB replays the WAL) and checks the content.
"""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from connex.store import Store

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from decimal import Decimal
    from connex.model import Liquidation, PositionSide
    from connex.store import Store, StoreWriter

    async def main(path):
        store = Store.open(path)
        print("ready", flush=True)
        def on_commit(stored):
            print(f"stored {stored}", flush=True)
        w = StoreWriter(store, max_pending=2000, flush_rows=500, flush_interval_s=0.05,
                        on_commit=on_commit)
        async with w:
            i = 0
            while True:
                await w.put(Liquidation(
                    exchange="binance", symbol="BTC/USDT:USDT", side=PositionSide.LONG,
                    price=Decimal(60000) + Decimal(i) / 10, size=Decimal("0.001"),
                    ts_exchange=1_763_000_000_000_000_000 + i, liquidation_id=f"L{i}"))
                i += 1
                if i % 100 == 0:
                    await asyncio.sleep(0)

    asyncio.run(main(sys.argv[1]))
    """
)


def test_sigkill_loses_at_most_the_unflushed_batch(tmp_path: Path) -> None:
    db = tmp_path / "kill.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    reported: list[int] = []
    try:
        for line in proc.stdout:
            if line.startswith("stored "):
                reported.append(int(line.split()[1]))
                if reported[-1] >= 5000:
                    break
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    reported += [int(ln.split()[1]) for ln in rest.splitlines() if ln.startswith("stored ")]
    last = max(reported)
    assert last >= 5000
    assert reported == sorted(reported)  # stored only grows

    with Store(db) as store:  # reopening replays the WAL; no error
        assert store.schema_version() == 3
        rows = (
            store.cursor()
            .execute("SELECT liquidation_id, price FROM liquidations ORDER BY ts_ns")
            .fetchall()
        )
    n = len(rows)
    assert n >= last  # everything reported as stored is there
    assert n - last <= 2000  # at most the batch in flight when killed (max_pending) is extra
    # a prefix L0..L(n-1): nothing lost in the middle, nothing twice, content intact
    assert [r[0] for r in rows] == [f"L{i}" for i in range(n)]
    assert str(rows[-1][1]).rstrip("0").rstrip(".") == str(60000 + (n - 1) / 10).rstrip("0").rstrip(
        "."
    )
