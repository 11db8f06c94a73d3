"""The Prometheus series `serve` exposes, on prometheus-client.

Counters and the latency histogram live in each process; under `serve --workers N` they
are kept in files of a folder the parent makes (PROMETHEUS_MULTIPROC_DIR), and every
scrape sums the group's. Figures that must agree across processes (outbox rows, charges,
confirmed payments) are read from the database at scrape time and exposed from a
snapshot, so a scrape never shows a stale label set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

# The `_created` series double the output and nothing here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # not annotated upstream

# prometheus-client's own variable: set before it is imported, its values live in files.
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# Outbox statuses that are not yet delivered: the backlog.
_WAITING = frozenset({"pending", "sending"})
# Children kept by Metrics.series; beyond that (label values nobody expected, such as
# made-up HTTP methods) each is looked up in prometheus-client as before.
_SERIES_KEPT = 512

M = TypeVar("M", Counter, Histogram)


class Metrics:
    """The process's series, in a registry of their own.

    Not the library's global registry: a process may build several applications
    (the tests build one per server) and each must count only its own traffic.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.inbound = Counter(
            "buonispesa_inbound_messages",
            "Inbound messages by channel and result "
            "(processed, duplicate, forbidden, invalid, error).",
            ["channel", "result"],
            registry=self.registry,
        )
        self.outbound = Counter(
            "buonispesa_outbound_messages",
            "Outbox delivery attempts by channel and result (sent, retry, failed).",
            ["channel", "result"],
            registry=self.registry,
        )
        self.reports = Counter(
            "buonispesa_delivery_reports",
            "Provider delivery reports by channel and reported status.",
            ["channel", "status"],
            registry=self.registry,
        )
        self.requests = Counter(
            "buonispesa_http_requests",
            "HTTP requests by route, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "buonispesa_http_request_duration_seconds",
            "HTTP request latency by route and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._series: dict[tuple[Counter | Histogram, tuple[str, ...]], Counter | Histogram] = {}

    def series(self, metric: M, *values: str) -> M:
        """`metric.labels(*values)` (values in the order of its label names), kept: the
        library checks the values and takes a lock on every `labels` call, and the
        webhooks count every request in two or three series."""
        key = (metric, values)
        found = self._series.get(key)
        if found is None:
            found = metric.labels(*values)
            if len(self._series) < _SERIES_KEPT:
                self._series[key] = found
        return found  # type: ignore[return-value]  # stored under its own metric

    def value(self, name: str, **labels: str) -> float:
        """A sample's value, 0 when never counted: `value("buonispesa_http_requests_total", …)`."""
        return self.registry.get_sample_value(name, labels) or 0.0


@dataclass(frozen=True, eq=False)  # hashed by identity: a registry keys its collectors
class DatabaseFigures:
    """What every process agrees on, read from the database at scrape time."""

    outbox: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (channel, status)
    charges: Mapping[str, int] = field(default_factory=dict)  # status -> count
    confirmed_payments: int = 0

    def collect(self) -> Iterable[Metric]:
        rows = GaugeMetricFamily(
            "buonispesa_outbox_messages",
            "Outbox rows by channel and status (all processes).",
            labels=["channel", "status"],
        )
        backlog: dict[str, int] = {}
        for (channel, status), count in sorted(self.outbox.items()):
            rows.add_metric([channel, status], count)
            if status in _WAITING:
                backlog[channel] = backlog.get(channel, 0) + count
        yield rows
        waiting = GaugeMetricFamily(
            "buonispesa_outbox_backlog",
            "Outbox rows not yet delivered (pending or being sent), by channel.",
            labels=["channel"],
        )
        for channel, count in sorted(backlog.items()):
            waiting.add_metric([channel], count)
        yield waiting
        charges = GaugeMetricFamily(
            "buonispesa_charges", "Payment requests by status.", labels=["status"]
        )
        for status, count in sorted(self.charges.items()):
            charges.add_metric([status], count)
        yield charges
        yield CounterMetricFamily(
            "buonispesa_payment_confirmations",
            "Payments confirmed with the citizen's code (all processes, from the database).",
            value=self.confirmed_payments,
        )


def scrape_registry(
    metrics: Metrics, figures: DatabaseFigures, processes_dir: str | None = None
) -> CollectorRegistry:
    """One scrape's view: the process's series and the database's figures of this moment.

    With `processes_dir` (`serve --workers N` sets PROMETHEUS_MULTIPROC_DIR for its
    children) the series of every process of the group, summed by prometheus-client's
    multiprocess collector: a scrape lands on whichever process the kernel picks, and each
    one's own counters alone would look to Prometheus like counters reset at every scrape."""
    registry = CollectorRegistry()
    if processes_dir is None:
        registry.register(metrics.registry)
    else:
        MultiProcessCollector(registry, path=processes_dir)  # type: ignore[no-untyped-call]
    registry.register(figures)
    return registry
