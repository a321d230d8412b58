"""L2 order book with exact prices.

Theory of operation
-------------------
Prices arrive as decimal strings. Each distinct price string is turned once (memoised)
into an integer key: the price scaled by ``10**scale``, where ``scale`` is the largest
number of significant decimals seen so far for this book (a price with more decimals
rescales the book, which is rare). Integer keys in the symbol's own precision hash well
and sort exactly; the price string as received is kept for each level so that
checksums and snapshots reproduce the exchange's text byte for byte.

Each side is a dict ``key -> size string`` plus a sorted list of keys whose *best*
level sits at the end of the list (asks are stored negated). Best bid/ask is O(1),
top-N is O(N), and a level change costs a dict operation plus, when a level appears
or disappears, one ``bisect`` and a ``memmove``. Sizes stay exact strings; a size is
zero when nothing but ``0`` and ``.`` is left after stripping those characters.

Sizes must be in plain decimal notation (``"0.001"``, never ``"1e-3"``): every exchange
we speak sends them that way, and a connector that meets exponents must normalise them
before building a ``BookDelta`` (``normalize_decimal``). Prices in exponent notation are
accepted (rarely seen, handled when a price is first met).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from decimal import Decimal
from operator import neg as _neg

from connex.model import BookSnapshot, Level

__all__ = ["COMPILED", "L2Book", "is_zero", "normalize_decimal"]

try:  # the compiled kernel (built from _fastbook.pyx at install time); Python otherwise
    from ._fastbook import apply_side as _apply_side
except ImportError:  # pragma: no cover - depends on the build
    _apply_side = None

#: True when ``L2Book.apply`` runs the compiled kernel.
COMPILED = _apply_side is not None

_MEMO_LIMIT = 200_000


def is_zero(size: str) -> bool:
    """True when a decimal size string is zero (``"0"``, ``"0.000"``, ``"0E-8"``)."""
    return not size.strip("0.") or (("e" in size or "E" in size) and Decimal(size) == 0)


def normalize_decimal(text: str) -> str:
    """Plain-notation form of a decimal string (``"1E-8"`` -> ``"0.00000001"``)."""
    if "e" in text or "E" in text:
        return format(Decimal(text), "f")
    return text


class L2Book:
    """One side-by-side L2 book. Not thread-safe; owned by one feed."""

    __slots__ = (
        "_ak",
        "_asks",
        "_bids",
        "_bk",
        "_memo",
        "_px",
        "depth_cap",
        "scale",
        "sequence",
        "ts_exchange",
        "ts_local",
    )

    def __init__(self, depth_cap: int | None = None) -> None:
        self._bids: dict[int, str] = {}
        self._asks: dict[int, str] = {}
        self._bk: list[int] = []  # bid keys ascending: best bid last
        self._ak: list[int] = []  # negated ask keys ascending: best ask last
        self._px: dict[int, str] = {}  # key -> price string as received
        self._memo: dict[str, int] = {}
        self.scale = 0
        self.depth_cap = depth_cap
        self.sequence = 0
        self.ts_exchange = 0
        self.ts_local = 0

    # -- price keys ---------------------------------------------------------------
    def _key(self, price: str) -> int:
        memo = self._memo
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        text = format(Decimal(price), "f") if "e" in price or "E" in price else price
        whole, _, frac = text.partition(".")
        frac = frac.rstrip("0")
        if len(frac) > self.scale:
            self._rescale(len(frac))
        key = int(whole + frac.ljust(self.scale, "0"))
        if key < 0:
            raise ValueError(f"negative price {price!r}")
        memo[price] = key
        return key

    def _rescale(self, new_scale: int) -> None:
        """Multiply every key by ``10**(new_scale - scale)``, in place (the containers
        stay the same objects, so a caller holding them keeps valid references)."""
        factor = 10 ** (new_scale - self.scale)
        self.scale = new_scale
        for d in (self._bids, self._asks, self._px):
            items = list(d.items())
            d.clear()
            d.update((k * factor, v) for k, v in items)
        self._bk[:] = [k * factor for k in self._bk]
        self._ak[:] = [k * factor for k in self._ak]
        self._memo.clear()

    # -- mutation -----------------------------------------------------------------
    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()
        self._bk.clear()
        self._ak.clear()
        self._px.clear()

    def load(
        self, bids: tuple[Level, ...] | list[Level], asks: tuple[Level, ...] | list[Level]
    ) -> None:
        """Replace the whole book with a snapshot."""
        self.clear()
        self.apply(bids, asks)

    def apply(
        self, bids: tuple[Level, ...] | list[Level], asks: tuple[Level, ...] | list[Level]
    ) -> None:
        """Apply absolute level changes (size zero removes the level)."""
        if _apply_side is not None:
            if bids:
                _apply_side(self._bids, self._bk, self._px, self._memo, bids, False, self._key)
            if asks:
                _apply_side(self._asks, self._ak, self._px, self._memo, asks, True, self._key)
        else:
            self._apply_py(bids, asks)
        cap = self.depth_cap
        if cap is not None:
            self._trim(cap)

    def _apply_py(
        self, bids: tuple[Level, ...] | list[Level], asks: tuple[Level, ...] | list[Level]
    ) -> None:
        """The pure-Python kernel (same semantics as ``_fastbook.apply_side``)."""
        memo = self._memo
        px = self._px
        if bids:
            d = self._bids
            keys = self._bk
            for p, q in bids:
                k = memo.get(p)
                if k is None:
                    k = self._key(p)
                if q.strip("0."):
                    if k not in d:
                        insort(keys, k)
                        px[k] = p
                    d[k] = q
                elif k in d:
                    del d[k]
                    del keys[bisect_left(keys, k)]
        if asks:
            d = self._asks
            keys = self._ak
            for p, q in asks:
                k = memo.get(p)
                if k is None:
                    k = self._key(p)
                if q.strip("0."):
                    if k not in d:
                        insort(keys, -k)
                        px[k] = p
                    d[k] = q
                elif k in d:
                    del d[k]
                    del keys[bisect_left(keys, -k)]

    def _trim(self, cap: int) -> None:
        if len(self._bk) > cap:
            drop = self._bk[: len(self._bk) - cap]
            del self._bk[: len(self._bk) - cap]
            for k in drop:
                del self._bids[k]
        if len(self._ak) > cap:
            drop = self._ak[: len(self._ak) - cap]
            del self._ak[: len(self._ak) - cap]
            for k in drop:
                del self._asks[-k]

    # -- reads --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._bk) + len(self._ak)

    @property
    def bid_count(self) -> int:
        return len(self._bk)

    @property
    def ask_count(self) -> int:
        return len(self._ak)

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask."""
        return bool(self._bk and self._ak and self._bk[-1] >= -self._ak[-1])

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        if not self._bk:
            return None
        k = self._bk[-1]
        return Decimal(self._px[k]), Decimal(self._bids[k])

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        if not self._ak:
            return None
        k = -self._ak[-1]
        return Decimal(self._px[k]), Decimal(self._asks[k])

    def bids(self, depth: int | None = None) -> list[Level]:
        """Best-first bid levels as exact strings (price as received, size as received)."""
        keys = self._bk
        sel = (
            keys[::-1] if depth is None else keys[: -depth - 1 if depth < len(keys) else None : -1]
        )
        d, px = self._bids, self._px
        return [(px[k], d[k]) for k in sel]

    def asks(self, depth: int | None = None) -> list[Level]:
        keys = self._ak
        sel = (
            keys[::-1] if depth is None else keys[: -depth - 1 if depth < len(keys) else None : -1]
        )
        d, px = self._asks, self._px
        return [(px[-k], d[-k]) for k in sel]

    def bids_decimal(self, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        return [(Decimal(p), Decimal(q)) for p, q in self.bids(depth)]

    def asks_decimal(self, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        return [(Decimal(p), Decimal(q)) for p, q in self.asks(depth)]

    def snapshot(self, exchange: str, symbol: str, depth: int | None = None) -> BookSnapshot:
        """The current book as a ``BookSnapshot`` event."""
        return BookSnapshot(
            exchange=exchange,
            symbol=symbol,
            bids=tuple(self.bids(depth)),
            asks=tuple(self.asks(depth)),
            sequence=self.sequence,
            ts_exchange=self.ts_exchange,
            ts_local=self.ts_local,
        )

    def as_decimal_dict(self) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        """Both sides as ``{price: size}`` with ``Decimal`` keys (for comparisons in tests)."""
        return (
            {Decimal(self._px[k]): Decimal(v) for k, v in self._bids.items()},
            {Decimal(self._px[k]): Decimal(v) for k, v in self._asks.items()},
        )

    def top_strings(self, depth: int) -> tuple[list[str], list[str], list[str], list[str]]:
        """Best-first price and size strings (exactly as received) of the top ``depth``
        levels: ``(bid_prices, bid_sizes, ask_prices, ask_sizes)``. Built with C-level
        ``map`` calls, for text checksums (OKX) that run after every update."""
        bk, ak = self._bk, self._ak
        bsel = bk[: -depth - 1 if depth < len(bk) else None : -1]
        asel = list(map(_neg, ak[: -depth - 1 if depth < len(ak) else None : -1]))
        pget = self._px.__getitem__
        return (
            list(map(pget, bsel)),
            list(map(self._bids.__getitem__, bsel)),
            list(map(pget, asel)),
            list(map(self._asks.__getitem__, asel)),
        )
