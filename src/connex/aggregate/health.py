"""Per-exchange health from normalized events and feed metrics.

Theory of operation
-------------------
``HealthTracker`` is fed two ways, and both are optional:

* **events** (``on_event``): every model event counts as one message of its exchange
  (receive time ``ts_local``); ``FeedStatus`` tracks the state of each connection
  (a ``CONNECTED`` after an earlier one is a reconnect), ``FeedError`` counts errors,
  ``BookReset`` marks a book invalid (reason ``gap`` also counts a gap) and the next
  ``BookSnapshot`` of that book counts a resync;
* **metrics** (``on_messages`` for message counts, ``update_counters`` for the runtime's
  absolute counters, ``observe_runner`` to read a ``connex.runtime.Runner``). A counter
  known from both sides is reported as the larger of the two, never the sum, so the same
  reconnect seen as an event and in the metrics is not counted twice.

Other components may hold an exchange unhealthy (``mark_unhealthy``, e.g. the liquidation
aggregator while its source is in backoff) until they clear it.

``health(exchange, now)`` builds a ``connex.model.ExchangeHealth``. It never reads the
clock: ``now`` (ns) is passed in, like every time in Connex's sans-I/O layers. An
exchange is *healthy* when it is connected, its last message is younger than
``stale_after_s``, every known book is live and nobody holds it unhealthy; ``detail``
says why not.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from connex.model import (
    BookReset,
    BookSnapshot,
    ExchangeHealth,
    FeedError,
    FeedState,
    FeedStatus,
    ResetReason,
)

__all__ = ["HealthTracker"]

_NS = 1_000_000_000
_UP_STATES = frozenset({FeedState.CONNECTED, FeedState.RESYNCING, FeedState.STALE})


class _Exchange:
    __slots__ = (
        "books",
        "buckets",
        "errors",
        "ever_connected",
        "feeds",
        "first_ns",
        "gaps",
        "last_ns",
        "messages",
        "metrics",
        "reconnects",
        "resyncs",
        "unhealthy",
    )

    def __init__(self) -> None:
        self.feeds: dict[str, FeedState] = {}
        self.ever_connected: set[str] = set()
        self.books: dict[str, bool] = {}  # symbol -> live
        self.buckets: deque[list[int]] = deque()  # [second, count], oldest first
        self.messages = 0
        self.first_ns = 0
        self.last_ns = 0
        self.reconnects = 0
        self.errors = 0
        self.gaps = 0
        self.resyncs = 0
        self.metrics: dict[str, Any] = {}
        self.unhealthy: dict[str, str] = {}  # source -> detail


class HealthTracker:
    """Tracks connection, freshness, rate and integrity counters per exchange.

    Args:
        stale_after_s: An exchange whose last message is older than this is unhealthy.
        rate_window_s: Width (whole seconds) of the sliding window behind ``msgs_per_s``.
    """

    def __init__(self, *, stale_after_s: float = 30.0, rate_window_s: int = 10) -> None:
        if rate_window_s < 1:
            raise ValueError("rate_window_s must be >= 1")
        self.stale_after_s = stale_after_s
        self.rate_window_s = int(rate_window_s)
        self._ex: dict[str, _Exchange] = {}
        self._feed_counts: dict[int, int] = {}  # id(feed) -> messages already counted

    # -- inputs ---------------------------------------------------------------------
    def register(self, exchange: str) -> None:
        """Make ``exchange`` known before it sends anything (it reports unhealthy)."""
        self._get(exchange)

    def _get(self, exchange: str) -> _Exchange:
        ex = self._ex.get(exchange)
        if ex is None:
            ex = self._ex[exchange] = _Exchange()
        return ex

    def on_event(self, ev: Any) -> None:
        """Account one normalized event (any model event carrying ``exchange``)."""
        exchange = getattr(ev, "exchange", None)
        if not exchange:
            return
        ex = self._get(exchange)
        t = type(ev)
        if t is FeedStatus:
            self._on_status(ex, ev)
            return  # a status change is not market data
        ts = getattr(ev, "ts_local", 0)
        if t is FeedError:
            ex.errors += 1
        elif t is BookReset:
            ex.books[ev.symbol] = False
            if ev.reason is ResetReason.GAP:
                ex.gaps += 1
        elif t is BookSnapshot:
            if ex.books.get(ev.symbol) is False:
                ex.resyncs += 1
            ex.books[ev.symbol] = True
        if ts:
            self._count(ex, 1, ts)

    def _on_status(self, ex: _Exchange, ev: FeedStatus) -> None:
        state = ev.state
        if state is FeedState.CONNECTED:
            if ev.feed in ex.ever_connected and ex.feeds.get(ev.feed) is not FeedState.CONNECTED:
                ex.reconnects += 1
            ex.ever_connected.add(ev.feed)
        if state is FeedState.STOPPED:
            ex.feeds.pop(ev.feed, None)
            return
        ex.feeds[ev.feed] = state

    def on_messages(self, exchange: str, count: int, ts_local: int) -> None:
        """Account ``count`` messages received up to ``ts_local`` (from feed metrics)."""
        if count > 0:
            self._count(self._get(exchange), count, ts_local)

    def _count(self, ex: _Exchange, count: int, ts: int) -> None:
        ex.messages += count
        if not ex.first_ns:
            ex.first_ns = ts
        if ts > ex.last_ns:
            ex.last_ns = ts
        sec = ts // _NS
        buckets = ex.buckets
        if buckets and buckets[-1][0] == sec:
            buckets[-1][1] += count
            return
        if buckets and buckets[-1][0] > sec:  # late message: find its bucket, if kept
            for b in reversed(buckets):
                if b[0] == sec:
                    b[1] += count
                    return
            return
        buckets.append([sec, count])
        horizon = sec - self.rate_window_s
        while buckets and buckets[0][0] <= horizon:
            buckets.popleft()

    def update_counters(
        self,
        exchange: str,
        *,
        connected: bool | None = None,
        reconnects: int | None = None,
        errors: int | None = None,
        gaps: int | None = None,
        resyncs: int | None = None,
        books_live: int | None = None,
        books_total: int | None = None,
    ) -> None:
        """Set absolute counters read from the runtime's metrics (``None`` = unknown)."""
        m = self._get(exchange).metrics
        for name, value in (
            ("connected", connected),
            ("reconnects", reconnects),
            ("errors", errors),
            ("gaps", gaps),
            ("resyncs", resyncs),
            ("books_live", books_live),
            ("books_total", books_total),
        ):
            if value is not None:
                m[name] = value

    def observe_runner(self, runner: Any, *, count_messages: bool = True) -> None:
        """Read a ``connex.runtime.Runner``'s feeds: message counts and absolute counters.

        Call it periodically (e.g. once a second). New messages since the previous call
        are accounted at each feed's ``last_message_ns``. Pass ``count_messages=False``
        when the same runner's events are also given to ``on_event`` (they are counted
        there already).
        """
        per_ex: dict[str, dict[str, int]] = {}
        up: dict[str, bool] = {}
        seen = self._feed_counts
        for feed in runner.feeds:
            ex = feed.exchange
            agg = per_ex.setdefault(
                ex, {"reconnects": 0, "errors": 0, "gaps": 0, "resyncs": 0, "live": 0, "total": 0}
            )
            counters = feed.core.counters
            agg["reconnects"] += counters.reconnects
            agg["errors"] += counters.errors
            for sync in feed.core.books.values():
                agg["gaps"] += sync.counters.gaps
                agg["resyncs"] += sync.counters.resyncs
                agg["total"] += 1
                agg["live"] += 1 if sync.is_live else 0
            up[ex] = up.get(ex, True) and feed.state in (FeedState.CONNECTED, FeedState.RESYNCING)
            if count_messages:
                n = feed.metrics.messages
                prev = seen.get(id(feed), 0)
                if n > prev and feed.last_message_ns:
                    self.on_messages(ex, n - prev, feed.last_message_ns)
                seen[id(feed)] = n
        for ex, agg in per_ex.items():
            self.update_counters(
                ex,
                connected=up[ex],
                reconnects=agg["reconnects"],
                errors=agg["errors"],
                gaps=agg["gaps"],
                resyncs=agg["resyncs"],
                books_live=agg["live"],
                books_total=agg["total"],
            )

    def mark_unhealthy(self, exchange: str, detail: str, *, source: str = "external") -> None:
        """Hold ``exchange`` unhealthy on behalf of ``source`` until ``clear_unhealthy``."""
        self._get(exchange).unhealthy[source] = detail or source

    def clear_unhealthy(self, exchange: str, *, source: str = "external") -> None:
        ex = self._ex.get(exchange)
        if ex is not None:
            ex.unhealthy.pop(source, None)

    # -- outputs --------------------------------------------------------------------
    @property
    def exchanges(self) -> list[str]:
        return sorted(self._ex)

    def msgs_per_s(self, exchange: str, now: int) -> float:
        """Messages per second over the last ``rate_window_s`` whole seconds up to ``now``."""
        ex = self._ex.get(exchange)
        if ex is None or not ex.first_ns:
            return 0.0
        now_s = now // _NS
        lo = now_s - self.rate_window_s
        total = sum(c for s, c in ex.buckets if lo < s <= now_s)
        span = min(self.rate_window_s, max(1, now_s - ex.first_ns // _NS + 1))
        return total / span

    def health(self, exchange: str, now: int) -> ExchangeHealth:
        """The ``ExchangeHealth`` of ``exchange`` at ``now`` (ns since the epoch)."""
        ex = self._get(exchange)
        m = ex.metrics
        age = (now - ex.last_ns) / _NS if ex.last_ns else None
        fresh = age is not None and age <= self.stale_after_s
        if "connected" in m:
            connected = bool(m["connected"])
        elif ex.feeds:
            connected = all(s in _UP_STATES for s in ex.feeds.values())
        else:
            connected = fresh
        live = sum(1 for v in ex.books.values() if v)
        total = len(ex.books)
        books_live = m.get("books_live", live)
        books_total = m.get("books_total", total)
        reasons: list[str] = []
        if not connected:
            down = sorted(f for f, s in ex.feeds.items() if s not in _UP_STATES)
            reasons.append("disconnected" + (f" ({', '.join(down)})" if down else ""))
        stale_feeds = sorted(f for f, s in ex.feeds.items() if s is FeedState.STALE)
        if stale_feeds:
            reasons.append(f"stale feed ({', '.join(stale_feeds)})")
        if age is None:
            reasons.append("no message yet")
        elif not fresh:
            reasons.append(f"last message {age:.1f} s ago")
        if books_live < books_total:
            reasons.append(f"{books_total - books_live}/{books_total} books resyncing")
        reasons.extend(ex.unhealthy[k] for k in sorted(ex.unhealthy))
        return ExchangeHealth(
            exchange=exchange,
            connected=connected,
            healthy=not reasons,
            last_message_age_s=age,
            msgs_per_s=self.msgs_per_s(exchange, now),
            reconnects=max(ex.reconnects, m.get("reconnects", 0)),
            errors=max(ex.errors, m.get("errors", 0)),
            gaps=max(ex.gaps, m.get("gaps", 0)),
            resyncs=max(ex.resyncs, m.get("resyncs", 0)),
            books_live=books_live,
            books_total=books_total,
            detail="; ".join(reasons),
            ts_local=now,
        )

    def snapshot(self, now: int, exchanges: Iterable[str] | None = None) -> list[ExchangeHealth]:
        """``ExchangeHealth`` of every known exchange (or of ``exchanges``), sorted by name."""
        names = sorted(self._ex) if exchanges is None else list(exchanges)
        return [self.health(name, now) for name in names]
