"""A busy shop's words at the till, in Italian and English: the owner asking for a cashier
code in a sentence (never read as joining), the cashiers, the last payment, closing the
till, a cashier who cannot join. Each maps to the command that exists, with no power a
cashier lacks; none tells a cashier anything of a customer. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.bootstrap import Core
from core.domain.messages import Reply
from core.i18n import render_text
from core.storage import models as m
from tests.dialogue.harness import (
    INVITED,
    TILL_CODE,
    Chat,
    add_member,
    msgids,
    open_till,
    outbox_of,
    param,
    wrong_guesses,
)
from tests.dialogue.test_shop import (
    ASK_CODE,
    CANCELLED_NAMED,
    CONFIRMED,
    VERIFY_CASHIER,
    WHO,
    citizen_code,
    own_code,
)
from tests.factories import distinct_draws, make_town

CASHIER = "+393339990061"
ONLY_OWNER_ADDS = "Only the owner of a shop can add cashiers."
TO_JOIN = "To work at a shop's till, write here the cashier code its owner gave you."
LIST = "Cashiers of {shop}. Reply with the number of the one to remove, or ANNULLA."
ONLY_OWNER_SEES = "Only the owner of a shop can see and remove its cashiers."
LAST = "Last payment: no. {receipt}, {amount}, on {day} at {time}."
LAST_REFUNDED = "Last payment: no. {receipt}, {amount}, on {day} at {time}; refunded."
LAST_AT_TILL = "Last payment at your till: no. {receipt}, {amount}, on {day} at {time}."
NO_PAYMENT_YET = "{shop} has no payment yet."
CLOSED = "Till closed: nothing waits for a code here. To charge again, write PAGA."
CANT_JOIN_OWNER = (
    "For your cashier: write CASSIERE for a new cashier code (valid 2 days, once). The "
    "cashier sends it here from their own phone, by SMS or on Telegram."
)
CODE_HOW = (
    "A cashier code is valid 2 days, once: the cashier sends it here from their own phone, "
    "by SMS or on Telegram. If it fails, ask the owner for a new one."
)
VOID = "{shop} cancelled the payment of {amount}. The code is no longer valid."
NOT_UNDERSTOOD = "I did not understand."
JOIN_ASKED = "Write the cashier code the shop owner gave you (12 letters and digits)."


def said(replies: list[Reply], language: str = "it") -> str:
    return " ".join(render_text(text, language) for reply in replies for text in reply.texts)


async def charge_statuses(core: Core, shop_id: int) -> list[str]:
    async with core.uow() as uow:
        rows = await uow.session.scalars(
            select(m.Charge.status).where(m.Charge.shop_id == shop_id).order_by(m.Charge.id)
        )
        return list(rows.all())


async def test_an_owner_asking_for_a_cashier_code_in_words_gets_one(core: Core) -> None:
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    # "Vorrei un codice cassiere" asked for the code to join with (INVITO): the owner was
    # told to write the code the owner gave them.
    for sentence in (
        "vorrei un codice cassiere",
        "mi serve un codice per il cassiere",
        "come aggiungo un cassiere",
        "ho bisogno di un codice cassiere",
    ):
        await owner.expect(sentence, VERIFY_CASHIER)
        assert JOIN_ASKED not in msgids(owner.last)
        await owner.expect(await own_code(owner), INVITED)
    # At the till's question (who pays), the same words: no card number refused.
    await open_till(owner)
    await owner.expect("vorrei un codice cassiere", VERIFY_CASHIER)
    await owner.expect(await own_code(owner), INVITED)
    # In English.
    await owner.expect("LANGUAGE EN")
    await owner.expect("I need a code for my cashier", VERIFY_CASHIER)
    await owner.expect(await own_code(owner), INVITED)
    # Someone of no shop: told that the owner makes it, and how a cashier joins.
    stranger = Chat(core, "+393339990062")
    await stranger.expect("vorrei un codice cassiere", ONLY_OWNER_ADDS, TO_JOIN)
    # A cashier of the shop: refused, no code made.
    await add_member(core, town.shop_id, CASHIER, "cashier")
    cashier = await open_till(Chat(core, CASHIER))
    await cashier.expect("mi serve un codice per il cassiere", ONLY_OWNER_ADDS)
    # Who has one still joins with "ho un codice cassiere" (INVITO asks for it).
    await Chat(core, "+393339990063").expect("ho un codice cassiere", JOIN_ASKED)


async def test_the_owners_words_for_cashiers_payments_and_the_till(core: Core) -> None:
    town = await make_town(core, citizens=2)
    await add_member(core, town.shop_id, CASHIER, "cashier")
    owner = Chat(core, town.shop_phone)
    cashier = await open_till(Chat(core, CASHIER))
    # The cashiers: the owner's list (CASSIERI); a cashier is refused it.
    await owner.expect("quanti cassieri ho", LIST)
    await owner.expect("ANNULLA")
    await owner.expect("chi sono i miei cassieri", LIST)
    await owner.expect("ANNULLA")
    await cashier.expect("chi sono i miei cassieri", ONLY_OWNER_SEES)
    # No payment yet.
    await owner.expect("ultimo pagamento", NO_PAYMENT_YET)
    # A payment at the cashier's till, then the last payment, as STORNO lists them.
    await cashier.expect(f"PAGA {town.citizen_cfs[0]} 12,50", ASK_CODE)
    await cashier.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)
    receipt = param(cashier.last, "receipt")
    for chat, words in ((owner, "ultimo pagamento"), (owner, "l'ultimo incasso")):
        replies = await chat.expect(words, LAST)
        assert param(replies, "receipt") == str(receipt)
        assert "12,50" in said(replies)
    # The cashier too, at the till's question: their own till's payment, nothing of the
    # customer (no codice fiscale, phone, name nor balance).
    await cashier.expect("PAGA", WHO)
    replies = await cashier.expect("l'ultimo incasso", LAST_AT_TILL)
    assert param(replies, "receipt") == str(receipt)
    text = said(replies)
    assert town.citizen_cfs[0] not in text and town.citizen_phones[0][-4:] not in text
    assert "137,50" not in text and "Rossi" not in text
    # A citizen's "ultimo pagamento" is her own balance, never a shop's payment.
    citizen = Chat(core, town.citizen_phones[1])
    replies = await citizen.send("ultimo pagamento")
    assert LAST not in msgids(replies) and NO_PAYMENT_YET not in msgids(replies)
    # Closing the till with a payment waiting: cancelled, named, the customer told; the
    # next PAGA confirms the till again.
    await cashier.expect(f"PAGA {town.citizen_cfs[1]} 5", ASK_CODE)
    code = await citizen_code(core, town.citizen_phones[1])
    await cashier.expect("ho finito", CANCELLED_NAMED, CLOSED)
    assert await charge_statuses(core, town.shop_id) == ["confirmed", "cancelled"]
    told = (await outbox_of(core, "sms", town.citizen_phones[1]))[-1][1]
    assert told.texts[0].msgid == VOID
    await cashier.send(code)
    assert await charge_statuses(core, town.shop_id) == ["confirmed", "cancelled"]
    await cashier.expect("PAGA", TILL_CODE)
    # "Chiudo la cassa" at the till's question, nothing waiting: closed all the same.
    await cashier.expect(await own_code(cashier), WHO)
    await cashier.expect("chiudo la cassa", CLOSED)
    assert (await cashier.state())[:2] == (None, None)
    await cashier.expect("PAGA", TILL_CODE)
    # A citizen's "ho finito" is no request, as before.
    await citizen.expect("ho finito", NOT_UNDERSTOOD)
    assert CLOSED not in msgids(citizen.last)


async def test_the_owners_words_in_english(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, CASHIER, "cashier")
    owner = Chat(core, town.shop_phone)
    await owner.expect("LANGUAGE EN")
    await owner.expect("how many cashiers do I have", LIST)
    await owner.expect("CANCEL")
    await owner.expect("last payment", NO_PAYMENT_YET)
    await owner.expect("my cashier can't join", CANT_JOIN_OWNER)
    await owner.expect("I'm done", CLOSED)


async def test_a_cashier_who_cannot_join(core: Core) -> None:
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    # It was "I did not understand" and the help.
    await owner.expect("il mio cassiere non riesce a entrare", CANT_JOIN_OWNER)
    assert NOT_UNDERSTOOD not in msgids(owner.last)
    # The cashier to be, who has no shop: how a code works, and whom to ask.
    await Chat(core, "+393339990064").expect("non riesco a entrare come cassiere", CODE_HOW)
    # A cashier of the shop learns nothing more than how the code works.
    await add_member(core, town.shop_id, CASHIER, "cashier")
    await Chat(core, CASHIER).expect("la cassiera non riesce a entrare", CODE_HOW)


WRONG_CODE = "Wrong code: {count} attempt left."
READ_AGAIN = "Ask the customer to read the code on their phone again and type it, or ANNULLA."
ANOTHER_TILL = (
    "Another till here waits for a code too: is the customer paying there? Else ask for the "
    "code again, or ANNULLA."
)


async def test_a_code_read_to_the_wrong_cashier_on_a_busy_saturday(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Anna's customer's code is typed at Bruno's till: it must not be his customer's too.
    distinct_draws(monkeypatch)
    town = await make_town(core, citizens=2)
    await add_member(core, town.shop_id, CASHIER, "cashier")
    await add_member(core, town.shop_id, "+393339990065", "cashier")
    anna = await open_till(Chat(core, CASHIER))
    bruno = await open_till(Chat(core, "+393339990065"))
    # Anna alone waits for a code: a wrong one is a slip, as before.
    await anna.expect(f"PAGA {town.citizen_phones[1]} 12", ASK_CODE)
    wrong = wrong_guesses(await citizen_code(core, town.citizen_phones[1]), 1)[0]
    await anna.expect(wrong, WRONG_CODE, READ_AGAIN)
    await anna.expect(await citizen_code(core, town.citizen_phones[1]), CONFIRMED)
    # Both tills wait; Anna's customer reads her code to Bruno. It was "ask the customer to
    # read the code again", and Bruno's next slip ended his till's session.
    await anna.expect("PAGA", WHO)
    await anna.expect(f"{town.citizen_cfs[0]} 23,40", ASK_CODE)
    anna_code = await citizen_code(core, town.citizen_phones[0])
    await bruno.expect(f"PAGA {town.citizen_phones[1]} 5", ASK_CODE)
    replies = await bruno.expect(anna_code, WRONG_CODE, ANOTHER_TILL)
    assert READ_AGAIN not in msgids(replies)
    # Still a wrong code for Bruno's payment (every code but its own is); Anna's pays.
    assert param(replies, "count") == 1
    await anna.expect(anna_code, CONFIRMED)
    assert await charge_statuses(core, town.shop_id) == ["confirmed", "confirmed", "pending"]
