"""`buonispesa chat`: the terminal channel, end to end over the demo town."""

from __future__ import annotations

import asyncio
import re

from typer.testing import CliRunner

from buonispesa.cli import _register, app
from buonispesa.demo import DEMO_CITIZENS, seed_demo
from core.bootstrap import open_core


def _seed(url: str) -> None:
    async def run() -> None:
        core = await open_core(url)
        try:
            assert await seed_demo(core)
        finally:
            await core.close()

    asyncio.run(run())


def test_a_citizen_checks_the_balance(sqlite_url: str) -> None:
    _seed(sqlite_url)
    _register()
    result = CliRunner().invoke(
        app, ["chat", "--database-url", sqlite_url, "--lang", "en"], input="1\nSTATUS\n/quit\n"
    )
    assert result.exit_code == 0, result.output
    assert "1 Balance" in result.output  # options as numbers, as by SMS
    assert "Your balance: €300.00." in result.output
    assert "Application BEL-" in result.output


def test_a_shop_sees_the_code_the_customer_receives(sqlite_url: str) -> None:
    _seed(sqlite_url)
    _register()
    citizen = DEMO_CITIZENS[0]
    result = CliRunner().invoke(
        app,
        ["chat", "--as", "shop", "--database-url", sqlite_url],
        input=f"PAGA {citizen.codice_fiscale} 12,50\n",
    )
    assert result.exit_code == 0, result.output
    found = re.search(rf"\(SMS a \{citizen.phone}: .* Codice: (\d{{6}})", result.output)
    assert found, result.output
    assert "Codice inviato al cliente (SMS ***001) per 12,50 €" in result.output


def test_a_bad_phone_is_refused(sqlite_url: str) -> None:
    _register()
    result = CliRunner().invoke(app, ["chat", "--phone", "hello", "--database-url", sqlite_url])
    assert result.exit_code == 2
    # In the office's language, as every other command's errors.
    assert "'hello' non è un numero di telefono" in result.output, result.output


def test_an_english_chat_names_the_english_keywords(sqlite_url: str) -> None:
    _seed(sqlite_url)
    _register()
    result = CliRunner().invoke(
        app, ["chat", "--as", "shop", "--database-url", sqlite_url, "--lang", "en"], input="/quit\n"
    )
    assert result.exit_code == 0, result.output
    assert "HELP for help" in result.output and "AIUTO" not in result.output
    assert "Demo: write PAY " in result.output and " 12.50," in result.output


def test_esci_is_the_cashiers_word_and_slash_quit_leaves(sqlite_url: str) -> None:
    # Chat trial 2: "esci" ended the program; it is ESCI (a cashier leaving the shop), sent
    # like any other word. The demo shop's phone is its owner, who cannot leave.
    _seed(sqlite_url)
    _register()
    result = CliRunner().invoke(
        app,
        ["chat", "--as", "shop", "--database-url", sqlite_url],
        input="esci\n/quit\nSALDO\n",
    )
    assert result.exit_code == 0, result.output
    assert '"/quit"' in result.output
    assert "Il titolare non può essere tolto dal negozio" in result.output
    # Nothing after /quit reached the engine.
    assert "saldo" not in result.output.lower().split("tolto dal negozio", 1)[1]


def test_a_payment_waits_when_the_chat_is_opened_again(sqlite_url: str) -> None:
    # Chat trial 2: opening the chat sent MENU, which dropped the payment waiting for the
    # customer's code. Opened again, the chat goes on at that step, and the code pays.
    _seed(sqlite_url)
    _register()
    citizen = DEMO_CITIZENS[0]
    first = CliRunner().invoke(
        app,
        ["chat", "--as", "shop", "--database-url", sqlite_url],
        input=f"PAGA {citizen.codice_fiscale} 12,50\n",
    )
    found = re.search(rf"\(SMS a \{citizen.phone}: .* Codice: (\d{{6}})", first.output)
    assert found, first.output
    again = CliRunner().invoke(
        app, ["chat", "--as", "shop", "--database-url", sqlite_url], input=f"{found[1]}\n"
    )
    assert again.exit_code == 0, again.output
    assert "(Riprendi da dove eri rimasto" in again.output
    assert "Codice inviato al cliente (SMS ***001) per 12,50 €" in again.output
    assert "Pagamento confermato: 12,50 €" in again.output
