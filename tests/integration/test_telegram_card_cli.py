"""`buonispesa admin card`: the office prints a citizen's card with the bot's QR code."""

from __future__ import annotations

import asyncio
import re
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import buonispesa.cli.card  # noqa: F401  (registers `admin card`)
from buonispesa.cli import _register, app
from buonispesa.demo import DEMO_CITIZENS, DEMO_CODE
from tests.e2e.fake_telegram import BOT_USERNAME, TOKEN, FakeTelegram

_register()
runner = CliRunner()
HOLDER = DEMO_CITIZENS[0]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert runner.invoke(app, ["demo"]).exit_code == 0
    return url


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    """The fake Bot API in a thread of its own: the command runs its own event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    api = FakeTelegram()
    asyncio.run_coroutine_threadsafe(api.start(), loop).result(10)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", api.base_url)
    try:
        yield api
    finally:
        asyncio.run_coroutine_threadsafe(api.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def page_of(pdf: bytes) -> bytes:
    stream = re.search(rb"stream\n(.*?)\nendstream", pdf, re.S)
    assert stream is not None
    return zlib.decompress(stream.group(1))


def card_code_in(output: str) -> str:
    found = re.search(r"Card (\w+) ", output)
    assert found is not None, output
    return found.group(1)


def test_card_pdf_with_a_given_bot_username(database: str, tmp_path: Path) -> None:
    out = tmp_path / "card.pdf"
    result = runner.invoke(
        app,
        [
            "admin",
            "card",
            DEMO_CODE,
            HOLDER.codice_fiscale.lower(),
            "--out",
            str(out),
            "--bot-username",
            "@comune_bot",
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    code = card_code_in(result.output)
    page = page_of(out.read_bytes())
    assert f"https://t.me/comune_bot?start={code}".encode() in page
    assert HOLDER.codice_fiscale.encode() not in page  # only a masked form is printed
    assert HOLDER.codice_fiscale[:6].encode() in page


def test_the_bot_username_comes_from_telegram(
    database: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    out = tmp_path / "card.png"
    result = runner.invoke(
        app, ["admin", "card", DEMO_CODE, HOLDER.codice_fiscale, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")
    assert [c.method for c in telegram.calls] == ["getMe"]
    pdf = tmp_path / "card.pdf"
    result = runner.invoke(
        app, ["admin", "card", DEMO_CODE, HOLDER.codice_fiscale, "--out", str(pdf)]
    )
    code = card_code_in(result.output)
    assert f"https://t.me/{BOT_USERNAME}?start={code}".encode() in page_of(pdf.read_bytes())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["RSSMRA85T10A739X"], "not a valid codice fiscale"),
        ([DEMO_CITIZENS[0].codice_fiscale.replace("RSS", "RSX")], "not a valid"),
        (["BNCLRA90A41A739Y", "--out", "x.txt"], ".pdf or .png"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    database: str, tmp_path: Path, args: list[str], message: str
) -> None:
    argv = ["admin", "card", DEMO_CODE, *args]
    if "--out" not in args:
        argv += ["--out", str(tmp_path / "card.pdf")]
    result = runner.invoke(app, [*argv, "--bot-username", "comune_bot"])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "card.pdf").exists()


def test_unknown_citizen_and_missing_token(database: str, tmp_path: Path) -> None:
    from tests.factories import make_cf

    out = str(tmp_path / "card.pdf")
    result = runner.invoke(
        app, ["admin", "card", DEMO_CODE, make_cf(9), "--out", out, "--bot-username", "comune_bot"]
    )
    assert result.exit_code == 2 and "no citizen" in result.output
    result = runner.invoke(app, ["admin", "card", DEMO_CODE, HOLDER.codice_fiscale, "--out", out])
    assert result.exit_code == 2 and "TELEGRAM_BOT_TOKEN" in result.output
