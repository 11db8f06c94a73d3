"""'Ho perso il telefono', 'mi hanno rubato il telefono' while a payment waits for her code:
that payment's reminder before ("… waits for the code: if you agree, tell it to the
cashier"), as if she had it in her hand. Now the payment is cancelled as ANNULLA cancels
it (its code is on the lost phone; the till is told) and she is told what to do: the
office moves the vouchers to a new number. 'Ho perso la tessera' keeps the lost card's
words, and the payment, whose code is the phone's and not the card's, keeps waiting."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.questions import question_of
from core.storage import models as m
from tests.dialogue.harness import Chat, msgids, open_till, outbox_of
from tests.dialogue.test_shop import CITIZEN_CODE, CONFIRMED, citizen_code
from tests.factories import make_town

# With the office's contact after it when both fit the SMS (not the test town's), else
# with UFFICIO in it.
LOST_PHONE = (
    "Lost or stolen phone? Tell the office: only they move your vouchers to a new number; until "
    "then the codes go to the old one. Write UFFICIO."
)
CANCELLED = (
    "Payment of {amount} to {shop} cancelled: its code went to the lost phone. The shop was told."
)
WAITS = (
    "{shop} asks {amount} and waits for the code: if you agree, tell it to the cashier; if not, "
    "write ANNULLA."
)
# On Telegram, no SMS to fit: the office's contact follows.
LOST_PHONE_AND_CONTACT = (
    "Lost or stolen phone? Tell the office: only they move your vouchers to a new number, and "
    "until then the codes go to the old one."
)
LOST_CARD = "Lost card? Tell the office: they give you a new card and block the lost one."
TILL_TOLD = (
    "The customer refused the payment of {amount}: the code no longer works. Ask how they want "
    "to pay."
)


@pytest.mark.parametrize(
    "said",
    ["ho perso il telefono", "mi hanno rubato il telefono", "HO PERSO IL CELLULARE",
     "non trovo piu il telefonino", "I lost my phone", "my phone was stolen"],
)  # fmt: skip
def test_a_lost_phone_is_read(said: str) -> None:
    assert question_of(said) == ("lost_phone", "")


@pytest.mark.parametrize(
    "said", ["ho perso la tessera", "ho perso il codice sul telefono", "ho cambiato telefono"]
)
def test_other_words_keep_their_reading(said: str) -> None:
    assert question_of(said) != ("lost_phone", "")


async def _charge_status(core: Core, citizen_id: int) -> str:
    async with core.uow() as uow:
        charges = await uow.charges.pending_for_citizen(citizen_id)
        return "pending" if charges else "none pending"


@pytest.mark.parametrize("said", ["ho perso il telefono", "mi hanno rubato il telefono"])
async def test_a_lost_phone_cancels_the_payment_waiting_for_its_code(core: Core, said: str) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    code = await citizen_code(core, town.citizen_phones[0])
    replies = await chat.expect(said, CANCELLED, LOST_PHONE)
    assert WAITS not in msgids(replies)
    assert await _charge_status(core, town.citizen_ids[0]) == "none pending"
    # The till that asked is told, and the code on the lost phone pays nothing.
    told = [reply for _row, reply in await outbox_of(core, "sms", town.shop_phone)]
    assert TILL_TOLD in msgids(told)
    replies = await till.send(code)
    assert CONFIRMED not in msgids(replies)
    # With nothing waiting: only what to do.
    assert msgids(await chat.send(said))[0] == LOST_PHONE


async def test_a_lost_card_keeps_the_payment_waiting_for_the_phones_code(core: Core) -> None:
    # The card's loss is the office's to act on (a new card blocks the old one and cancels
    # what waits for its codes): a code sent to her phone is still hers to give.
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    replies = await chat.expect("ho perso la tessera", LOST_CARD)
    assert LOST_PHONE not in msgids(replies)
    assert await _charge_status(core, town.citizen_ids[0]) == "pending"
    await till.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)


async def test_on_telegram_too(core: Core) -> None:
    # Telegram on a tablet, the phone lost: the codes came to this chat.
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        holder = await uow.citizens.by_id(town.citizen_ids[0])
        assert isinstance(holder, m.Citizen)
        holder.telegram_chat_id = "8021"  # payment codes go to Telegram
        await uow.commit()
    chat = Chat(core, "8021", channel=Channel.TELEGRAM)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 4")
    assert any(
        reply.texts and reply.texts[0].msgid == CITIZEN_CODE
        for _row, reply in await outbox_of(core, "telegram", "8021")
    )
    replies = await chat.expect("ho perso il telefono", CANCELLED, LOST_PHONE_AND_CONTACT)
    assert WAITS not in msgids(replies)
    assert await _charge_status(core, town.citizen_ids[0]) == "none pending"
