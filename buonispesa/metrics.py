"""In-process counters and histograms, written out in the Prometheus text format (0.0.4).

Small on purpose: the handful of series `serve` exposes does not justify a
dependency. Counters live in each process (Prometheus sums the processes);
figures that must agree across processes (outbox backlog, payments) are read
from the database at scrape time instead (see buonispesa.server).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _labels(values: dict[str, str]) -> Labels:
    return tuple(sorted(values.items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = labels + extra
    if not pairs:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in pairs) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


@dataclass
class Counter:
    name: str
    help: str
    values: dict[Labels, float] = field(default_factory=dict)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = _labels(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def get(self, **labels: str) -> float:
        return self.values.get(_labels(labels), 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for labels, value in sorted(self.values.items()):
            lines.append(f"{self.name}{format_labels(labels)} {_number(value)}")
        return lines


@dataclass
class _Series:
    buckets: list[int]
    total: float = 0.0
    count: int = 0


@dataclass
class Histogram:
    name: str
    help: str
    bounds: Sequence[float] = LATENCY_BUCKETS
    series: dict[Labels, _Series] = field(default_factory=dict)

    def observe(self, value: float, **labels: str) -> None:
        key = _labels(labels)
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = _Series([0] * len(self.bounds))
        for index, bound in enumerate(self.bounds):
            if value <= bound:
                series.buckets[index] += 1
        series.total += value
        series.count += 1

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for labels, series in sorted(self.series.items()):
            for bound, cumulative in zip(self.bounds, series.buckets, strict=True):
                le = (("le", _number(bound)),)
                lines.append(f"{self.name}_bucket{format_labels(labels, le)} {cumulative}")
            inf = (("le", "+Inf"),)
            lines.append(f"{self.name}_bucket{format_labels(labels, inf)} {series.count}")
            lines.append(f"{self.name}_sum{format_labels(labels)} {_number(series.total)}")
            lines.append(f"{self.name}_count{format_labels(labels)} {series.count}")
        return lines


@dataclass(frozen=True)
class Sample:
    """One value read at scrape time (from the database)."""

    labels: dict[str, str]
    value: float


def render_gauge(
    name: str, help_text: str, samples: Iterable[Sample], kind: str = "gauge"
) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for sample in samples:
        lines.append(f"{name}{format_labels(_labels(sample.labels))} {_number(sample.value)}")
    return lines


class Metrics:
    """The process's series. One instance per server, reachable from handlers as app[METRICS]."""

    def __init__(self) -> None:
        self.inbound = Counter(
            "buonispesa_inbound_messages_total",
            "Inbound messages by channel and result "
            "(processed, duplicate, forbidden, invalid, error).",
        )
        self.outbound = Counter(
            "buonispesa_outbound_messages_total",
            "Outbox delivery attempts by channel and result (sent, retry, failed).",
        )
        self.reports = Counter(
            "buonispesa_delivery_reports_total",
            "Provider delivery reports by channel and reported status.",
        )
        self.requests = Counter(
            "buonispesa_http_requests_total", "HTTP requests by route, method and status code."
        )
        self.latency = Histogram(
            "buonispesa_http_request_duration_seconds", "HTTP request latency by route and method."
        )

    def render(self) -> list[str]:
        lines: list[str] = []
        for metric in (self.inbound, self.outbound, self.reports, self.requests):
            lines.extend(metric.render())
        lines.extend(self.latency.render())
        return lines
