"""An elderly citizen applying by SMS in her own words (December 2026): "nessuno" at the
household's questions, a language named alone, an amount inside a sentence, and a lost
card (or a card named) that is not the voucher card."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.dialogue.commands import LANGUAGE_DONE, LANGUAGE_KEPT, OTHER_CARD_LOST
from core.dialogue.render import render_plain
from core.domain.messages import Reply
from core.storage import models as m
from tests.dialogue.harness import Chat, confirmation_code, msgids, town_with_open_window
from tests.dialogue.test_appeal import ASK_REASON, CODE_SENT, RECEIVED, appeals_in
from tests.dialogue.test_apply import (
    APPLICANT,
    CODE,
    DECLARE,
    LIQUIDITY,
    MEMBERS,
    NOT_AN_AMOUNT,
    PENSION,
    PRIVACY,
    RENT,
    SUMMARY,
    SUPPORT,
    WORK,
)
from tests.factories import make_town

YES_OR_NO = "Reply 1 for yes or 2 for no."


def sms_text(replies: list[Reply], language: str = "it") -> str:
    return "\n".join(render_plain(reply, language, sms=True) for reply in replies)


async def _language_of(core: Core, chat: Chat) -> str:
    async with core.uow() as uow:
        language = await uow.session.scalar(
            select(m.Conversation.language).where(m.Conversation.address == chat.address)
        )
    assert language is not None
    return language


async def _at_work_question(chat: Chat) -> None:
    for text in ("DOMANDA", "1", APPLICANT):
        await chat.send(text)
    await chat.expect("2", WORK)


# 1. "Nessuno" answers who in the household works or has a pension: a no.


@pytest.mark.parametrize(
    ("work", "pension"),
    [
        ("nessuno", "nessuna"),
        ("nessuno lavora", "nessuno ha la pensione"),
        ("No, nessuno lavora", "non la prende nessuno"),
        ("nobody", "none"),
    ],
)
async def test_nobody_is_a_no_at_the_household_questions(
    core: Core, work: str, pension: str
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471250001")
    await _at_work_question(chat)
    await chat.expect(work, PENSION)
    await chat.expect(pension, LIQUIDITY)
    state = (await chat.state())[2]["state"]
    assert state["work"] is False and state["pension"] is False


async def test_nobody_with_other_words_is_asked_again(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471250002")
    await _at_work_question(chat)
    for text in ("nessuno tranne mio marito", "nessuno, solo io", "sì, nessuno", "nessun problema"):
        await chat.expect(text, YES_OR_NO, WORK)
        assert (await chat.state())[:2] == ("apply", "work"), text


async def test_nobody_is_no_refusal_of_the_consent_nor_of_the_declaration(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471250003")
    await chat.expect("DOMANDA", PRIVACY)
    await chat.expect("nessun problema", "Reply 1 if you agree, 2 if you do not.")
    assert (await chat.state())[:2] == ("apply", "privacy")  # the draft is not dropped
    for text in ("1", APPLICANT, "2", "nessuno", "nessuno", "100", "0"):
        await chat.send(text)
    await chat.expect("0", SUMMARY, DECLARE)
    for text in ("nessun problema", "nessuno"):
        replies = await chat.send(text)
        assert CODE not in msgids(replies)
        assert (await chat.state())[:2] == ("apply", "summary"), text


# 2. A language named alone is LINGUA with it, at any step; in a sentence it is a word.


async def test_a_language_named_alone_at_a_question_changes_the_language(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471250004")
    await chat.send("APPLY")  # English words: the application in English
    await chat.expect("1", "Write your codice fiscale (16 characters, it is on your health card).")
    await chat.send(APPLICANT)
    replies = await chat.expect("italiano", LANGUAGE_DONE.msgid, MEMBERS)
    assert sms_text(replies).startswith("Fatto: ti scriverò in italiano.")
    assert (await chat.state())[:2] == ("apply", "members")  # nothing answered
    replies = await chat.expect("English please", LANGUAGE_DONE.msgid, MEMBERS)
    assert sms_text(replies, "en").startswith("Done: I will write to you in English.")
    await chat.expect("2", WORK)


@pytest.mark.parametrize(("word", "language"), [("Italiano", "it"), ("inglese", "en")])
async def test_a_language_named_at_the_language_question(
    core: Core, word: str, language: str
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471250005")
    await chat.send("MENU")
    await chat.send("3")  # the menu's Apply: a number names no language, so it is asked
    replies = await chat.expect(word, PRIVACY)
    assert (await chat.state())[:2] == ("apply", "privacy")
    assert await _language_of(core, chat) == language
    assert LANGUAGE_KEPT.msgid not in msgids(replies) and LANGUAGE_DONE.msgid not in msgids(replies)


async def test_a_language_named_with_nothing_open_is_lingua(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    replies = await chat.expect("english", LANGUAGE_DONE.msgid)
    assert "Per tornare all'italiano scrivi LINGUA." in sms_text(replies, "en")
    await chat.expect("ITALIANO", LANGUAGE_DONE.msgid)
    await chat.expect("italiano", LANGUAGE_KEPT.msgid)


async def test_a_language_in_an_appeals_reason_is_part_of_the_reason(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("RICORSO", ASK_REASON)
    await chat.expect("non parlo bene l'italiano, ho sbagliato il numero", CODE_SENT)
    await chat.expect(await confirmation_code(chat), RECEIVED)
    [appeal] = await appeals_in(core)
    assert appeal.reason == "non parlo bene l'italiano, ho sbagliato il numero"


# 3. One amount inside a sentence answers the amount questions; two are asked again.


async def test_an_amount_in_a_sentence_answers_the_amount_questions(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471250006")
    await _at_work_question(chat)
    await chat.send("no")
    await chat.expect("no", LIQUIDITY)
    await chat.expect("ho circa 1200 euro in banca", SUPPORT)
    await chat.expect("prendo 300 euro di naspi al mese", RENT)
    for text in ("350 o 400", "pago 350 o 400 euro", "siamo in 3", "pago l'affitto da 6 mesi"):
        await chat.expect(text, NOT_AN_AMOUNT)
        assert (await chat.state())[:2] == ("apply", "rent"), text
    await chat.expect("pago 350 di affitto", SUMMARY)
    state = (await chat.state())[2]["state"]
    assert (state["liquidity"], state["support"], state["rent"]) == (1200_00, 300_00, 350_00)
    # "350 al mese" from the summary's change, too.
    await chat.send("2")
    await chat.send("7")  # Rent
    await chat.expect("280 al mese", SUMMARY)
    assert (await chat.state())[2]["state"]["rent"] == 280_00


# 4. A lost card that is not the voucher card: never the voucher card's code.


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ho perso la carta d'identità", "it"),
        ("Mi hanno rubato la tessera sanitaria", "it"),
        ("ho perso la carta di credito", "it"),
        ("I lost my ID card", "en"),
    ],
)
async def test_another_lost_card_is_told_the_vouchers_still_work(
    core: Core, text: str, language: str
) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    if language == "en":
        await chat.send("LANGUAGE EN")
    replies = await chat.send(text)
    assert msgids(replies) == [OTHER_CARD_LOST.msgid]
    said = sms_text(replies, language)
    async with core.uow() as uow:
        citizen = await uow.session.get(m.Citizen, town.citizen_ids[0])
        assert citizen is not None and citizen.card_code
    assert citizen.card_code not in said
    assert (await chat.state())[:2] == (None, None)
    if language == "it":
        assert said.startswith("Quella non è la tessera dei buoni")
    # The voucher card itself lost is still the office's new card.
    replies = await chat.send("ho perso la tessera")
    assert msgids(replies)[0].startswith("Lost card? Tell the office")


@pytest.mark.parametrize(
    "text",
    ["devo portare la carta d'identità?", "serve la tessera sanitaria?",
     "posso pagare con la carta di credito?"],
)  # fmt: skip
async def test_another_card_named_never_shows_the_voucher_card(core: Core, text: str) -> None:
    """Trial finding: "devo portare la carta d'identità?" was read as CARTA and answered
    with the voucher card's code. A sentence naming another card shows neither the code
    nor the balance; the voucher card's credit asked in words is still the balance."""
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    replies = await chat.send(text)
    said = sms_text(replies)
    async with core.uow() as uow:
        citizen = await uow.session.get(m.Citizen, town.citizen_ids[0])
        assert citizen is not None and citizen.card_code
    assert citizen.card_code not in said and "€" not in said, said
    assert not [i for i in msgids(replies) if i.startswith(("Your card code", "Your balance"))]
    assert (await chat.state())[:2] == (None, None)
    replies = await chat.send("ho ancora credito sulla carta?")
    assert msgids(replies)[0] == "Your balance: {balance}."
