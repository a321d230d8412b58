"""Per-feed metrics: counts, rates and latency percentiles (bounded memory)."""

from __future__ import annotations

from array import array

__all__ = ["FeedMetrics", "LatencyWindow"]


class LatencyWindow:
    """The last ``size`` samples (ns) in a ring buffer; percentiles on demand."""

    __slots__ = ("_buf", "_i", "_n", "size")

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._buf = array("q", bytes(8 * size))
        self._i = 0
        self._n = 0

    def add(self, ns: int) -> None:
        self._buf[self._i] = ns
        self._i = (self._i + 1) % self.size
        if self._n < self.size:
            self._n += 1

    def __len__(self) -> int:
        return self._n

    def percentiles(self, *ps: float) -> list[float | None]:
        """Percentiles in microseconds (``None`` when empty)."""
        if not self._n:
            return [None for _ in ps]
        data = sorted(self._buf[: self._n])
        out: list[float | None] = []
        for p in ps:
            idx = min(self._n - 1, max(0, round(p / 100 * (self._n - 1))))
            out.append(data[idx] / 1000)
        return out


class FeedMetrics:
    """Messages, message rate and two latencies for one feed.

    ``exchange_to_receive``: local receive time minus the exchange's event time (clock
    skew included). ``receive_to_consumer``: consumer hand-off time minus receive time.
    """

    __slots__ = (
        "_rate_count",
        "_rate_t0",
        "exchange_to_receive",
        "messages",
        "msgs_per_s",
        "receive_to_consumer",
    )

    def __init__(self) -> None:
        self.messages = 0
        self.msgs_per_s = 0.0
        self.exchange_to_receive = LatencyWindow()
        self.receive_to_consumer = LatencyWindow()
        self._rate_t0 = 0
        self._rate_count = 0

    def tick(self, now_ns: int, count: bool = True) -> None:
        """Count one message (unless ``count`` is false) and refresh the rate once a second."""
        if count:
            self.messages += 1
        if not self._rate_t0:
            self._rate_t0 = now_ns
        elif now_ns - self._rate_t0 >= 1_000_000_000:
            self.msgs_per_s = (self.messages - self._rate_count) * 1e9 / (now_ns - self._rate_t0)
            self._rate_t0 = now_ns
            self._rate_count = self.messages

    def as_dict(self) -> dict[str, object]:
        e50, e95, e99 = self.exchange_to_receive.percentiles(50, 95, 99)
        c50, c95, c99 = self.receive_to_consumer.percentiles(50, 95, 99)
        return {
            "messages": self.messages,
            "msgs_per_s": round(self.msgs_per_s, 1),
            "exchange_to_receive_us": {"p50": e50, "p95": e95, "p99": e99},
            "receive_to_consumer_us": {"p50": c50, "p95": c95, "p99": c99},
        }
