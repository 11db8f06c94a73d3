"""What the chat trial of 2026-12-03 found a citizen (or an English speaker) left without:
each reply here is read as the person reads it, rendered in their language."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.render import render_plain
from core.domain.messages import Reply
from tests.dialogue.harness import Chat, msgids, open_till, town_with_open_window
from tests.factories import make_town

DONE_ENGLISH = "Done: I will write to you in English."
SHOP_QUERY = (
    "Write a town, a postcode (CAP) or a type of shop: alimentari, panetteria, macelleria, "
    "frutta, farmacia."
)


def said(replies: list[Reply], language: str) -> str:
    return "\n".join(render_plain(reply, language, sms=True) for reply in replies)


async def test_the_help_says_that_codes_and_receipts_still_arrive_after_stop(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    italian = said(await chat.send("AIUTO"), "it")
    assert "STOP" in italian and "codici e ricevute" in italian
    assert "tutti i messaggi" not in italian
    await chat.send("LANGUAGE en")
    english = said(await chat.send("HELP"), "en")
    assert "After STOP only codes and receipts arrive." in english


async def test_english_chosen_during_a_request_is_confirmed_then_the_question_again(
    core: Core,
) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    await chat.expect("NEGOZI", SHOP_QUERY)
    await chat.expect("language", "Choose your language.")
    replies = await chat.expect("2", DONE_ENGLISH, SHOP_QUERY)
    assert "Done: I will write to you in English." in said(replies, "en")
    assert (await chat.state())[:2] == ("shops", "query")
    # And back to Italian, the same way.
    await chat.expect("LINGUA", "Choose your language.")
    replies = await chat.expect("1", DONE_ENGLISH, SHOP_QUERY)
    assert "Fatto: ti scriverò in italiano." in said(replies, "it")


async def test_the_language_question_of_the_application_is_answered_not_confirmed(
    core: Core,
) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239901")
    await chat.send("MENU")
    await chat.send("3")  # the menu's Apply: a button names no language
    assert (await chat.state())[:2] == ("apply", "language")
    assert DONE_ENGLISH not in msgids(await chat.send("2"))


async def test_english_amount_prompts_show_an_english_amount(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send("LANGUAGE en")
    await till.send(f"PAY {town.citizen_cfs[0]}")
    english = said(till.last, "en")
    assert "e.g. 12.50" in english and "12,50" not in english
    english = said(await till.send("1,500"), "en")
    assert "e.g. 12.50" in english


async def test_the_household_question_is_gender_neutral(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393471239902")
    for text in ("MENU", "3", "1", "1"):
        await chat.send(text)
    from tests.dialogue.test_apply import APPLICANT

    italian = said(await chat.send(APPLICANT), "it")
    assert "contando anche te" in italian and "compreso" not in italian
