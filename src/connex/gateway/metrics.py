"""Prometheus metrics of the gateway and of the runtime behind it.

One ``CollectorRegistry`` per app (no global state, so several apps can live in one
process, e.g. in tests). Values are read at scrape time from the hub's counters and
the runner's health, so the hot path only increments plain integers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .catalog import RunnerView
    from .stream import Hub

__all__ = ["GatewayCollector", "HttpCounters", "make_registry", "render"]


class HttpCounters:
    """REST responses by (route, status) and auth refusals by code."""

    def __init__(self) -> None:
        self.responses: dict[tuple[str, int], int] = {}
        self.auth_failures: dict[str, int] = {}

    def response(self, route: str, status: int) -> None:
        key = (route, status)
        self.responses[key] = self.responses.get(key, 0) + 1

    def auth_failure(self, code: str) -> None:
        self.auth_failures[code] = self.auth_failures.get(code, 0) + 1


class GatewayCollector(Collector):
    def __init__(self, hub: Hub, view: RunnerView, http: HttpCounters) -> None:
        self.hub = hub
        self.view = view
        self.http = http

    def collect(self) -> Iterator[Any]:
        s = self.hub.stats
        yield GaugeMetricFamily(
            "connex_gateway_clients", "Connected websocket clients", value=len(self.hub.clients)
        )
        for name, value, doc in (
            ("connex_gateway_events_in", s.events_in, "Events received from the runtime"),
            (
                "connex_gateway_messages_encoded",
                s.encoded,
                "Stream messages encoded (once per stream)",
            ),
            (
                "connex_gateway_messages_sent",
                s.sent,
                "Messages (events) delivered to clients; a frame may carry a batch of them",
            ),
            ("connex_gateway_frames_sent", s.frames, "Websocket frames written to clients"),
            (
                "connex_gateway_slow_client_resyncs",
                s.resyncs,
                "Book resyncs forced by a slow client",
            ),
            (
                "connex_gateway_slow_client_disconnects",
                s.kicked,
                "Clients disconnected for being too slow",
            ),
            ("connex_gateway_publish_errors", s.publish_errors, "Events that failed to publish"),
            ("connex_gateway_subscriptions", s.subscriptions, "Accepted subscribe commands"),
        ):
            yield CounterMetricFamily(name, doc, value=value)
        http = CounterMetricFamily(
            "connex_gateway_http_responses", "REST responses", labels=["route", "status"]
        )
        for (route, status), n in sorted(self.http.responses.items()):
            http.add_metric([route, str(status)], n)
        yield http
        auth = CounterMetricFamily(
            "connex_gateway_auth_failures", "Refused requests", labels=["code"]
        )
        for code, n in sorted(self.http.auth_failures.items()):
            auth.add_metric([code], n)
        yield auth
        gauges = {
            "connected": GaugeMetricFamily(
                "connex_exchange_connected", "All feeds connected", labels=["exchange"]
            ),
            "healthy": GaugeMetricFamily(
                "connex_exchange_healthy", "Exchange healthy", labels=["exchange"]
            ),
            "books_live": GaugeMetricFamily(
                "connex_books_live", "Verified books", labels=["exchange"]
            ),
            "books_total": GaugeMetricFamily(
                "connex_books_total", "Books subscribed", labels=["exchange"]
            ),
            "msgs_per_s": GaugeMetricFamily(
                "connex_exchange_msgs_per_second", "Frame rate", labels=["exchange"]
            ),
        }
        counters = {
            "reconnects": CounterMetricFamily(
                "connex_exchange_reconnects", "Reconnects", labels=["exchange"]
            ),
            "errors": CounterMetricFamily(
                "connex_exchange_errors", "Feed errors", labels=["exchange"]
            ),
            "gaps": CounterMetricFamily("connex_book_gaps", "Sequence gaps", labels=["exchange"]),
            "resyncs": CounterMetricFamily(
                "connex_book_resyncs", "Book resyncs", labels=["exchange"]
            ),
        }
        for h in self.view.health():
            for field, fam in gauges.items():
                fam.add_metric([h.exchange], float(getattr(h, field)))
            for field, fam in counters.items():
                fam.add_metric([h.exchange], float(getattr(h, field)))
        yield from gauges.values()
        yield from counters.values()


def make_registry(hub: Hub, view: RunnerView, http: HttpCounters) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatewayCollector(hub, view, http))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of ``registry``."""
    return generate_latest(registry)
