"""The series /metrics exposes, written by prometheus-client and read back by its parser."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from core.metrics import DatabaseFigures, Metrics, scrape_registry


def samples(metrics: Metrics, figures: DatabaseFigures) -> dict[str, list[Sample]]:
    text = generate_latest(scrape_registry(metrics, figures)).decode()
    return {
        family.name + ":" + family.type: family.samples
        for family in text_string_to_metric_families(text)
    }


def value(found: list[Sample], name: str, **labels: str) -> float:
    [sample] = [s for s in found if s.name == name and s.labels == labels]
    return sample.value


def test_counters_and_latency_histogram() -> None:
    metrics = Metrics()
    metrics.inbound.labels(channel="sms", result="processed").inc()
    metrics.inbound.labels(channel="sms", result="processed").inc()
    metrics.inbound.labels(channel="sms", result="forbidden").inc()
    metrics.latency.labels(route="/sms/twilio", method="POST").observe(0.003)
    metrics.latency.labels(route="/sms/twilio", method="POST").observe(0.2)

    found = samples(metrics, DatabaseFigures())
    inbound = found["buonispesa_inbound_messages:counter"]
    name = "buonispesa_inbound_messages_total"
    assert value(inbound, name, channel="sms", result="processed") == 2
    assert value(inbound, name, channel="sms", result="forbidden") == 1
    latency = found["buonispesa_http_request_duration_seconds:histogram"]
    bucket = "buonispesa_http_request_duration_seconds_bucket"
    route = {"route": "/sms/twilio", "method": "POST"}
    assert value(latency, bucket, le="0.0025", **route) == 0
    assert value(latency, bucket, le="0.005", **route) == 1
    assert value(latency, bucket, le="0.25", **route) == 2
    assert value(latency, bucket, le="+Inf", **route) == 2
    assert value(latency, "buonispesa_http_request_duration_seconds_count", **route) == 2
    assert metrics.value(name, channel="sms", result="processed") == 2
    assert metrics.value(name, channel="telegram", result="processed") == 0


def test_database_figures_give_rows_backlog_charges_and_confirmations() -> None:
    figures = DatabaseFigures(
        outbox={("sms", "pending"): 2, ("sms", "sending"): 1, ("sms", "sent"): 5},
        charges={"confirmed": 4, "pending": 1},
        confirmed_payments=4,
    )
    found = samples(Metrics(), figures)
    rows = found["buonispesa_outbox_messages:gauge"]
    assert value(rows, "buonispesa_outbox_messages", channel="sms", status="sent") == 5
    backlog = found["buonispesa_outbox_backlog:gauge"]
    assert value(backlog, "buonispesa_outbox_backlog", channel="sms") == 3
    charges = found["buonispesa_charges:gauge"]
    assert value(charges, "buonispesa_charges", status="pending") == 1
    confirmed = found["buonispesa_payment_confirmations:counter"]
    assert value(confirmed, "buonispesa_payment_confirmations_total") == 4


def test_each_metrics_instance_counts_only_its_own_traffic() -> None:
    first, second = Metrics(), Metrics()
    first.requests.labels(route="/healthz", method="GET", status="200").inc()
    name = "buonispesa_http_requests_total"
    assert first.value(name, route="/healthz", method="GET", status="200") == 1
    assert second.value(name, route="/healthz", method="GET", status="200") == 0


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    metrics.reports.labels(channel="sms", status='q"b\\n\n').inc()
    text = generate_latest(metrics.registry).decode()
    assert 'status="q\\"b\\\\n\\n"} 1.0' in text
    [family] = [
        f for f in text_string_to_metric_families(text) if f.name == "buonispesa_delivery_reports"
    ]
    assert family.samples[0].labels["status"] == 'q"b\\n\n'


def test_series_are_the_labelled_children_however_many() -> None:
    metrics = Metrics()
    name = "buonispesa_http_requests_total"
    metrics.series(metrics.requests, "/sms/twilio", "POST", "200").inc()
    metrics.series(metrics.requests, "/sms/twilio", "POST", "200").inc()
    metrics.requests.labels(route="/sms/twilio", method="POST", status="200").inc()
    metrics.series(metrics.requests, "/sms/twilio", "POST", "403").inc()
    assert metrics.value(name, route="/sms/twilio", method="POST", status="200") == 3
    assert metrics.value(name, route="/sms/twilio", method="POST", status="403") == 1
    metrics.series(metrics.latency, "/sms/twilio", "POST").observe(0.003)
    count = "buonispesa_http_request_duration_seconds_count"
    assert metrics.value(count, route="/sms/twilio", method="POST") == 1
    # More label values than are kept: each still counted in its own series.
    for number in range(1_000):
        for _ in range(2):
            metrics.series(metrics.inbound, "sms", f"result-{number}").inc()
    name = "buonispesa_inbound_messages_total"
    assert metrics.value(name, channel="sms", result="result-0") == 2
    assert metrics.value(name, channel="sms", result="result-999") == 2
