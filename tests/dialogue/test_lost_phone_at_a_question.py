"""SMS trial (oldphone24): "ho perso il telefono e la tessera" written at a yes/no question
(the application's, a payment waiting for her code meanwhile) got "Sorry, I did not
understand. Reply 1 for yes or 2 for no." A lost phone or card is answered there as
anywhere else (a payment waiting for the lost phone's code cancelled first), then the
question comes again, the request as it was."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands import WALLET_LOST_ASK_OFFICE
from core.dialogue.context import NOT_UNDERSTOOD as SORRY
from core.dialogue.inbound import Channel
from tests.dialogue.harness import Chat, msgids, open_till, options, town_with_open_window
from tests.dialogue.test_apply import PENSION, PRIVACY, WORK
from tests.dialogue.test_her_first_words_and_worries import BUTTON_QUESTIONS, new_chat, to_work
from tests.dialogue.test_lost_phone import (
    CANCELLED,
    LOST_CARD,
    LOST_PHONE,
    LOST_PHONE_AND_CONTACT,
)
from tests.dialogue.test_lost_phone_and_card import _charge_pending
from tests.dialogue.test_own_words import NO_CONTACT

YES_OR_NO = "Reply 1 for yes or 2 for no."
AGREE_OR_NOT = "Reply 1 if you agree, 2 if you do not."
LOST = ["ho perso il telefono e la tessera", "mi hanno rubato portafoglio e telefono"]


@pytest.mark.parametrize("question", sorted(BUTTON_QUESTIONS))
@pytest.mark.parametrize(
    ("said", "first"),
    [
        (LOST[0], LOST_PHONE),
        (LOST[1], LOST_PHONE),
        ("ho perso il telefono", LOST_PHONE),
        ("ho perso il portafoglio", WALLET_LOST_ASK_OFFICE.msgid),
    ],
)
async def test_at_every_button_question_the_answer_then_the_question(
    core: Core, question: str, said: str, first: str
) -> None:
    await town_with_open_window(core)
    walk, asked = BUTTON_QUESTIONS[question]
    chat = new_chat(core, Channel.SMS)
    await walk(chat)
    before, offered = await chat.state(), options(chat.last)
    replies = await chat.send(said)
    ids = msgids(replies)
    assert SORRY.msgid not in ids and YES_OR_NO not in ids and AGREE_OR_NOT not in ids, ids
    assert ids.index(first) < ids.index(asked), ids
    if said in LOST:
        assert ids.index(LOST_PHONE) < ids.index(LOST_CARD) < ids.index(asked), ids
    if question != "summary":
        assert options(replies)[-len(offered) :] == offered
    assert await chat.state() == before


async def test_the_question_answered_next_goes_on(core: Core) -> None:
    await town_with_open_window(core)
    chat = new_chat(core, Channel.SMS)
    await to_work(chat)
    replies = await chat.send(LOST[0])
    # Three SMS: the phone's answer, the card's with the office's contact, the question.
    assert msgids(replies) == [LOST_PHONE, LOST_CARD, NO_CONTACT, WORK]
    await chat.expect("no", PENSION)


async def test_a_payment_waiting_for_the_lost_phones_code_is_cancelled_at_the_question(
    core: Core,
) -> None:
    town = await town_with_open_window(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.expect("DOMANDA", PRIVACY)
    before = await chat.state()
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    replies = await chat.send(LOST[0])
    assert msgids(replies) == [CANCELLED, LOST_PHONE, LOST_CARD, NO_CONTACT, PRIVACY]
    assert not await _charge_pending(core, town.citizen_ids[0])
    assert await chat.state() == before


async def test_on_telegram_one_message_then_the_question(core: Core) -> None:
    await town_with_open_window(core)
    chat = new_chat(core, Channel.TELEGRAM)
    await to_work(chat)
    before = await chat.state()
    replies = await chat.send(LOST[0])
    assert msgids(replies)[:3] == [LOST_PHONE_AND_CONTACT, LOST_CARD, NO_CONTACT]
    assert msgids(replies)[-1] == WORK
    assert await chat.state() == before
