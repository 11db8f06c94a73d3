"""A wrong setting's header says where its value came from: a command-line option, an
environment variable (or .env), or both; `chat` and `serve` through one function
(buonispesa.cli.common.configuration_refused)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli_runner import invoke, sqlite_file

MYSQL = "mysql://u@db/vouchers"
OPTIONS = "Configuration error: fix these options:"
VARIABLES = "Configuration error: fix these environment variables (or .env):"
BOTH = "Configuration error: fix these options and environment variables (or .env):"


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.delenv("BUONISPESA_DATABASE_URL", raising=False)


def headers(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Configuration error")]


def test_chat_names_the_option_the_variable_or_both(monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = invoke("chat", "--database-url", MYSQL)
    assert code == 2 and headers(output) == [OPTIONS], output
    monkeypatch.setenv("BUONISPESA_PORT", "eighty")
    code, output = invoke("chat", "--database-url", MYSQL)
    assert code == 2 and headers(output) == [BOTH], output
    assert "  - --database-url: Value error" in output and "  - BUONISPESA_PORT: " in output
    code, output = invoke("chat")
    assert code == 2 and headers(output) == [VARIABLES], output


def test_chat_says_it_in_italian(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "it")
    monkeypatch.setenv("BUONISPESA_PORT", "eighty")
    code, output = invoke("chat", "--database-url", MYSQL)
    assert code == 2, output
    assert (
        "Errore di configurazione: correggi queste opzioni e variabili d'ambiente "
        "(o il file .env):" in output
    ), output


def test_serve_names_the_option_with_the_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_file(tmp_path, monkeypatch)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "not-a-sid")
    code, output = invoke("serve", "--port", "0")
    assert code == 2 and headers(output) == [VARIABLES], output
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    code, output = invoke("serve", "--port", "0", "--workers", "2")
    assert code == 2 and headers(output) == [BOTH], output
    assert "  - --workers needs PUBLIC_BASE_URL with TELEGRAM_BOT_TOKEN" in output


def no_language_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BUONISPESA_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


def test_serve_says_its_channels_settings_in_the_offices_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same wrong Twilio and Telegram settings read in Italian by default and in English
    when English is chosen; the variables' names stay as they are written, the token unsaid."""
    sqlite_file(tmp_path, monkeypatch)
    token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "not-a-sid")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://buoni.example.org")
    no_language_chosen(monkeypatch)
    code, output = invoke("serve", "--port", "0", "--workers", "2")
    assert code == 2, output
    assert output.splitlines()[1:] == [
        "  - TWILIO_AUTH_TOKEN: manca (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN e "
        "TWILIO_FROM_NUMBER vanno impostate insieme)",
        "  - TWILIO_FROM_NUMBER: manca (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN e "
        "TWILIO_FROM_NUMBER vanno impostate insieme)",
        "  - TWILIO_ACCOUNT_SID: deve essere AC seguito da 32 caratteri esadecimali",
        "  - PUBLIC_BASE_URL deve iniziare con https:// (Telegram invia i messaggi solo a "
        "indirizzi https)",
    ], output
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    code, output = invoke("serve", "--port", "0", "--workers", "2")
    assert code == 2, output
    assert output.splitlines()[1:] == [
        "  - TWILIO_AUTH_TOKEN: missing (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
        "TWILIO_FROM_NUMBER go together)",
        "  - TWILIO_FROM_NUMBER: missing (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
        "TWILIO_FROM_NUMBER go together)",
        "  - TWILIO_ACCOUNT_SID: expected AC followed by 32 hexadecimal characters",
        "  - PUBLIC_BASE_URL must start with https:// (Telegram delivers webhooks only to "
        "https addresses)",
    ], output
    assert token not in output


def test_serve_says_a_port_in_use_in_the_offices_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_file(tmp_path, monkeypatch)
    monkeypatch.setenv("BUONISPESA_SECRET_KEY", "ab" * 32)
    no_language_chosen(monkeypatch)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = invoke("serve", "--port", str(port))
        assert code == 2, output
        assert f"Errore: Impossibile mettersi in ascolto su 127.0.0.1:{port}: " in output, output
        monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
        code, output = invoke("serve", "--port", str(port))
        assert code == 2, output
        assert f"Error: Cannot listen on 127.0.0.1:{port}: " in output, output
