"""`buonispesa serve` as a newcomer runs it: a process, its printed curl, Ctrl+C."""

from __future__ import annotations

import http.client
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator

from buonispesa.server import build_app
from buonispesa.settings import Settings
from core.bootstrap import Core
from core.storage.engine import make_engine
from tests.serving import listening_port

BIN = Path(sys.executable).parent / "buonispesa"


def _environment(database: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))}
    keep.pop("PUBLIC_BASE_URL", None)
    return {**keep, "BUONISPESA_DATABASE_URL": f"sqlite+aiosqlite:///{database}", **extra}


class Served:
    def __init__(self, process: subprocess.Popen[str], log: Path) -> None:
        self.process = process
        self.log = log

    @classmethod
    def start(cls, command: list[str], *, env: dict[str, str], cwd: Path) -> Served:
        """`command` (`buonispesa serve …`) started in `cwd`, its output in cwd/serve.log."""
        log = cwd / "serve.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                command, env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, text=True
            )
        return cls(process, log)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def port(self, within: float = 60.0) -> int:
        """The port `serve --port 0` printed it listens on, once it listens."""
        return listening_port(self.wait_for("Running on", within))

    def wait_for(self, text: str, within: float = 60.0) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            output = self.output()
            if text in output:
                return output
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not printed; output:\n{self.output()}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, int]]:
    env = _environment(tmp_path / "serve.sqlite3")
    subprocess.run([str(BIN), "demo"], env=env, cwd=tmp_path, check=True, capture_output=True)
    server = Served.start([str(BIN), "serve", "--port", "0"], env=env, cwd=tmp_path)
    process = server.process
    try:
        yield server, server.port()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_development_serve_prints_a_signed_curl_that_works(served: tuple[Served, int]) -> None:
    server, port = served
    output = server.wait_for("Running on")
    [curl] = [line for line in output.splitlines() if line.startswith("curl ")]
    assert f"http://127.0.0.1:{port}/sms/twilio" in curl and "X-Twilio-Signature" in curl

    answer = subprocess.run(shlex.split(curl), capture_output=True, text=True, timeout=10)
    assert answer.stdout == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    # The reply is printed by the development console sender, not sent anywhere.
    assert "300,00" in server.wait_for("SMS to +393331000001")

    unsigned = [part for part in shlex.split(curl) if not part.startswith("X-Twilio")]
    unsigned.remove("-H")
    status = subprocess.run(
        [*unsigned, "-o", "/dev/null", "-w", "%{http_code}"], capture_output=True, text=True
    )
    assert status.stdout == "403"

    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=20) == 0


def test_port_zero_listens_on_a_free_port_and_prints_it(served: tuple[Served, int]) -> None:
    """`serve --port 0`: the kernel picks the port, held from the start; the banner, the
    printed curl and aiohttp's line all show it, and the SMS webhook answers there."""
    server, port = served
    output = server.wait_for("Running on")
    assert port != 0
    assert f"Running on http://127.0.0.1:{port}" in output
    assert ":0/" not in output and "127.0.0.1:0 " not in output
    found = re.search(r"made up for this run: ([A-Za-z0-9_-]+)\.", " ".join(output.split()))
    assert found is not None, output
    url = f"http://127.0.0.1:{port}/sms/twilio"
    form = {"From": "+393331000001", "To": "+390733905000", "Body": "SALDO"}
    form["MessageSid"] = "SM" + "7" * 32
    signature = RequestValidator(found.group(1)).compute_signature(url, form)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            "/sms/twilio",
            body=urllib.parse.urlencode(form),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        answer = connection.getresponse()
        assert answer.status == 200
        assert answer.read().decode().endswith("<Response></Response>")
    finally:
        connection.close()
    assert "300,00" in server.wait_for("SMS to +393331000001")


ROOT = Path(__file__).resolve().parents[2]


def test_the_readmes_recipe_signs_other_words_the_development_server_answers(
    served: tuple[Served, int],
) -> None:
    """The printed curl with another Body is refused (its signature covers every field):
    README's recipe signs other words with the printed token, and they are answered."""
    server, port = served
    output = server.wait_for("Running on")
    found = re.search(r"made up for this run: ([A-Za-z0-9_-]+)\.", " ".join(output.split()))
    assert found is not None, output
    [block] = [
        block
        for block in re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S)
        if "signed_curl" in block
    ]
    program, *arguments = shlex.split(block.replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
    assert program == ".venv/bin/python"
    arguments = [found.group(1) if word == "TOKEN" else word for word in arguments]
    recipe = subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert recipe.returncode == 0, recipe.stderr
    answer = subprocess.run(shlex.split(recipe.stdout), capture_output=True, text=True, timeout=10)
    assert answer.stdout == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert "Forno Chienti" in server.wait_for("SMS to +393331000002")


def _get(port: int, target: str, **headers: str) -> int:
    """One GET, redirects not followed: the status the server answered."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_access_log_holds_no_query_string_nor_anyone_in_a_path(
    served: tuple[Served, int],
) -> None:
    """Office searches are codici fiscali and phone numbers: `privacy erase` cannot reach
    the server's log, so they must never be written there."""
    server, port = served
    server.wait_for("Running on")
    codice_fiscale, phone = "RSSMRA85T10A739J", "3331234567"
    search = _get(
        port,
        f"/office/applications?q={codice_fiscale}",
        Referer=f"http://127.0.0.1:{port}/office/applications?q={phone}",
        **{"User-Agent": "Browser-Of-Maria-Rossi"},
    )
    typed = _get(port, f"/office/applications/{codice_fiscale.lower()}/x+39{phone}")
    assert _get(port, "/healthz?from=" + phone) == 200

    output = server.wait_for('"GET /healthz" 200')
    assert f'"GET /office/applications" {search} ' in output, output
    assert f'"GET /office/applications/***/x***" {typed} ' in output, output
    # Method, path, status, size and seconds: no client address, Referer or User-Agent.
    assert re.search(r'INFO aiohttp\.access: "GET /healthz" 200 \d+ \d+\.\d{3}s$', output, re.M)
    for personal in (codice_fiscale, codice_fiscale.lower(), phone, "Maria-Rossi", "?q="):
        assert personal not in output, personal


def _raw(port: int, request: bytes) -> bytes:
    """`request` sent as it is (aiohttp's client would refuse to send it): the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_the_server_log_holds_no_one_from_a_bad_request_nor_a_spaced_path(
    served: tuple[Served, int],
) -> None:
    """A request line too long for aiohttp's parser was logged with its start, query string
    included; a codice fiscale or a phone typed with spaces or dashes passed the mask."""
    server, port = served
    server.wait_for("Running on")
    target = "/office/applications?q=RSSMRA85T10A562S+" + "x" * 9000
    answer = _raw(port, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.0 400 "), answer[:100]
    spaced = _get(port, "/office/applications/RSSMRA%2085T10%20A562S")
    dashed = _get(port, "/office/applications/RSS-MRA-85T10-A562S/receipt.pdf")
    phone = _get(port, "/office/applications/%2B39%20333%20987%206543")
    assert _get(port, "/healthz") == 200

    output = server.wait_for('"GET /healthz" 200')
    # The bad request is still there for operators, as what it was and not what it held.
    assert "ERROR aiohttp.server: bad HTTP request: LineTooLong, a line over 8190 bytes" in output
    assert f'"GET /office/applications/***" {spaced} ' in output, output
    assert f'"GET /office/applications/***/receipt.pdf" {dashed} ' in output, output
    assert f'"GET /office/applications/***" {phone} ' in output, output
    for personal in ("RSSMRA", "85T10", "A562S", "xxxx", "?q=", "333 987", "987 6543", "9876543"):
        assert personal not in output, personal


def test_serve_names_each_bad_variable(tmp_path: Path) -> None:
    env = _environment(
        tmp_path / "bad.sqlite3",
        TWILIO_ACCOUNT_SID="AC123",
        TWILIO_FROM_NUMBER="not a number",
        BUONISPESA_SMS_RATE_PER_SECOND="0",
    )
    result = subprocess.run(
        [str(BIN), "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "BUONISPESA_SMS_RATE_PER_SECOND" in result.stderr
    env.pop("BUONISPESA_SMS_RATE_PER_SECOND")
    env["BUONISPESA_LANGUAGE"] = "it"
    result = subprocess.run(
        [str(BIN), "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    for sentence in (
        "TWILIO_AUTH_TOKEN: manca (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN e TWILIO_FROM_NUMBER "
        "vanno impostate insieme)",
        "TWILIO_ACCOUNT_SID: deve essere AC seguito da 32 caratteri esadecimali",
        "TWILIO_FROM_NUMBER: non è un numero di telefono valido (ad esempio +390733905000)",
    ):
        assert sentence in said, said


async def test_without_twilio_a_public_server_refuses_every_sms(sqlite_url: str) -> None:
    """No auth token, nothing to check a signature with: 403, whatever the signature."""
    settings = Settings(
        _env_file=None, BUONISPESA_DATABASE_URL=sqlite_url, PUBLIC_BASE_URL="https://example.org"
    )
    core = Core(engine=make_engine(sqlite_url))
    app = await build_app(core, settings, host="0.0.0.0", port=8080, with_telegram=False)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    form = {"MessageSid": "SM" + "1" * 32, "From": "+393331000001", "Body": "SALDO"}
    signature = RequestValidator("guess").compute_signature("https://example.org/sms/twilio", form)
    try:
        async with aiohttp.ClientSession() as http:
            url = "http://{}:{}/sms/twilio".format(*sock.getsockname())
            for headers in ({}, {"X-Twilio-Signature": signature}):
                async with http.post(url, data=form, headers=headers) as response:
                    assert response.status == 403
    finally:
        await runner.cleanup()
        await core.close()


def test_development_serve_never_prints_the_operators_token(tmp_path: Path) -> None:
    secret = "operators-own-secret-token-42"
    env = _environment(tmp_path / "serve.sqlite3", TWILIO_AUTH_TOKEN=secret)
    subprocess.run([str(BIN), "demo"], env=env, cwd=tmp_path, check=True, capture_output=True)
    server = Served.start([str(BIN), "serve", "--port", "0"], env=env, cwd=tmp_path)
    process = server.process
    try:
        output = server.wait_for("Running on")
        assert secret not in output
        assert "Set TWILIO_AUTH_TOKEN" not in output
        assert "with TWILIO_AUTH_TOKEN" in output
        [curl] = [line for line in output.splitlines() if line.startswith("curl ")]
        answer = subprocess.run(shlex.split(curl), capture_output=True, text=True, timeout=10)
        assert answer.stdout.endswith("<Response></Response>")
        # Nor do the replies or the Twilio client's request lines show it.
        server.wait_for("SMS to +393331000001")
        assert secret not in server.output()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
