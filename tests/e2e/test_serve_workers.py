"""`buonispesa serve --workers 2`: two processes on one port, one outbox sender."""

from __future__ import annotations

import re
import signal
import subprocess
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from buonispesa.demo import DEMO_CITIZENS
from tests.e2e.test_sms_serve import BIN, Served, _environment

MESSAGES = 12


def _post_signed(port: int, token: str, sender: str, to: str) -> int:
    url = f"http://127.0.0.1:{port}/sms/twilio"
    form = {"From": sender, "To": to, "Body": "SALDO", "MessageSid": "SM" + uuid.uuid4().hex}
    signature = RequestValidator(token).compute_signature(url, form)
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode(), headers={"X-Twilio-Signature": signature}
    )
    # urllib opens a new connection per request: the kernel picks a process for each.
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def _webhook_requests(port: int) -> float:
    """The group's count of answered SMS webhooks, as one scrape of /metrics says it."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "buonispesa_http_requests_total"
        and sample.labels.get("route") == "/sms/twilio"
        and sample.labels.get("status") == "200"
    )


def test_two_processes_share_the_port_and_one_delivers(tmp_path: Path) -> None:
    env = _environment(tmp_path / "serve.sqlite3")
    subprocess.run([str(BIN), "demo"], env=env, cwd=tmp_path, check=True, capture_output=True)
    server = Served.start(
        [str(BIN), "serve", "--port", "0", "--workers", "2"], env=env, cwd=tmp_path
    )
    process = server.process
    try:
        server.wait_for("process 1 (pid", within=60)
        port = server.port()  # the parent picked it and holds it; both children serve it
        output = server.wait_for("Running on", within=60)
        # The token the parent made up is the one both children check signatures with.
        token = re.search(r"made up for this run:\s+([A-Za-z0-9_-]+)", output)
        assert token is not None, output
        [curl] = [line for line in output.splitlines() if line.startswith("curl ")]
        to = re.search(r"To=(\+\d+)", curl)
        assert to is not None, curl

        senders = [citizen.phone for citizen in DEMO_CITIZENS[:3]]
        for number in range(MESSAGES):
            assert _post_signed(port, token.group(1), senders[number % 3], to.group(1)) == 200

        # Every reply goes out, from the one elected sender (process 0).
        for phone in senders:
            server.wait_for(f"SMS to {phone}", within=30)
        answered_by = set(
            re.findall(r"\[(\d)\] \d+ INFO aiohttp\.access.*POST /sms/twilio", server.output())
        )
        assert answered_by == {"0", "1"}, server.output()
        # Whichever process answers a scrape, it counts the group's requests.
        for _ in range(6):
            assert _webhook_requests(port) == MESSAGES

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    children = re.findall(r"process \d \(pid (\d+)\)", server.output())
    assert len(children) == 2
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid)


def test_a_second_start_on_a_port_in_use_is_refused_before_it_says_anything(
    tmp_path: Path,
) -> None:
    """SO_REUSEPORT would let a second `--workers` group share the port (two outbox
    senders); it is refused as a single process is, and neither prints the banner."""
    env = _environment(tmp_path / "serve.sqlite3")
    subprocess.run([str(BIN), "demo"], env=env, cwd=tmp_path, check=True, capture_output=True)
    server = Served.start(
        [str(BIN), "serve", "--port", "0", "--workers", "2"], env=env, cwd=tmp_path
    )
    first = server.process
    try:
        server.wait_for("process 1 (pid", within=60)
        port = server.port()
        server.wait_for("Running on", within=60)
        command = [str(BIN), "serve", "--port", str(port)]
        for workers in (["--workers", "2"], []):
            second = subprocess.run(
                [*command, *workers],
                env={**env, "BUONISPESA_LANGUAGE": "en"},
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
            said = second.stdout + second.stderr
            assert second.returncode == 2, said
            assert f"Cannot listen on 127.0.0.1:{port}" in said, said
            assert "address already in use" in said, said
            assert "buonispesa on" not in said and "Running on" not in said, said
            assert "serving" not in said, said
        # The first group still serves; its children's access log holds no query string.
        health = f"http://127.0.0.1:{port}/healthz?q=RSSMRA85T10A739J"
        with urllib.request.urlopen(health, timeout=10) as answer:
            assert answer.status == 200
        server.wait_for('"GET /healthz" 200')
        assert "RSSMRA85T10A739J" not in server.output()
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert server.output().count("buonispesa on http://") == 1


def _state(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except FileNotFoundError:
        return "zombie"
