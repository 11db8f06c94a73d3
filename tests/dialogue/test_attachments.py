"""A photo, a file or a sticker sent without words (Telegram), and a voice message: never
read as an empty answer to the question waiting, and welcomed as a chat's first message."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.engine import NOT_READ, VOICE_NOT_HEARD
from core.dialogue.flows.base import NOT_READ_AT_QUESTION, VOICE_AT_QUESTION
from core.dialogue.flows.charge import AMOUNT_QUESTION
from core.dialogue.inbound import Channel
from tests.dialogue.harness import Chat, add_member, msgids, options, town_with_open_window
from tests.dialogue.test_identity import ASK_CONTACT, CF, KEEP_BUTTON, MEMBERS
from tests.factories import make_cf, make_town

UNREAD = NOT_READ_AT_QUESTION.msgid
WORK = "Does anyone in the household have income from work?"
WELCOME = "Welcome to the grocery vouchers of {town}."
CHARGED = (
    "Code sent to the customer ({where}) for {amount}. Ask them for it and write it here. "
    "ANNULLA to stop."
)


async def test_a_photo_at_a_question_of_the_application_is_no_answer(core: Core) -> None:
    """A trial user sent the photo of her ISEE paper at a question of her application and
    was told her answer was wrong, as if she had written nothing. It is said that photos
    are not read and nobody sees them, and the question comes again in the same message
    (its buttons kept); the application goes on from it. The contact step keeps asking
    for the button, and words written under a photo are its answer."""
    await town_with_open_window(core)
    chat = Chat(core, "880201", channel=Channel.TELEGRAM, language_hint="en")
    await chat.send("/apply")
    await chat.expect("1", ASK_CONTACT)
    [keep] = await chat.expect(None, KEEP_BUTTON, attachment=True)
    assert keep.request == "contact" and UNREAD not in msgids(chat.last)
    await chat.expect(None, CF, contact=("+393471110201", True))
    await chat.expect(make_cf(7201), MEMBERS)

    for under in (None, "  "):
        [again] = await chat.send(under, attachment=True)
        assert msgids([again]) == [UNREAD, MEMBERS]
        assert (await chat.state())[:2] == ("apply", "members")

    await chat.expect("2", WORK, attachment=True)  # the words under the photo: its answer
    [again] = await chat.send(attachment=True)
    assert msgids([again]) == [UNREAD, WORK]
    assert options([again]) == ["yes", "no"]
    [again] = await chat.send(voice=True)
    assert msgids([again]) == [VOICE_AT_QUESTION.msgid, WORK]
    await chat.expect("1", "Does anyone in the household receive a pension?")


async def test_a_photo_at_the_tills_amount_question_is_no_answer(core: Core) -> None:
    """A cashier on Telegram who sends the photo of a receipt where the amount is asked is
    told it is not read, and asked the amount again; the charge goes on from it."""
    town = await make_town(core, citizens=1)
    till = "880202"
    await add_member(core, town.shop_id, till, "cashier", channel="telegram")
    cashier = Chat(core, till, channel=Channel.TELEGRAM, language_hint="en")
    await cashier.expect(f"PAGA {town.citizen_cfs[0]}", AMOUNT_QUESTION.msgid)
    [again] = await cashier.send(attachment=True)
    assert msgids([again]) == [UNREAD, AMOUNT_QUESTION.msgid]
    assert (await cashier.state())[:2] == ("charge", "amount")
    await cashier.expect("5", CHARGED)


async def test_a_first_message_without_words_is_welcomed(core: Core) -> None:
    """A new chat whose first message was a photo, a sticker or a voice message heard what
    cannot be read, and the menu, without the welcome a first "hello" gets: it gets the
    welcome first now, once."""
    await make_town(core, citizens=0)
    for address, voice, said in (
        ("880203", False, NOT_READ.msgid),
        ("880204", True, VOICE_NOT_HEARD.msgid),
    ):
        chat = Chat(core, address, channel=Channel.TELEGRAM, language_hint="en")
        [first] = await chat.send(attachment=True, voice=voice)
        assert msgids([first]) == [WELCOME, said]
        assert "balance" in options([first])
        [second] = await chat.send(attachment=True, voice=voice)
        assert msgids([second]) == [said]
        assert "balance" in options([second])
