"""Adapters between the web API and the data layers (store, heatmap, aggregate, health).

The router only speaks the JSON shapes documented in ``docs/dashboard.md``; this module
turns what ``connex.store``, ``connex.heatmap`` and ``connex.aggregate`` return into
those shapes, so a change in one of them is absorbed here and not in the dashboard.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from .params import ParamError

__all__ = [
    "auto_price_bin",
    "check_interval",
    "consolidated_view",
    "fetch_heatmap",
    "fetch_liquidations",
    "jsonable",
    "nice_bin",
    "normalize_consolidated",
    "normalize_health",
]

_OK_WORDS = {"ok", "up", "live", "healthy", "connected", "running", "green", "true"}


def jsonable(value: Any) -> Any:
    """Builtins for JSON: Decimals become exact strings, structs/enums/dataclasses plain."""
    return msgspec.to_builtins(value, enc_hook=_enc_hook)


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, enum.Enum):
        return obj.value
    if hasattr(obj, "__dict__"):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    raise NotImplementedError(type(obj))


# -- liquidations -------------------------------------------------------------------


def fetch_liquidations(
    store: Any,
    exchange: str | None,
    symbol: str | None,
    start_ns: int,
    end_ns: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest-first liquidations as JSON dicts (``price``/``size``/``notional`` strings)."""
    rows = store.query_liquidations(
        exchange=[exchange] if exchange else None,
        symbol=symbol,
        start_ns=start_ns,
        end_ns=end_ns,
        limit=limit,
    )
    return [jsonable(r) for r in rows]


def nice_bin(lo: Decimal, hi: Decimal, bins: int) -> Decimal:
    """A round bin width (1, 2, 2.5 or 5 times a power of ten) giving about ``bins`` bins."""
    span = hi - lo
    if span <= 0:
        span = abs(hi) / 100 if hi else Decimal(1)
    raw = span / bins
    exp = raw.adjusted()
    for mant in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        width = mant.scaleb(exp)
        if width >= raw:
            return width.normalize()
    return Decimal(10).scaleb(exp).normalize()  # pragma: no cover - loop always returns


def auto_price_bin(
    store: Any,
    symbol: str,
    exchanges: list[str],
    start_ns: int | None,
    end_ns: int | None,
    bins: int,
) -> Decimal:
    """A round price bin width giving about ``bins`` bins across the price range of the
    liquidations in ``[start_ns, end_ns)`` (exact min/max, from the heatmap rollup)."""
    from connex import heatmap

    rng = heatmap.price_range(store, symbol, exchanges, start_ns, end_ns)
    if rng is None:
        return Decimal(1)
    return nice_bin(rng[0], rng[1], bins)


# -- heatmap ------------------------------------------------------------------------


def check_interval(interval_s: int) -> None:
    """Reject bucket widths the heatmap does not offer (422 naming ``interval``)."""
    from connex import heatmap

    try:
        heatmap.check_interval(interval_s)
    except ValueError as err:
        allowed = ", ".join(str(x) for x in heatmap.ALLOWED_INTERVALS_S)
        raise ParamError("interval", f"{err} (allowed seconds: {allowed})", interval_s) from None


def fetch_heatmap(
    store: Any,
    symbol: str,
    exchanges: list[str],
    interval_s: int,
    price_bin: Decimal,
    start_ns: int | None,
    end_ns: int | None,
    estimated: bool = True,
    *,
    builtins: bool = True,
) -> dict[str, Any]:
    """Run ``connex.heatmap.heatmap_timeseries`` and return its JSON-able result.

    ``builtins=False`` returns the heatmap's dict as it is (its cells are already
    strings and ints; serialize it with ``orjson.dumps(..., default=jsonable)``), which
    saves copying tens of thousands of cells.

    Raises:
        ParamError: the heatmap rejected the price bin (``price_bin``) or the interval.
    """
    from connex import heatmap

    try:
        heatmap.check_price_bin(price_bin)
    except ValueError as err:
        raise ParamError("price_bin", str(err), price_bin) from None
    try:
        raw = heatmap.heatmap_timeseries(
            store,
            symbol,
            exchanges,
            interval_s=interval_s,
            price_bin=price_bin,
            start_ns=start_ns,
            end_ns=end_ns,
            estimated=estimated,
        )
    except ValueError as err:
        text = str(err)
        field = "interval" if "interval" in text else "price_bin" if "bin" in text else "symbol"
        raise ParamError(field, text) from None
    return jsonable(raw) if builtins else raw


# -- health -------------------------------------------------------------------------


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, Mapping):
            if name in obj:
                return obj[name]
        elif hasattr(obj, name):
            return getattr(obj, name)
    return default


def _is_ok(value: Any) -> tuple[bool, str]:
    """(ok, status word) from a bool, a status string, or a record with ok/state fields."""
    if isinstance(value, bool):
        return value, "up" if value else "down"
    if isinstance(value, str | enum.Enum):
        word = str(value.value if isinstance(value, enum.Enum) else value).lower()
        return word in _OK_WORDS, word
    flag = _get(value, "ok", "healthy", "is_healthy", "up", "live")
    state = _get(value, "status", "state")
    if isinstance(state, enum.Enum):
        state = state.value
    if flag is not None and not callable(flag):
        if state is not None:
            return bool(flag), str(state).lower()
        if flag:
            return True, "up"
        connected = _get(value, "connected")
        if connected is None:
            return False, "down"
        return False, "degraded" if connected else "disconnected"
    if state is not None:
        word = str(state).lower()
        return word in _OK_WORDS, word
    return False, "unknown"


def normalize_health(raw: Any, exchanges: list[str]) -> list[dict[str, Any]]:
    """One ``{"exchange", "ok", "status", "detail", ...}`` per served exchange.

    ``raw`` may be a mapping ``{exchange: bool | str | record}`` or an iterable of
    records that carry an ``exchange`` field. Exchanges missing from ``raw`` are
    reported ``ok: false, status: "unknown"``.
    """
    by_name: dict[str, Any] = {}
    if raw is None:
        pass
    elif isinstance(raw, Mapping):
        by_name = {str(k).lower(): v for k, v in raw.items()}
    elif isinstance(raw, Iterable):
        for rec in raw:
            name = _get(rec, "exchange", "name")
            if name is not None:
                by_name[str(name).lower()] = rec
    out: list[dict[str, Any]] = []
    for name in exchanges:
        rec = by_name.get(name)
        if rec is None:
            out.append({"exchange": name, "ok": False, "status": "unknown", "detail": ""})
            continue
        ok, status = _is_ok(rec)
        item: dict[str, Any] = {}
        if isinstance(rec, msgspec.Struct | Mapping):
            # ExchangeHealth (connex.model) or a dict: keep every numeric/bool field.
            item.update(
                {
                    k: v
                    for k, v in jsonable(rec).items()
                    if isinstance(v, int | float | bool | str) or v is None
                }
            )
            connected = _get(rec, "connected")
            if not ok and status in ("unknown", "false") and connected is not None:
                status = "degraded" if connected else "disconnected"
        item.update({"exchange": name, "ok": ok, "status": status})
        item["detail"] = str(_get(rec, "detail", "reason", default="") or "")
        out.append(item)
    return out


# -- consolidated book --------------------------------------------------------------


def consolidated_view(
    book: Any, symbol: str, now_ns: int, *, depth: int = 10, exchanges: list[str] | None = None
) -> dict[str, Any] | None:
    """The dashboard's consolidated view from a ``connex.aggregate.ConsolidatedBook``.

    ``None`` when the book has never seen ``symbol``. Cross-exchange spreads are listed
    for every ordered pair of usable venues (buy at A's ask, sell at B's bid, before
    fees; positive = the venues cross); arbitrage opportunities are the aggregator's
    (net of taker fees, size walked through both books).
    """
    quote = book.quote(symbol, now_ns)
    if quote is None:
        return None
    wanted = set(exchanges) if exchanges is not None else None
    top = book.top(symbol, now_ns, depth)

    def level(lv: Any) -> dict[str, Any]:
        return {
            "price": jsonable(lv.price),
            "size": jsonable(lv.size),
            "by_exchange": {ex: jsonable(sz) for ex, sz in lv.venues},
        }

    venues = [v for v in quote.venues if wanted is None or v.exchange in wanted]
    best: dict[str, Any] = {}
    for v in venues:
        spread = (
            v.ask_price - v.bid_price
            if v.ask_price is not None and v.bid_price is not None
            else None
        )
        best[v.exchange] = {
            "bid": jsonable(v.bid_price),
            "bid_size": jsonable(v.bid_size),
            "ask": jsonable(v.ask_price),
            "ask_size": jsonable(v.ask_size),
            "spread": jsonable(spread),
            "usable": v.usable,
            "reason": v.reason,
            "age_ms": v.age_ns // 1_000_000,
        }
    spreads: list[dict[str, Any]] = []
    usable = [v for v in venues if v.usable and v.bid_price is not None and v.ask_price is not None]
    for a in usable:
        for b in usable:
            if a is b:
                continue
            gross = b.bid_price - a.ask_price
            spreads.append(
                {
                    "buy_exchange": a.exchange,
                    "sell_exchange": b.exchange,
                    "buy_price": jsonable(a.ask_price),
                    "sell_price": jsonable(b.bid_price),
                    "spread": jsonable(gross),
                    "spread_bps": jsonable(round(gross / a.ask_price * 10_000, 4)),
                }
            )
    spreads.sort(key=lambda s: Decimal(s["spread_bps"]), reverse=True)
    arbs = []
    for opp in book.arbitrage(symbol, now_ns):
        if wanted is not None and not {opp.buy_exchange, opp.sell_exchange} <= wanted:
            continue
        item = jsonable(opp)
        item["profit_bps"] = item["net_bps"]
        arbs.append(item)
    return {
        "symbol": symbol,
        "ts_ns": now_ns,
        "consolidated": {
            "bid": jsonable(quote.bid_price),
            "bid_size": jsonable(quote.bid_size),
            "bid_exchange": quote.bid_exchange,
            "ask": jsonable(quote.ask_price),
            "ask_size": jsonable(quote.ask_size),
            "ask_exchange": quote.ask_exchange,
            "spread": jsonable(quote.spread),
            "spread_bps": jsonable(quote.spread_bps),
            "crossed": quote.crossed,
        },
        "book": {
            "bids": [level(lv) for lv in (top.bids if top else ())],
            "asks": [level(lv) for lv in (top.asks if top else ())],
        },
        "best": best,
        "spreads": spreads,
        "arbitrage": arbs,
    }


def normalize_consolidated(
    raw: Any, symbol: str, *, depth: int, exchanges: list[str], now_ns: int | None = None
) -> dict[str, Any] | None:
    """Consolidated view as JSON: ``book``, ``best``, ``spreads``, ``arbitrage``.

    ``raw`` is what the consolidated provider returned: a ``ConsolidatedBook`` (the view
    is built here, at ``now_ns``), or an already built mapping with those keys.
    """
    if hasattr(raw, "quote") and hasattr(raw, "arbitrage") and hasattr(raw, "top"):
        return consolidated_view(
            raw,
            symbol,
            time.time_ns() if now_ns is None else now_ns,
            depth=depth,
            exchanges=exchanges,
        )
    data = jsonable(raw)
    if not isinstance(data, dict):
        data = {"book": data}
    book = data.get("book") or {}
    if isinstance(book, dict):
        book = {
            "bids": list(book.get("bids") or [])[:depth],
            "asks": list(book.get("asks") or [])[:depth],
        }
    wanted = set(exchanges)

    def keep(item: Any) -> bool:
        if not isinstance(item, dict):
            return True
        names = [item.get(k) for k in ("exchange", "buy_exchange", "sell_exchange")]
        return all(n is None or n in wanted for n in names)

    best = data.get("best") or {}
    if isinstance(best, dict):
        best = {k: v for k, v in best.items() if k in wanted}
    return {
        "symbol": data.get("symbol", symbol),
        "ts_ns": data.get("ts_ns"),
        "consolidated": data.get("consolidated"),
        "book": book,
        "best": best,
        "spreads": [s for s in data.get("spreads") or [] if keep(s)],
        "arbitrage": [a for a in data.get("arbitrage") or [] if keep(a)],
    }
