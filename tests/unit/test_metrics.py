"""The Prometheus text exposition written by buonispesa.metrics."""

from __future__ import annotations

from buonispesa.metrics import Metrics, Sample, render_gauge


def test_counters_and_histogram_render_in_text_format() -> None:
    metrics = Metrics()
    metrics.inbound.inc(channel="sms", result="processed")
    metrics.inbound.inc(channel="sms", result="processed")
    metrics.inbound.inc(channel="sms", result="forbidden")
    metrics.latency.observe(0.003, route="/sms/twilio", method="POST")
    metrics.latency.observe(0.2, route="/sms/twilio", method="POST")
    text = "\n".join(metrics.render())

    assert "# TYPE buonispesa_inbound_messages_total counter" in text
    assert 'buonispesa_inbound_messages_total{channel="sms",result="processed"} 2' in text
    assert 'buonispesa_inbound_messages_total{channel="sms",result="forbidden"} 1' in text
    assert "# TYPE buonispesa_http_request_duration_seconds histogram" in text
    prefix = 'buonispesa_http_request_duration_seconds_bucket{method="POST",route="/sms/twilio",'
    assert prefix + 'le="0.0025"} 0' in text
    assert prefix + 'le="0.005"} 1' in text
    assert prefix + 'le="0.25"} 2' in text
    assert prefix + 'le="+Inf"} 2' in text
    assert (
        'buonispesa_http_request_duration_seconds_count{method="POST",route="/sms/twilio"} 2'
        in text
    )


def test_label_values_are_escaped() -> None:
    lines = render_gauge("x", "help", [Sample({"a": 'q"b\\n\n'}, 1.5)])
    assert lines[-1] == 'x{a="q\\"b\\\\n\\n"} 1.5'
