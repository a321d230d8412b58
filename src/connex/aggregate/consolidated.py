"""Consolidated book ("MultiOrderbook"): one view of a unified symbol across exchanges.

Theory of operation
-------------------
``ConsolidatedBook`` consumes the verified book events of the runtime (``BookSnapshot``,
``BookDelta``, ``BookReset``) of any number of exchanges. For every (exchange, symbol)
it keeps a *venue*: an ``L2Book`` (its own copy, or one handed out by a book provider
such as ``runner.book(ex, sym).book``), a validity flag, the receive time of the last
update and the venue's top of book.

Update path (the hot one, measured by ``bench.run_consolidated_bench``):

1. apply the event to the venue's book (snapshot: load; delta: apply; reset: clear and
   mark invalid until the next snapshot; deltas on an invalid venue are ignored);
2. read the venue's best bid/ask as strings and compare them with the previous ones;
   only when the top moved are they converted to ``Decimal``;
3. when the top moved, recompute the symbol's cross-venue best bid and best ask from the
   per-venue tops: O(venues), never a walk over books.

Query path (``quote``, ``top``, ``arbitrage``, ``basis``): everything that depends on
the time takes ``now`` (ns) as an argument, so the module never reads the clock. A
venue is *usable* when its book is valid (a snapshot arrived after the last reset) and
its last update is at most ``max_age_ns`` old at ``now``; unusable venues are reported
with the reason but excluded from every consolidated figure.

Numbers are exact: prices, sizes, fees and profits are ``Decimal`` computed in a
40-digit context (exact for every realistic price*size*fee product); ratios in basis
points are rounded half-even to ``BPS_QUANTUM`` (0.0001 bp).

Definitions:

* cross-venue spread = best ask (any venue) - best bid (any venue); in bp of their mid.
  It is negative when the venues cross, which is exactly when an arbitrage may exist.
* arbitrage (buy on venue A's asks, sell on venue B's bids), per unit of base:
  ``net = bid_B * (1 - fee_B) - ask_A * (1 + fee_A)`` with each exchange's taker fee
  (a fraction: 0.0005 = 5 bp); ``gross_bps``/``net_bps`` are relative to ``ask_A``.
  ``top_size`` = min of the two top sizes; ``size`` walks both books level by level
  while the next unit is still profitable net of fees (at most ``max_levels`` each).
* basis (per base asset, spot venue x linear-perpetual venue, same quote currency):
  ``basis_bps`` = (perp mid - spot mid) / spot mid; ``carry_bps`` = buy spot at its ask,
  sell the perp at its bid: (perp bid - spot ask) / spot ask.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal

import msgspec

from connex.book import L2Book
from connex.model import BookDelta, BookReset, BookSnapshot, MarketType, parse_symbol
from connex.model.errors import UnknownSymbolError

__all__ = [
    "BPS_QUANTUM",
    "ArbOpportunity",
    "BasisQuote",
    "BookProvider",
    "ConsolidatedBook",
    "ConsolidatedDepth",
    "ConsolidatedLevel",
    "ConsolidatedQuote",
    "VenueQuote",
]

BPS_QUANTUM = Decimal("0.0001")
_CTX = Context(prec=40, rounding=ROUND_HALF_EVEN)
_TEN_K = Decimal(10_000)
_ONE = Decimal(1)
_TWO = Decimal(2)
_ZERO = Decimal(0)

BookProvider = Callable[[str, str], "L2Book | None"]
"""``(exchange, symbol) -> L2Book`` of a live, verified book, or ``None`` when invalid."""


def _bps(num: Decimal, den: Decimal) -> Decimal:
    """``num / den`` in basis points, rounded half-even to ``BPS_QUANTUM``."""
    return _CTX.quantize(_CTX.divide(_CTX.multiply(num, _TEN_K), den), BPS_QUANTUM)


# -- views --------------------------------------------------------------------------------
class VenueQuote(msgspec.Struct, frozen=True, kw_only=True):
    """Top of book of one venue. ``usable`` is False when invalid or stale (see ``reason``)."""

    exchange: str
    symbol: str
    bid_price: Decimal | None
    bid_size: Decimal | None
    ask_price: Decimal | None
    ask_size: Decimal | None
    ts_local: int
    age_ns: int
    valid: bool
    stale: bool
    usable: bool
    reason: str = ""


class ConsolidatedQuote(msgspec.Struct, frozen=True, kw_only=True):
    """Best bid and ask across the usable venues of one symbol, with attribution."""

    symbol: str
    bid_price: Decimal | None
    bid_size: Decimal | None
    bid_exchange: str | None
    ask_price: Decimal | None
    ask_size: Decimal | None
    ask_exchange: str | None
    spread: Decimal | None
    spread_bps: Decimal | None
    crossed: bool
    venues: tuple[VenueQuote, ...]
    ts: int


class ConsolidatedLevel(msgspec.Struct, frozen=True, kw_only=True):
    """One price of the consolidated book: total size and the size of each venue there."""

    price: Decimal
    size: Decimal
    venues: tuple[tuple[str, Decimal], ...]


class ConsolidatedDepth(msgspec.Struct, frozen=True, kw_only=True):
    """Top-N consolidated levels per side (best first), over the usable venues."""

    symbol: str
    bids: tuple[ConsolidatedLevel, ...]
    asks: tuple[ConsolidatedLevel, ...]
    exchanges: tuple[str, ...]
    ts: int


class ArbOpportunity(msgspec.Struct, frozen=True, kw_only=True):
    """Buy ``symbol`` on ``buy_exchange`` (taker on its asks), sell on ``sell_exchange``.

    Prices are the two top quotes; ``size``/``net_profit``/``avg_*`` come from walking both
    books while each further unit is profitable net of taker fees. Ages are ``now`` minus
    the ``ts_local`` of each venue's last update.
    """

    symbol: str
    buy_exchange: str
    sell_exchange: str
    buy_price: Decimal
    sell_price: Decimal
    buy_fee: Decimal
    sell_fee: Decimal
    gross_bps: Decimal
    net_bps: Decimal
    net_per_unit: Decimal
    top_size: Decimal
    size: Decimal
    avg_buy_price: Decimal
    avg_sell_price: Decimal
    net_profit: Decimal
    levels_buy: int
    levels_sell: int
    buy_age_ns: int
    sell_age_ns: int


class BasisQuote(msgspec.Struct, frozen=True, kw_only=True):
    """Spot vs linear perpetual of one base asset (same quote currency)."""

    base: str
    quote: str
    spot_exchange: str
    spot_symbol: str
    perp_exchange: str
    perp_symbol: str
    spot_mid: Decimal
    perp_mid: Decimal
    basis: Decimal
    basis_bps: Decimal
    carry_bps: Decimal
    reverse_bps: Decimal
    spot_age_ns: int
    perp_age_ns: int


# -- state --------------------------------------------------------------------------------
class _Venue:
    __slots__ = (
        "ask",
        "ask_s",
        "bid",
        "bid_s",
        "book",
        "exchange",
        "symbol",
        "ts_exchange",
        "ts_local",
        "updates",
        "valid",
    )

    def __init__(self, exchange: str, symbol: str, book: L2Book | None) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.book = book
        self.valid = False
        self.ts_local = 0
        self.ts_exchange = 0
        self.updates = 0
        self.bid_s: tuple[str, str] | None = None  # top as received strings (change check)
        self.ask_s: tuple[str, str] | None = None
        self.bid: tuple[Decimal, Decimal] | None = None
        self.ask: tuple[Decimal, Decimal] | None = None


class _Symbol:
    __slots__ = ("best_ask", "best_bid", "venues", "version")

    def __init__(self) -> None:
        self.venues: list[_Venue] = []
        self.best_bid: _Venue | None = None  # among valid venues, staleness not checked
        self.best_ask: _Venue | None = None
        self.version = 0


class ConsolidatedBook:
    """Per unified symbol: venue tops, consolidated depth, spreads, arbitrage and basis.

    Args:
        taker_fees: Taker fee per exchange as a fraction (``Decimal("0.0005")`` = 5 bp).
        default_taker_fee: Fee for exchanges missing from ``taker_fees``.
        max_age_ns: A venue whose last update is older than this at ``now`` is stale.
        depth_cap: Levels per side kept in the own books (``None`` = all).
        book_provider: Read books from the runtime instead of keeping copies; the events
            then only mark validity and trigger the top refresh.
    """

    def __init__(
        self,
        *,
        taker_fees: Mapping[str, Decimal] | None = None,
        default_taker_fee: Decimal = Decimal("0.001"),
        max_age_ns: int = 10_000_000_000,
        depth_cap: int | None = None,
        book_provider: BookProvider | None = None,
    ) -> None:
        self.taker_fees = {k: Decimal(v) for k, v in (taker_fees or {}).items()}
        self.default_taker_fee = Decimal(default_taker_fee)
        for ex, fee in [*self.taker_fees.items(), ("default", self.default_taker_fee)]:
            if not _ZERO <= fee < _ONE:
                raise ValueError(f"taker fee of {ex} must be a fraction in [0, 1), got {fee}")
        self.max_age_ns = max_age_ns
        self.depth_cap = depth_cap
        self.book_provider = book_provider
        self._venues: dict[tuple[str, str], _Venue] = {}
        self._symbols: dict[str, _Symbol] = {}

    # -- inputs (hot path) -------------------------------------------------------------
    def on_event(self, ev: object) -> bool:
        """Apply one book event; returns True when the venue's top of book changed.

        Other event types are ignored (False), so the whole runtime stream can be passed.
        """
        t = type(ev)
        if t is BookDelta:
            v = self._venues.get((ev.exchange, ev.symbol))  # type: ignore[attr-defined]
            if v is None or not v.valid:
                return False  # before the first snapshot / after a reset: ignore
            if self.book_provider is None:
                v.book.apply(ev.bids, ev.asks)  # type: ignore[union-attr, attr-defined]
            v.ts_local = ev.ts_local  # type: ignore[attr-defined]
            v.ts_exchange = ev.ts_exchange  # type: ignore[attr-defined]
            v.updates += 1
            return self._refresh(v)
        if t is BookSnapshot:
            return self._on_snapshot(ev)  # type: ignore[arg-type]
        if t is BookReset:
            return self._on_reset(ev)  # type: ignore[arg-type]
        return False

    def on_events(self, events: Iterable[object]) -> int:
        """Apply many events; returns how many changed a venue's top."""
        n = 0
        for ev in events:
            if self.on_event(ev):
                n += 1
        return n

    def _venue(self, exchange: str, symbol: str) -> _Venue:
        key = (exchange, symbol)
        v = self._venues.get(key)
        if v is None:
            book = None if self.book_provider is not None else L2Book(self.depth_cap)
            v = self._venues[key] = _Venue(exchange, symbol, book)
            self._symbols.setdefault(symbol, _Symbol()).venues.append(v)
        return v

    def _on_snapshot(self, ev: BookSnapshot) -> bool:
        v = self._venue(ev.exchange, ev.symbol)
        if self.book_provider is not None:
            v.book = self.book_provider(ev.exchange, ev.symbol)
            v.valid = v.book is not None
        else:
            v.book.load(ev.bids, ev.asks)  # type: ignore[union-attr]
            v.valid = True
        v.ts_local = ev.ts_local
        v.ts_exchange = ev.ts_exchange
        v.updates += 1
        return self._refresh(v)

    def _on_reset(self, ev: BookReset) -> bool:
        v = self._venue(ev.exchange, ev.symbol)
        was = v.valid and (v.bid is not None or v.ask is not None)
        v.valid = False
        if self.book_provider is None:
            v.book.clear()  # type: ignore[union-attr]
        v.bid_s = v.ask_s = None
        v.bid = v.ask = None
        v.ts_local = ev.ts_local
        self._rebest(self._symbols[ev.symbol])
        return was

    def _refresh(self, v: _Venue) -> bool:
        book = v.book
        if book is None:
            return False
        b = book.bids(1)
        a = book.asks(1)
        bs = b[0] if b else None
        as_ = a[0] if a else None
        if bs == v.bid_s and as_ == v.ask_s:
            return False
        if bs != v.bid_s:
            v.bid_s = bs
            v.bid = (Decimal(bs[0]), Decimal(bs[1])) if bs is not None else None
        if as_ != v.ask_s:
            v.ask_s = as_
            v.ask = (Decimal(as_[0]), Decimal(as_[1])) if as_ is not None else None
        self._rebest(self._symbols[v.symbol])
        return True

    @staticmethod
    def _rebest(sym: _Symbol) -> None:
        """Cross-venue best bid/ask from the per-venue tops: O(venues)."""
        best_bid = best_ask = None
        bb = ba = None
        for v in sym.venues:
            if not v.valid:
                continue
            bid = v.bid
            if bid is not None and (bb is None or bid[0] > bb):
                bb = bid[0]
                best_bid = v
            ask = v.ask
            if ask is not None and (ba is None or ask[0] < ba):
                ba = ask[0]
                best_ask = v
        sym.best_bid = best_bid
        sym.best_ask = best_ask
        sym.version += 1

    # -- queries -----------------------------------------------------------------------
    def symbols(self) -> list[str]:
        return sorted(self._symbols)

    def exchanges(self, symbol: str) -> list[str]:
        sym = self._symbols.get(symbol)
        return [v.exchange for v in sym.venues] if sym else []

    def version(self, symbol: str) -> int:
        """Increases whenever the symbol's consolidated top may have changed."""
        sym = self._symbols.get(symbol)
        return sym.version if sym else 0

    def taker_fee(self, exchange: str) -> Decimal:
        return self.taker_fees.get(exchange, self.default_taker_fee)

    def _usable(self, v: _Venue, now: int) -> bool:
        return v.valid and now - v.ts_local <= self.max_age_ns

    def _venue_quote(self, v: _Venue, now: int) -> VenueQuote:
        stale = now - v.ts_local > self.max_age_ns
        if not v.valid:
            reason = "book reset; waiting for a snapshot" if v.updates else "no snapshot yet"
        elif stale:
            reason = f"stale: last update {(now - v.ts_local) / 1e9:.3f} s ago"
        else:
            reason = ""
        return VenueQuote(
            exchange=v.exchange,
            symbol=v.symbol,
            bid_price=v.bid[0] if v.bid else None,
            bid_size=v.bid[1] if v.bid else None,
            ask_price=v.ask[0] if v.ask else None,
            ask_size=v.ask[1] if v.ask else None,
            ts_local=v.ts_local,
            age_ns=now - v.ts_local,
            valid=v.valid,
            stale=stale,
            usable=v.valid and not stale,
            reason=reason,
        )

    def venue_quotes(self, symbol: str, now: int) -> list[VenueQuote]:
        """Top of book of every venue of ``symbol``, usable or not."""
        sym = self._symbols.get(symbol)
        return [self._venue_quote(v, now) for v in sym.venues] if sym else []

    def _best(self, sym: _Symbol, now: int) -> tuple[_Venue | None, _Venue | None]:
        bb, ba = sym.best_bid, sym.best_ask
        if bb is not None and ba is not None and self._usable(bb, now) and self._usable(ba, now):
            return bb, ba
        # A cached best is stale (or a side is empty): recompute over usable venues.
        best_bid = best_ask = None
        for v in sym.venues:
            if not self._usable(v, now):
                continue
            if v.bid is not None and (best_bid is None or v.bid[0] > best_bid.bid[0]):  # type: ignore[index]
                best_bid = v
            if v.ask is not None and (best_ask is None or v.ask[0] < best_ask.ask[0]):  # type: ignore[index]
                best_ask = v
        return best_bid, best_ask

    def quote(self, symbol: str, now: int) -> ConsolidatedQuote | None:
        """Best bid/ask across usable venues and the cross-venue spread.

        ``None`` for a symbol never seen; sides without a usable venue are ``None``.
        """
        sym = self._symbols.get(symbol)
        if sym is None:
            return None
        bv, av = self._best(sym, now)
        bid = bv.bid if bv is not None else None
        ask = av.ask if av is not None else None
        spread = spread_bps = None
        crossed = False
        if bid is not None and ask is not None:
            spread = _CTX.subtract(ask[0], bid[0])
            mid = _CTX.divide(_CTX.add(ask[0], bid[0]), _TWO)
            spread_bps = _bps(spread, mid)
            crossed = spread < 0
        return ConsolidatedQuote(
            symbol=symbol,
            bid_price=bid[0] if bid else None,
            bid_size=bid[1] if bid else None,
            bid_exchange=bv.exchange if bv is not None and bid else None,
            ask_price=ask[0] if ask else None,
            ask_size=ask[1] if ask else None,
            ask_exchange=av.exchange if av is not None and ask else None,
            spread=spread,
            spread_bps=spread_bps,
            crossed=crossed,
            venues=tuple(self._venue_quote(v, now) for v in sym.venues),
            ts=now,
        )

    def top(self, symbol: str, now: int, depth: int = 10) -> ConsolidatedDepth | None:
        """Top ``depth`` consolidated prices per side with each venue's size at that price."""
        sym = self._symbols.get(symbol)
        if sym is None:
            return None
        venues = [v for v in sym.venues if self._usable(v, now) and v.book is not None]
        bids = self._merge(venues, depth, bids=True)
        asks = self._merge(venues, depth, bids=False)
        return ConsolidatedDepth(
            symbol=symbol,
            bids=bids,
            asks=asks,
            exchanges=tuple(v.exchange for v in venues),
            ts=now,
        )

    @staticmethod
    def _merge(venues: list[_Venue], depth: int, *, bids: bool) -> tuple[ConsolidatedLevel, ...]:
        streams = []
        for v in venues:
            levels = v.book.bids_decimal(depth) if bids else v.book.asks_decimal(depth)  # type: ignore[union-attr]
            if bids:
                streams.append([(-p, v.exchange, q) for p, q in levels])
            else:
                streams.append([(p, v.exchange, q) for p, q in levels])
        out: list[ConsolidatedLevel] = []
        cur: Decimal | None = None
        parts: list[tuple[str, Decimal]] = []
        for key, ex, q in heapq.merge(*streams):
            if key != cur:
                if cur is not None:
                    out.append(_level(cur, parts, bids))
                    if len(out) == depth:
                        return tuple(out)
                cur, parts = key, []
            parts.append((ex, q))
        if cur is not None and len(out) < depth:
            out.append(_level(cur, parts, bids))
        return tuple(out)

    def arbitrage(
        self,
        symbol: str,
        now: int,
        *,
        walk: bool = True,
        max_levels: int = 50,
        min_net_bps: Decimal = _ZERO,
    ) -> list[ArbOpportunity]:
        """Every (buy venue, sell venue) pair profitable net of taker fees, best first.

        An opportunity is listed when one unit at the two top quotes gains more than
        ``min_net_bps`` after fees. With ``walk`` the executable size walks both books;
        otherwise it is the smaller of the two top sizes.
        """
        sym = self._symbols.get(symbol)
        if sym is None:
            return []
        venues = [v for v in sym.venues if self._usable(v, now)]
        out: list[ArbOpportunity] = []
        for a in venues:  # buy on a
            if a.ask is None:
                continue
            fa = self.taker_fee(a.exchange)
            ask, ask_sz = a.ask
            buy_unit = _CTX.multiply(ask, _ONE + fa)
            for b in venues:  # sell on b
                if b is a or b.bid is None:
                    continue
                bid, bid_sz = b.bid
                if bid <= ask:
                    continue
                fb = self.taker_fee(b.exchange)
                net_unit = _CTX.subtract(_CTX.multiply(bid, _ONE - fb), buy_unit)
                if net_unit <= 0:
                    continue
                net_bps = _bps(net_unit, ask)
                if net_bps <= min_net_bps:
                    continue
                top_size = min(ask_sz, bid_sz)
                size = _ZERO
                if walk and a.book is not None and b.book is not None:
                    size, cost, proceeds, profit, la, lb = _walk(
                        a.book.asks_decimal(max_levels), b.book.bids_decimal(max_levels), fa, fb
                    )
                if not size:  # no walk, or the books moved under a provider: the tops only
                    size = top_size
                    cost = _CTX.multiply(ask, size)
                    proceeds = _CTX.multiply(bid, size)
                    profit = _CTX.multiply(net_unit, size)
                    la = lb = 1
                out.append(
                    ArbOpportunity(
                        symbol=symbol,
                        buy_exchange=a.exchange,
                        sell_exchange=b.exchange,
                        buy_price=ask,
                        sell_price=bid,
                        buy_fee=fa,
                        sell_fee=fb,
                        gross_bps=_bps(bid - ask, ask),
                        net_bps=net_bps,
                        net_per_unit=net_unit,
                        top_size=top_size,
                        size=size,
                        avg_buy_price=_CTX.divide(cost, size),
                        avg_sell_price=_CTX.divide(proceeds, size),
                        net_profit=profit,
                        levels_buy=la,
                        levels_sell=lb,
                        buy_age_ns=now - a.ts_local,
                        sell_age_ns=now - b.ts_local,
                    )
                )
        out.sort(key=lambda o: (-o.net_profit, -o.net_bps, o.buy_exchange, o.sell_exchange))
        return out

    def basis(self, base: str, now: int, *, quote: str | None = None) -> list[BasisQuote]:
        """Spot vs linear-perpetual basis of ``base`` for every usable venue pair."""
        spots: list[tuple[_Venue, str]] = []
        perps: list[tuple[_Venue, str]] = []
        for symbol, sym in self._symbols.items():
            try:
                u = parse_symbol(symbol)
            except UnknownSymbolError:
                continue
            if u.base != base.upper() or (quote is not None and u.quote != quote.upper()):
                continue
            if u.market_type is MarketType.SPOT:
                bucket = spots
            elif u.market_type is MarketType.LINEAR_PERP:
                bucket = perps
            else:
                continue
            for v in sym.venues:
                if self._usable(v, now) and v.bid is not None and v.ask is not None:
                    bucket.append((v, u.quote))
        out: list[BasisQuote] = []
        for s, sq in spots:
            s_bid, s_ask = s.bid[0], s.ask[0]  # type: ignore[index]
            s_mid = _CTX.divide(_CTX.add(s_bid, s_ask), _TWO)
            for p, pq in perps:
                if pq != sq:
                    continue
                p_bid, p_ask = p.bid[0], p.ask[0]  # type: ignore[index]
                p_mid = _CTX.divide(_CTX.add(p_bid, p_ask), _TWO)
                diff = _CTX.subtract(p_mid, s_mid)
                out.append(
                    BasisQuote(
                        base=base.upper(),
                        quote=sq,
                        spot_exchange=s.exchange,
                        spot_symbol=s.symbol,
                        perp_exchange=p.exchange,
                        perp_symbol=p.symbol,
                        spot_mid=s_mid,
                        perp_mid=p_mid,
                        basis=diff,
                        basis_bps=_bps(diff, s_mid),
                        carry_bps=_bps(_CTX.subtract(p_bid, s_ask), s_ask),
                        reverse_bps=_bps(_CTX.subtract(s_bid, p_ask), p_ask),
                        spot_age_ns=now - s.ts_local,
                        perp_age_ns=now - p.ts_local,
                    )
                )
        out.sort(key=lambda q: (q.spot_exchange, q.perp_exchange, q.spot_symbol, q.perp_symbol))
        return out


def _level(key: Decimal, parts: list[tuple[str, Decimal]], bids: bool) -> ConsolidatedLevel:
    total = _ZERO
    for _, q in parts:
        total = _CTX.add(total, q)
    return ConsolidatedLevel(price=-key if bids else key, size=total, venues=tuple(parts))


def _walk(
    asks: list[tuple[Decimal, Decimal]],
    bids: list[tuple[Decimal, Decimal]],
    fee_buy: Decimal,
    fee_sell: Decimal,
) -> tuple[Decimal, Decimal, Decimal, Decimal, int, int]:
    """Match asks (ascending) against bids (descending) while net of fees is positive.

    Returns (size, cost, proceeds, net profit, ask levels touched, bid levels touched).
    """
    i = j = 0
    size = cost = proceeds = profit = _ZERO
    ra = asks[0][1] if asks else _ZERO
    rb = bids[0][1] if bids else _ZERO
    buy_k = _ONE + fee_buy
    sell_k = _ONE - fee_sell
    touched_a = touched_b = 0
    while i < len(asks) and j < len(bids):
        ap = asks[i][0]
        bp = bids[j][0]
        unit = _CTX.subtract(_CTX.multiply(bp, sell_k), _CTX.multiply(ap, buy_k))
        if unit <= 0:
            break
        q = min(ra, rb)
        touched_a = i + 1
        touched_b = j + 1
        size = _CTX.add(size, q)
        cost = _CTX.add(cost, _CTX.multiply(ap, q))
        proceeds = _CTX.add(proceeds, _CTX.multiply(bp, q))
        profit = _CTX.add(profit, _CTX.multiply(unit, q))
        ra = _CTX.subtract(ra, q)
        rb = _CTX.subtract(rb, q)
        if ra == 0:
            i += 1
            if i < len(asks):
                ra = asks[i][1]
        if rb == 0:
            j += 1
            if j < len(bids):
                rb = bids[j][1]
    return size, cost, proceeds, profit, touched_a, touched_b
