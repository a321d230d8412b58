"""Liquidation aggregator: one de-duplicated stream from every configured exchange.

Theory of operation
-------------------
Each exchange is one ``LiquidationSource``: anything with an ``exchange`` name and a
``stream()`` method returning an async iterator of ``connex.model.Liquidation``. The
aggregator runs one *supervisor task* per source:

* it iterates the source and hands every liquidation to the merge;
* when the source raises (or its stream ends), the supervisor logs it, marks the exchange
  unhealthy (in the aggregator's ``states`` and, when given, in a ``HealthTracker``),
  waits ``Backoff.delay(attempt)`` seconds (1 s, 2 s, 4 s, ... capped) and opens a new
  stream. It never gives up silently: with ``max_retries=None`` (the default) it retries
  forever; with a limit it logs an error and leaves the exchange marked ``FAILED`` with
  the last error in its health detail;
* one failing exchange never stops the others: every supervisor is independent and the
  merge only sees liquidations.

The merge normalizes each event (``PositionSide`` side, positive price and size; the
notional ``price * size`` is in the quote currency) and drops duplicates with a
``Deduper``: a liquidation is identified by its exchange liquidation id, or, when the
exchange sends none, by the fingerprint ``(exchange, symbol, side, price, size,
ts_exchange)``. Keys are remembered for a sliding window (10 minutes by default) of
receive time (``ts_local``) and the memory is bounded by ``max_entries``.

All decisions (backoff schedule, dedupe window, normalization) are pure and tested without
sockets; the I/O is in the sources. ``RunnerSource`` builds a source on the live
``connex.runtime.Runner``; a gateway client source only needs the same two members.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from connex.model import Liquidation, PositionSide

if TYPE_CHECKING:
    from .health import HealthTracker

__all__ = [
    "DEDUPE_WINDOW_NS",
    "Backoff",
    "Deduper",
    "EventStreamSource",
    "LiquidationAggregator",
    "LiquidationSource",
    "RunnerSource",
    "SourceState",
    "SourceStatus",
    "dedupe_key",
    "normalize_liquidation",
]

log = logging.getLogger("connex.aggregate.liquidations")

#: Default de-duplication window: 10 minutes, in nanoseconds of receive time.
DEDUPE_WINDOW_NS = 600 * 1_000_000_000


# -- sources ----------------------------------------------------------------------------
@runtime_checkable
class LiquidationSource(Protocol):
    """One exchange's liquidations.

    ``stream()`` is usually written as ``async def stream(self): ... yield liq``. Each call
    opens a fresh stream; the aggregator calls it again after a failure.
    """

    exchange: str

    def stream(self) -> AsyncIterator[Liquidation]:
        """Yield liquidations until the connection fails (raise) or ends (return)."""
        ...


class RunnerSource:
    """A ``LiquidationSource`` on the live runtime (``connex.runtime.Runner``).

    Each ``stream()`` call starts a ``Runner`` subscribed to ``Channel.LIQUIDATIONS`` of
    ``symbols`` on ``exchange`` and yields its ``Liquidation`` events. Dropped websockets
    are reconnected by the runtime's feeds themselves (their own backoff), which the
    ``FeedStatus`` events report; this stream fails, and the aggregator's backoff takes
    over, when the runner cannot be built (unknown exchange, bad symbols) or when every
    feed of the runner has stopped for good. Every event the runner emits (liquidations,
    ``FeedStatus``, ``FeedError``...) is also given to ``on_event`` when set, e.g.
    ``HealthTracker.on_event``.

    Args:
        exchange: Connex exchange name (``"binance"``).
        symbols: Unified derivative symbols (``"BTC/USDT:USDT"``).
        endpoints: ``{market: {"ws": url, "rest": url}}`` (the simulator's
            ``sim.endpoints()[exchange]``); ``None`` for the exchange's production URLs.
        on_event: Called with every event of the runner (before it is yielded).
        runner_factory: Builds the runner (default ``connex.runtime.Runner()``).
        name: Key of this source in the aggregator (default: the exchange).
    """

    def __init__(
        self,
        exchange: str,
        symbols: Sequence[str],
        *,
        endpoints: Mapping[str, Any] | None = None,
        on_event: Callable[[Any], None] | None = None,
        runner_factory: Callable[[], Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.exchange = exchange
        self.name = name or exchange
        self.symbols = list(symbols)
        self.endpoints = endpoints
        self.on_event = on_event
        self.runner_factory = runner_factory
        self.runner: Any = None

    def _make_runner(self) -> Any:
        if self.runner_factory is not None:
            return self.runner_factory()
        from connex.runtime import Runner  # the live runtime is optional for pure users

        return Runner()

    async def stream(self) -> AsyncIterator[Liquidation]:
        from connex.exchanges.base import Channel
        from connex.model import FeedState, FeedStatus

        runner = self._make_runner()
        kwargs: dict[str, Any] = {"symbols": self.symbols, "channels": [Channel.LIQUIDATIONS]}
        if self.endpoints is not None:
            kwargs["endpoints"] = self.endpoints
        runner.add(self.exchange, **kwargs)
        events = runner.events()
        on_event = self.on_event
        self.runner = runner
        try:
            async with runner:
                async for ev in events:
                    if on_event is not None:
                        on_event(ev)
                    t = type(ev)
                    if t is Liquidation:
                        if ev.exchange == self.exchange:
                            yield ev
                        continue
                    if (
                        t is FeedStatus
                        and ev.state is FeedState.STOPPED
                        and runner.feeds
                        and all(f.state is FeedState.STOPPED for f in runner.feeds)
                    ):
                        raise ConnectionError(
                            f"every {self.exchange} feed stopped: {ev.detail or 'no detail'}"
                        )
        finally:
            self.runner = None


class EventStreamSource:
    """A ``LiquidationSource`` over any async iterable of model events.

    ``open_stream()`` is called for each (re)connection and must return a fresh async
    iterable: a gateway client's event stream (``connex.client``), a bus subscription, a
    replay. Liquidations of ``exchange`` are yielded; every event also goes to
    ``on_event`` when set. When the iterable ends or raises, the aggregator's backoff
    applies.
    """

    def __init__(
        self,
        exchange: str,
        open_stream: Callable[[], AsyncIterable[Any]],
        *,
        on_event: Callable[[Any], None] | None = None,
        name: str | None = None,
    ) -> None:
        self.exchange = exchange
        self.name = name or exchange
        self.open_stream = open_stream
        self.on_event = on_event

    async def stream(self) -> AsyncIterator[Liquidation]:
        on_event = self.on_event
        async for ev in self.open_stream():
            if on_event is not None:
                on_event(ev)
            if type(ev) is Liquidation and ev.exchange == self.exchange:
                yield ev


# -- pure parts: backoff, normalization, dedupe -----------------------------------------
@dataclass(frozen=True)
class Backoff:
    """Reconnect delays: ``initial * factor ** (attempt - 1)`` seconds, capped at ``cap``.

    With the defaults the schedule is 1, 2, 4, 8, 16, 30, 30, ... seconds. ``reset_after``
    is how long a restarted stream must run (or the first item it must deliver) before the
    attempt counter goes back to zero.
    """

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    reset_after: float = 10.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.factor < 1 or self.cap < self.initial:
            raise ValueError(f"bad backoff {self!r}: need initial > 0, factor >= 1, cap >= initial")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError(f"attempt is 1-based, got {attempt}")
        # Cap the exponent too, so huge attempt numbers never overflow a float.
        exp = min(attempt - 1, 64)
        return min(self.cap, self.initial * self.factor**exp)

    def delays(self) -> Iterator[float]:
        """The infinite schedule ``delay(1), delay(2), ...``."""
        attempt = 1
        while True:
            yield self.delay(attempt)
            attempt += 1


_SIDE_ALIASES: dict[str, PositionSide] = {
    "long": PositionSide.LONG,
    "short": PositionSide.SHORT,
}


def normalize_liquidation(liq: Liquidation) -> Liquidation | None:
    """Return ``liq`` with a ``PositionSide`` side, or ``None`` if it is unusable.

    Unusable means: an unknown side, a non-positive price or size, or an empty exchange or
    symbol. Connectors already map their venue's side convention to the liquidated
    *position*; a source that delivers the plain strings ``"long"``/``"short"`` (a gateway
    client decoding JSON loosely) is accepted and converted.
    """
    side = liq.side
    if type(side) is not PositionSide:
        norm = _SIDE_ALIASES.get(str(side).lower())
        if norm is None:
            return None
        liq = _replace_side(liq, norm)
    try:
        if not liq.price > 0 or not liq.size > 0:
            return None
    except (TypeError, ArithmeticError):
        return None
    if not liq.exchange or not liq.symbol:
        return None
    return liq


def _replace_side(liq: Liquidation, side: PositionSide) -> Liquidation:
    import msgspec

    return msgspec.structs.replace(liq, side=side)


DedupeKey = tuple[Any, ...]


def dedupe_key(liq: Liquidation) -> DedupeKey:
    """The identity of a liquidation: its exchange id, or a fingerprint without one.

    The fingerprint uses the exchange's event time (``ts_exchange``), never the receive
    time, so the same liquidation received twice maps to the same key. ``Decimal`` values
    compare and hash by value, so ``"60000.0"`` and ``"60000"`` are the same price.
    """
    if liq.liquidation_id:
        return ("id", liq.exchange, liq.symbol, liq.liquidation_id)
    return ("fp", liq.exchange, liq.symbol, liq.side, liq.price, liq.size, liq.ts_exchange)


class Deduper:
    """Remembers liquidation keys for a sliding window of receive time.

    The window clock is the highest ``ts_local`` seen so far (``ts_exchange`` when a
    source leaves ``ts_local`` at 0). A key seen at ``t`` is remembered while
    ``clock - t <= window_ns``. At most ``max_entries`` keys are kept (the oldest go
    first), so memory stays bounded even under a burst.
    """

    __slots__ = ("_order", "_seen", "clock", "evicted", "max_entries", "window_ns")

    def __init__(self, window_ns: int = DEDUPE_WINDOW_NS, max_entries: int = 200_000) -> None:
        if window_ns <= 0 or max_entries <= 0:
            raise ValueError("window_ns and max_entries must be positive")
        self.window_ns = window_ns
        self.max_entries = max_entries
        self._seen: dict[DedupeKey, int] = {}
        self._order: deque[tuple[int, DedupeKey]] = deque()
        self.clock = 0
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._seen)

    @staticmethod
    def event_time(liq: Liquidation) -> int:
        return liq.ts_local or liq.ts_exchange

    def is_duplicate(self, liq: Liquidation) -> bool:
        """True if ``liq`` was seen within the window; otherwise remember it."""
        return self.check(dedupe_key(liq), self.event_time(liq))

    def check(self, key: DedupeKey, t: int) -> bool:
        """Core of ``is_duplicate`` on a precomputed key and time (ns)."""
        if t > self.clock:
            self.clock = t
            self._expire()
        seen = self._seen
        if key in seen:
            return True
        if t < self.clock - self.window_ns:
            return False  # arrived later than the window: cannot be a remembered duplicate
        seen[key] = t
        self._order.append((t, key))
        if len(seen) > self.max_entries:
            self._pop_oldest()
        return False

    def _expire(self) -> None:
        horizon = self.clock - self.window_ns
        order = self._order
        while order and order[0][0] < horizon:
            self._pop_oldest()

    def _pop_oldest(self) -> None:
        t, key = self._order.popleft()
        if self._seen.get(key) == t:
            del self._seen[key]
            self.evicted += 1


def source_name(src: LiquidationSource) -> str:
    """A source's key in the aggregator: its ``name`` attribute, else its exchange."""
    return getattr(src, "name", None) or src.exchange


# -- supervision ------------------------------------------------------------------------
class SourceState(enum.StrEnum):
    """Life cycle of one source inside the aggregator."""

    STARTING = "starting"
    RUNNING = "running"
    BACKOFF = "backoff"
    FAILED = "failed"  # gave up after ``max_retries`` (logged, visible in health)
    FINISHED = "finished"  # the stream ended and no retry was allowed
    STOPPED = "stopped"


@dataclass
class SourceStatus:
    """What the aggregator knows about one source (``LiquidationAggregator.states``)."""

    exchange: str
    name: str = ""
    state: SourceState = SourceState.STARTING
    attempt: int = 0  # consecutive failures since the last healthy period
    failures: int = 0  # total failures
    restarts: int = 0
    delivered: int = 0
    duplicates: int = 0
    invalid: int = 0
    last_error: str = ""
    next_delay: float = 0.0
    delays: list[float] = field(default_factory=list)  # the last backoffs used (bounded)

    @property
    def healthy(self) -> bool:
        return self.state is SourceState.RUNNING and self.attempt == 0

    @property
    def detail(self) -> str:
        if self.state is SourceState.BACKOFF:
            return (
                f"liquidation stream failed {self.attempt}x, retrying in "
                f"{self.next_delay:g} s: {self.last_error}"
            )
        if self.state is SourceState.FAILED:
            return f"liquidation stream given up after {self.failures} failures: {self.last_error}"
        if self.state is SourceState.RUNNING and self.attempt:
            return f"liquidation stream reconnected after: {self.last_error}"
        return ""


_DONE = object()
_MAX_DELAYS_KEPT = 64


class LiquidationAggregator:
    """Merges the liquidation streams of many exchanges into one async iterator.

    Usage::

        agg = LiquidationAggregator([RunnerSource("binance", ["BTC/USDT:USDT"]), other])
        async with agg:
            async for liq in agg:
                print(liq.exchange, liq.side, liq.notional)

    Args:
        sources: Usually one ``LiquidationSource`` per exchange. Two redundant sources of
            one exchange (direct connector + gateway) need distinct ``name`` attributes;
            the dedupe then drops the second copy of each liquidation.
        backoff: The reconnect schedule.
        backoffs: Per-source overrides of ``backoff``, keyed by source name (exchange).
        max_retries: ``None`` retries forever; ``N`` gives up (loudly) after N retries.
        dedupe: The ``Deduper`` (default: 10-minute window).
        health: Optional ``HealthTracker`` told when an exchange's source fails/recovers.
        queue_size: Bound of the merge queue; a slow consumer pauses the sources.
        sleep: Awaitable sleep (injectable for tests); default ``asyncio.sleep``.
        monotonic: Clock in seconds for ``reset_after``; default ``time.monotonic``.
    """

    def __init__(
        self,
        sources: Sequence[LiquidationSource],
        *,
        backoff: Backoff | None = None,
        backoffs: Mapping[str, Backoff] | None = None,
        max_retries: int | None = None,
        dedupe: Deduper | None = None,
        health: HealthTracker | None = None,
        queue_size: int = 10_000,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        names = [source_name(s) for s in sources]
        if len(set(names)) != len(names):
            raise ValueError(
                f"source names must be unique (set ``name`` on redundant sources), got {names}"
            )
        self.sources = list(sources)
        self.backoff = backoff or Backoff()
        self.backoffs = dict(backoffs or {})
        self.max_retries = max_retries
        self.dedupe = dedupe or Deduper()
        self.health = health
        self.states: dict[str, SourceStatus] = {
            source_name(s): SourceStatus(s.exchange, source_name(s)) for s in sources
        }
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
        self._sleep = sleep or asyncio.sleep
        self._monotonic = monotonic or time.monotonic
        self._tasks: list[asyncio.Task[None]] = []
        self._running = 0
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------
    async def __aenter__(self) -> LiquidationAggregator:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def start(self) -> None:
        """Start one supervisor task per source (idempotent)."""
        if self._tasks or self._closed:
            return
        self._running = len(self.sources)
        for src in self.sources:
            self._tasks.append(asyncio.ensure_future(self._supervise(src)))

    async def aclose(self) -> None:
        """Stop every source."""
        self._closed = True
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for st in self.states.values():
            if st.state in (SourceState.RUNNING, SourceState.BACKOFF, SourceState.STARTING):
                st.state = SourceState.STOPPED
        self._running = 0
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_DONE)

    def __aiter__(self) -> AsyncIterator[Liquidation]:
        return self.stream()

    async def stream(self) -> AsyncIterator[Liquidation]:
        """Merged, normalized, de-duplicated liquidations of every source.

        Ends only when every source has finished or failed for good.
        """
        self.start()
        queue = self._queue
        while self._running > 0 or not queue.empty():
            item = await queue.get()
            if item is _DONE:
                continue
            yield item

    # -- the merge (pure, called by supervisors) ------------------------------------
    def accept(self, name: str, liq: Liquidation) -> Liquidation | None:
        """Normalize and de-duplicate one liquidation from source ``name``; ``None`` if dropped."""
        st = self.states[name]
        norm = normalize_liquidation(liq)
        if norm is None:
            st.invalid += 1
            log.debug("dropping unusable liquidation from %s: %r", name, liq)
            return None
        if self.dedupe.is_duplicate(norm):
            st.duplicates += 1
            return None
        st.delivered += 1
        return norm

    # -- supervision ----------------------------------------------------------------
    async def _supervise(self, src: LiquidationSource) -> None:
        name = source_name(src)
        st = self.states[name]
        backoff = self.backoffs.get(name, self.backoff)
        loop = asyncio.get_running_loop()
        try:
            while True:
                started = self._monotonic()
                st.state = SourceState.RUNNING
                recovered = st.attempt == 0
                timer = None
                if not recovered:
                    # A restarted stream that stays up for ``reset_after`` counts as healthy
                    # even when the market is quiet and no liquidation arrives.
                    timer = loop.call_later(backoff.reset_after, self._recovered, st)
                error: str
                try:
                    async for liq in src.stream():
                        if not recovered:
                            recovered = True
                            self._recovered(st)
                        out = self.accept(name, liq)
                        if out is not None:
                            await self._queue.put(out)
                    error = "stream ended"
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # any failure of one source is contained here
                    error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                finally:
                    if timer is not None:
                        timer.cancel()
                if st.attempt and self._monotonic() - started >= backoff.reset_after:
                    self._recovered(st)
                st.failures += 1
                st.attempt += 1
                st.last_error = error
                if self.max_retries is not None and st.attempt > self.max_retries:
                    st.state = (
                        SourceState.FINISHED if error == "stream ended" else SourceState.FAILED
                    )
                    log.error(
                        "%s liquidation source stopped after %d failures (%s); no more retries",
                        name,
                        st.failures,
                        error,
                    )
                    self._mark_unhealthy(st)
                    return
                delay = backoff.delay(st.attempt)
                st.next_delay = delay
                st.delays.append(delay)
                if len(st.delays) > _MAX_DELAYS_KEPT:
                    del st.delays[0]
                st.state = SourceState.BACKOFF
                log.warning(
                    "%s liquidation source failed (attempt %d): %s; retrying in %g s",
                    name,
                    st.attempt,
                    error,
                    delay,
                )
                self._mark_unhealthy(st)
                await self._sleep(delay)
                st.restarts += 1
        finally:
            self._running -= 1
            if not self._closed:
                with contextlib.suppress(asyncio.QueueFull):
                    self._queue.put_nowait(_DONE)

    def _recovered(self, st: SourceStatus) -> None:
        if st.attempt:
            log.info("%s liquidation source recovered after %d failures", st.name, st.attempt)
        st.attempt = 0
        if self.health is not None:
            self.health.clear_unhealthy(st.exchange, source=f"liquidations:{st.name}")

    def _mark_unhealthy(self, st: SourceStatus) -> None:
        if self.health is not None:
            self.health.mark_unhealthy(st.exchange, st.detail, source=f"liquidations:{st.name}")
