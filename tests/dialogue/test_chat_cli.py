"""`buonispesa chat`: the terminal channel, end to end over the demo town."""

from __future__ import annotations

import asyncio
import re

import pytest
from typer.testing import CliRunner

from buonispesa.cli import _register, app
from buonispesa.demo import DEMO_CITIZENS, seed_demo
from core.bootstrap import Core, open_core
from core.dialogue.inbound import Channel
from tests.dialogue.harness import Chat, outbox_of, town_with_open_window
from tests.dialogue.test_apply import CODE, MEMBERS
from tests.factories import make_cf


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


def test_a_database_url_of_another_scheme_is_said_as_the_variable_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The flag is checked as BUONISPESA_DATABASE_URL is: the settings' sentence naming the
    # option, exit 2, not the driver's traceback (MySQLdb missing, for this one).
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    _register()
    result = CliRunner().invoke(app, ["chat", "--database-url", "mysql://u@db/vouchers"])
    assert result.exit_code == 2, result.output
    assert "Configuration error: fix these options:" in result.output
    assert (
        "--database-url: Value error, must be sqlite+aiosqlite:///FILE or "
        "postgresql+asyncpg://USER@HOST/DB" in result.output
    )
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_the_flag_stands_for_a_wrong_variable(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --database-url replaces the variable: a wrong one in the environment is not read.
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", "mysql://u@db/vouchers")
    _seed(sqlite_url)
    _register()
    result = CliRunner().invoke(
        app, ["chat", "--database-url", sqlite_url, "--lang", "en"], input="/quit\n"
    )
    assert result.exit_code == 0, result.output
    assert "buonispesa chat as a citizen, phone +393331000001." in result.output


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


def test_the_question_comes_again_when_the_chat_is_opened_again(sqlite_url: str) -> None:
    # Chat trial: opened again half-way through the application after two wrong numbers, the
    # chat showed only the last message, the error without its question. It asks the
    # question again (the engine's own asking of the step), with nothing answered.
    _seed(sqlite_url)
    _register()
    args = ["chat", "--database-url", sqlite_url, "--phone", "+393471239876"]
    first = CliRunner().invoke(app, args, input=f"DOMANDA\n1\n{make_cf(710)}\n0\n99\n")
    question = "Quante persone ci sono nel tuo nucleo familiare, contando anche te?"
    error = "Scrivi il numero di persone con un numero da 1 a 30"
    assert first.output.rstrip().endswith(">"), first.output
    last = first.output.rsplit("> ", 2)[1]
    assert error in last and question not in last, last  # the second wrong number: the error
    again = CliRunner().invoke(app, args, input="3\n")
    assert again.exit_code == 0, again.output
    resumed = again.output.split("(Riprendi da dove eri rimasto", 1)[1].split("> ", 1)[0]
    assert question in resumed.replace("\n", " ") and error not in resumed, again.output
    assert "Qualcuno nel nucleo familiare ha un reddito da lavoro?" in again.output


async def test_the_engine_asks_the_pending_question_again(core: Core) -> None:
    """What `buonispesa chat` opened again shows (DialogueEngine.ask_pending): the step's own
    question, queued to that chat; nothing where no request is open, nor at a step whose
    asking does more than ask (the code step would send a new code)."""
    await town_with_open_window(core)
    chat = Chat(core, "+393471260010", channel=Channel.TERMINAL)
    engine = chat.engine
    assert engine is not None
    assert not await engine.ask_pending(Channel.TERMINAL, chat.address)  # nobody yet
    for text in ("DOMANDA", "1", make_cf(711)):
        await chat.send(text)
    await chat.expect("0", "Write the number of people with a number from 1 to {max}, e.g. 3.")
    before = len(await outbox_of(core, Channel.TERMINAL.value, chat.address))
    assert await engine.ask_pending(Channel.TERMINAL, chat.address)
    rows = await outbox_of(core, Channel.TERMINAL.value, chat.address)
    assert [text.msgid for _, reply in rows[before:] for text in reply.texts] == [MEMBERS]
    assert (await chat.state())[:2] == ("apply", "members")
    for text in ("2", "no", "no", "0", "0", "0"):
        await chat.send(text)
    await chat.expect("1", CODE)
    before = len(await outbox_of(core, Channel.TERMINAL.value, chat.address))
    assert not await engine.ask_pending(Channel.TERMINAL, chat.address)
    assert len(await outbox_of(core, Channel.TERMINAL.value, chat.address)) == before
    await chat.expect("MENU")
    assert not await engine.ask_pending(Channel.TERMINAL, chat.address)
