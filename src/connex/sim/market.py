"""Deterministic, seeded market model: the simulator's ground truth.

Theory of operation
-------------------
Each base asset has a ``FairValue``: a seeded random walk in ticks shared by every
venue that lists the asset, so venues move together and cross now and then (which is
what the consolidated book and arbitrage views need). Each (venue, symbol) has a
``MarketModel`` that keeps a *true* L2 book on an integer tick grid (prices in ticks,
sizes in lots) around the fair value, and that on each ``step()`` returns the absolute
level changes it made, the trades it printed, liquidations of simulated leveraged
positions, and (for perpetuals) mark price and funding.

Liquidations are not random events: the model opens leveraged positions (tiers 5x,
10x, 25x, 50x, 100x) at the current price; a position is liquidated when the mark price
crosses its liquidation price ``entry * (1 - 1/lev + mmr)`` for a long (``1 + 1/lev -
mmr`` for a short). That makes the estimated liquidation heatmap testable honestly.

Everything is deterministic for a given seed and sequence of ``step()`` calls: the
wall clock never enters the model (timestamps are passed in).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "LEVERAGE_TIERS",
    "FairValue",
    "MarketModel",
    "MarketStep",
    "SimLiquidation",
    "SimPosition",
    "SimTrade",
    "format_units",
]

LEVERAGE_TIERS: tuple[int, ...] = (5, 10, 25, 50, 100)
MAINTENANCE_MARGIN = Decimal("0.004")


def format_units(units: int, decimals: int) -> str:
    """Integer units -> exact decimal string with ``decimals`` places (``12345, 2 -> 123.45``)."""
    if decimals == 0:
        return str(units)
    sign = "-" if units < 0 else ""
    s = str(abs(units)).rjust(decimals + 1, "0")
    return f"{sign}{s[:-decimals]}.{s[-decimals:]}"


class FairValue:
    """A seeded random walk in ticks, shared by all venues listing one asset.

    ``swing_ticks``/``swing_period_steps`` (off by default) add a deterministic sine
    swing of that amplitude and period on top of the walk. The walk itself draws the
    same random numbers with or without the swing. Note: the book follows the fair value
    by only about one tick per step on the side away from the move, so a fast swing
    widens the spread; see ``MarketModel(mark_source=...)``.
    """

    def __init__(
        self,
        start_ticks: int,
        seed: int,
        vol_ticks: float = 2.0,
        *,
        swing_ticks: float = 0.0,
        swing_period_steps: int = 0,
    ) -> None:
        self.ticks = start_ticks
        self._rng = random.Random(seed)
        self.vol = vol_ticks
        self.swing_ticks = swing_ticks
        self.swing_period_steps = swing_period_steps
        self._walk = start_ticks
        self._n = 0

    def step(self) -> int:
        if not self.swing_ticks or self.swing_period_steps <= 0:
            self.ticks = max(100, self.ticks + round(self._rng.gauss(0.0, self.vol)))
            return self.ticks
        self._n += 1
        self._walk = max(100, self._walk + round(self._rng.gauss(0.0, self.vol)))
        swing = round(self.swing_ticks * math.sin(2 * math.pi * self._n / self.swing_period_steps))
        self.ticks = max(100, self._walk + swing)
        return self.ticks


@dataclass(frozen=True, slots=True)
class SimTrade:
    trade_id: int
    price: int  # ticks
    size: int  # lots
    taker_buy: bool
    ts_ms: int


@dataclass(frozen=True, slots=True)
class SimPosition:
    position_id: int
    long: bool
    entry: int  # ticks
    size: int  # lots
    leverage: int
    liq_price: int  # ticks


@dataclass(frozen=True, slots=True)
class SimLiquidation:
    position: SimPosition
    price: int  # ticks (fill price)
    ts_ms: int

    @property
    def long(self) -> bool:
        """True when a long position was liquidated (a forced sell)."""
        return self.position.long


@dataclass(slots=True)
class MarketStep:
    """What happened in one step. ``bids``/``asks``: absolute (price_ticks, lots); 0 = gone."""

    seq: int
    ts_ms: int
    bids: list[tuple[int, int]] = field(default_factory=list)
    asks: list[tuple[int, int]] = field(default_factory=list)
    trades: list[SimTrade] = field(default_factory=list)
    liquidations: list[SimLiquidation] = field(default_factory=list)
    mark_ticks: int | None = None
    funding_rate: Decimal | None = None
    next_funding_ms: int = 0


class MarketModel:
    """True L2 book + trades + liquidations for one (venue, symbol). See module docstring."""

    def __init__(
        self,
        symbol: str,
        fair: FairValue,
        *,
        seed: int,
        price_decimals: int = 2,
        size_decimals: int = 4,
        depth: int = 200,
        levels_per_step: tuple[int, int] = (10, 20),
        derivative: bool = False,
        venue_offset_ticks: int = 0,
        position_rate: float = 0.3,
        position_lots: tuple[int, int] = (1, 30),
        mark_source: str = "mid",
        initial_positions: int = 0,
        initial_band: float = 0.002,
    ) -> None:
        self.symbol = symbol
        self.fair = fair
        self.rng = random.Random(seed)
        self.price_decimals = price_decimals
        self.size_decimals = size_decimals
        self.depth = depth
        self.levels_per_step = levels_per_step
        self.derivative = derivative
        self.offset = venue_offset_ticks
        # Liquidation knobs (defaults = the original behaviour; see docs/heatmap.md):
        self.position_rate = position_rate  # chance per step that a leveraged position opens
        self.position_lots = position_lots  # its size range in lots
        # "mid": mark = book mid; "fair": mark = fair value + venue offset, which keeps
        # following the fair value when it moves faster than the book can
        if mark_source not in ("mid", "fair"):
            raise ValueError("mark_source must be 'mid' or 'fair'")
        self.mark_source = mark_source
        self.seq = 0
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.trade_id = 0
        self.position_id = 0
        self.positions: list[SimPosition] = []
        self.funding_rate = Decimal("0.0001")
        mid = fair.ticks + self.offset
        for i in range(1, depth + 1):
            self.bids[mid - i] = self._size()
            self.asks[mid + i] = self._size()
        self.max_positions = 5000
        self._oi_rng = random.Random(seed ^ 0x5EED5EED)
        if initial_positions > 0:
            self.seed_open_interest(initial_positions, initial_band)

    # -- helpers ------------------------------------------------------------------
    def _size(self) -> int:
        return self.rng.randint(1, 50) * 10 ** max(0, self.size_decimals - 2)

    def price_str(self, ticks: int) -> str:
        return format_units(ticks, self.price_decimals)

    def size_str(self, lots: int) -> str:
        return format_units(lots, self.size_decimals)

    def best_bid(self) -> int:
        return max(self.bids)

    def best_ask(self) -> int:
        return min(self.asks)

    def mid_ticks(self) -> int:
        return (self.best_bid() + self.best_ask()) // 2

    def top(self, depth: int | None = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Best-first (ticks, lots) levels of both sides."""
        b = sorted(self.bids.items(), reverse=True)
        a = sorted(self.asks.items())
        if depth is not None:
            b, a = b[:depth], a[:depth]
        return b, a

    def truth(
        self, depth: int | None = None
    ) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        """Ground truth as ``{Decimal price: Decimal size}`` for both sides."""
        b, a = self.top(depth)
        q = Decimal(1).scaleb(-self.price_decimals)
        s = Decimal(1).scaleb(-self.size_decimals)
        return (
            {Decimal(p) * q: Decimal(v) * s for p, v in b},
            {Decimal(p) * q: Decimal(v) * s for p, v in a},
        )

    # -- evolution ----------------------------------------------------------------
    def step(self, ts_ms: int) -> MarketStep:
        """Advance the market by one update and return what changed."""
        rng = self.rng
        self.seq += 1
        st = MarketStep(seq=self.seq, ts_ms=ts_ms)
        changes_b: dict[int, int] = {}
        changes_a: dict[int, int] = {}
        target_mid = self.fair.ticks + self.offset
        bb, ba = self.best_bid(), self.best_ask()
        # Move the inside towards the fair value, printing trades when it moves through.
        if target_mid >= ba:
            self._take(self.asks, changes_a, ba, target_mid, taker_buy=True, st=st)
        elif target_mid <= bb:
            self._take(self.bids, changes_b, target_mid, bb, taker_buy=False, st=st)
        # Random size changes / insertions / deletions near the top.
        n = rng.randint(*self.levels_per_step)
        bb, ba = self.best_bid(), self.best_ask()
        for _ in range(n):
            dist = min(int(rng.expovariate(1 / 6.0)), self.depth - 1)
            if rng.random() < 0.5:
                px = bb - dist if rng.random() < 0.85 else bb + 1
                if px >= ba:
                    px = ba - 1
                book, ch = self.bids, changes_b
            else:
                px = ba + dist if rng.random() < 0.85 else ba - 1
                if px <= bb:
                    px = bb + 1
                book, ch = self.asks, changes_a
            if px in book and rng.random() < 0.3 and len(book) > 20:
                del book[px]
                ch[px] = 0
            else:
                book[px] = self._size()
                ch[px] = book[px]
            if book is self.bids:
                if ch[px] and px > bb:
                    bb = px
                elif not ch[px] and px == bb:
                    bb = max(self.bids)
            elif ch[px] and px < ba:
                ba = px
            elif not ch[px] and px == ba:
                ba = min(self.asks)
        # Keep depth bounded: drop far levels.
        self._trim(self.bids, changes_b, reverse=True)
        self._trim(self.asks, changes_a, reverse=False)
        st.bids = list(changes_b.items())
        st.asks = list(changes_a.items())
        if rng.random() < 0.2:
            self._random_trade(st)
        if self.derivative:
            self._positions(st)
        return st

    def _take(
        self,
        book: dict[int, int],
        ch: dict[int, int],
        lo: int,
        hi: int,
        *,
        taker_buy: bool,
        st: MarketStep,
    ) -> None:
        for px in sorted(p for p in book if lo <= p <= hi):
            lots = book.pop(px)
            ch[px] = 0
            self.trade_id += 1
            st.trades.append(SimTrade(self.trade_id, px, lots, taker_buy, st.ts_ms))
        # refill the emptied side so the book never runs dry
        other = self.bids if taker_buy else self.asks
        if not book:
            edge = hi + 1 if taker_buy else lo - 1
            book[edge] = self._size()
            ch[edge] = book[edge]
        if not other:
            edge = lo - 1 if taker_buy else hi + 1
            other[edge] = self._size()

    def _trim(self, book: dict[int, int], ch: dict[int, int], *, reverse: bool) -> None:
        if len(book) <= self.depth + 20:
            return
        for px in sorted(book, reverse=reverse)[self.depth :]:
            del book[px]
            ch[px] = 0

    def _random_trade(self, st: MarketStep) -> None:
        taker_buy = self.rng.random() < 0.5
        px = self.best_ask() if taker_buy else self.best_bid()
        self.trade_id += 1
        st.trades.append(SimTrade(self.trade_id, px, self.rng.randint(1, 20), taker_buy, st.ts_ms))

    def seed_open_interest(self, n: int = 2000, band: float = 0.002) -> None:
        """Add open interest as if opened before now, so that liquidations happen within
        a short run even when the price moves little (a 100x position otherwise needs a
        0.6% move): ``n`` positions (tiers and sides as in ``_positions``) whose
        liquidation prices lie uniformly within ``band`` (a fraction) of the current
        fair price on their side (below it for longs, above for shorts); each entry
        price is derived from its liquidation price. With the defaults and the
        simulator's 3-tick walk, BTC at 60000.0 sees ~250 liquidations in 8,000 steps.
        Uses its own seeded random stream, so the book evolves exactly as without it."""
        rng = self._oi_rng
        self.max_positions = max(self.max_positions, len(self.positions) + n + 5000)
        mark = self.fair.ticks + self.offset
        for _ in range(n):
            lev = rng.choice(LEVERAGE_TIERS)
            long = rng.random() < 0.5
            dist = rng.uniform(0.0, band)
            liq = int(mark * (1 - dist)) if long else int(mark * (1 + dist)) + 1
            inv = Decimal(1) / lev
            factor = (1 - inv + MAINTENANCE_MARGIN) if long else (1 + inv - MAINTENANCE_MARGIN)
            entry = int(Decimal(liq) / factor)
            self.position_id += 1
            lots = rng.randint(*self.position_lots)
            self.positions.append(SimPosition(self.position_id, long, entry, lots, lev, liq))

    def _positions(self, st: MarketStep) -> None:
        rng = self.rng
        mark = self.mid_ticks() if self.mark_source == "mid" else self.fair.ticks + self.offset
        st.mark_ticks = mark
        if self.seq % 50 == 0:
            self.funding_rate = Decimal(rng.randint(-30, 60)).scaleb(-6)
        st.funding_rate = self.funding_rate
        st.next_funding_ms = (st.ts_ms // 28_800_000 + 1) * 28_800_000
        if rng.random() < self.position_rate:
            lev = rng.choice(LEVERAGE_TIERS)
            long = rng.random() < 0.5
            inv = Decimal(1) / lev
            factor = (1 - inv + MAINTENANCE_MARGIN) if long else (1 + inv - MAINTENANCE_MARGIN)
            self.position_id += 1
            lots = rng.randint(*self.position_lots)
            self.positions.append(
                SimPosition(self.position_id, long, mark, lots, lev, int(Decimal(mark) * factor))
            )
        kept = []
        for pos in self.positions:
            if (pos.long and mark <= pos.liq_price) or (not pos.long and mark >= pos.liq_price):
                st.liquidations.append(SimLiquidation(pos, mark, st.ts_ms))
            else:
                kept.append(pos)
        if len(kept) > self.max_positions:
            kept = kept[-self.max_positions :]
        self.positions = kept
