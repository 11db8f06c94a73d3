"""A payment code is told to the cashier: sent to the service number it is explained, and
ANNULLA from the phone that received it refuses the payment (usertest item 9)."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.menus import FIRST_HELP
from core.domain.charges import ChargeStatus
from core.services import delegates
from tests.dialogue.harness import Chat, msgids, open_till, outbox_of
from tests.dialogue.test_shop import CONFIRMED, balance, citizen_code
from tests.factories import approved_request, make_town

HERE = (
    "This code is for the cashier: say it to them, do not send it here. If you do not want to "
    "pay, do not say it, or write ANNULLA to refuse."
)
REFUSED = "Payment of {amount} to {shop} refused: the code no longer works. The shop was told."
SHOP_TOLD = (
    "The customer refused the payment of {amount}: the code no longer works. Ask how they "
    "want to pay."
)
NOTHING = "There is nothing to cancel."


async def charge_status(core: Core, charge_id: int) -> str:
    async with core.uow() as uow:
        charge = await uow.charges.by_id(charge_id)
        assert charge is not None
        return charge.status


async def test_a_payment_code_sent_here_is_explained_and_still_works_at_the_till(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    code = await citizen_code(core, town.citizen_phones[0])
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect(code, HERE)
    await citizen.expect(f"il codice è {code}", HERE)
    await citizen.expect(f"{code[:3]} {code[3:]}", HERE)
    assert (await citizen.state())[:2] == (None, None)
    # Explaining changed nothing: the cashier still takes the code.
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 150_00 - 15_00
    # The payment made, its code is said to be of no more use; six other digits are just a
    # number, and get the help.
    await citizen.expect(
        code,
        "This code was for the payment of {amount} at {shop}, already made: it is no longer "
        "needed.",
    )
    await citizen.expect(f"{(int(code) + 1) % 1_000_000:06d}", FIRST_HELP.msgid)
    await citizen.expect("ANNULLA", NOTHING)


async def test_annulla_refuses_the_payment_and_tells_the_shop(core: Core) -> None:
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    code = await citizen_code(core, town.citizen_phones[0])
    # Another citizen's ANNULLA refuses nothing of theirs.
    await Chat(core, town.citizen_phones[1]).expect("ANNULLA", NOTHING)
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect("ANNULLA", REFUSED)
    [row] = [
        row
        for row, reply in await outbox_of(core, "sms", town.shop_phone)
        if reply.texts[0].msgid == SHOP_TOLD
    ]
    assert row.charge_id is not None
    assert await charge_status(core, row.charge_id) == ChargeStatus.CANCELLED
    await till.send(code)
    assert CONFIRMED not in msgids(till.last)
    assert await balance(core, town) == 150_00
    await citizen.expect("ANNULLA", NOTHING)


async def test_the_delegate_who_received_the_code_is_told_and_can_refuse(core: Core) -> None:
    town = await make_town(core, citizens=1)
    delegate = "+393471230001"
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        cf = town.citizen_cfs[0]
        yes = await approved_request(uow, municipality, cf, "delegate", delegate)
        await delegates.add_delegate(uow, municipality, cf, delegate, core.now(), approved=yes)
        await uow.commit()
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    code = await citizen_code(core, delegate)
    helper = Chat(core, delegate)
    await helper.expect(code, HERE)
    # The holder's own phone did not receive this code: nothing of it is theirs to refuse.
    await Chat(core, town.citizen_phones[0]).expect("ANNULLA", NOTHING)
    await helper.expect("ANNULLA", REFUSED)
    assert await balance(core, town) == 150_00


WAITING = (
    "{shop} asks {amount} and waits for the code: if you agree, tell it to the cashier; if "
    "not, write ANNULLA."
)


async def test_words_in_answer_to_a_payment_code_name_the_payment(core: Core) -> None:
    """Trial finding: "no", "ok", "si va bene" written back to the code's SMS got the general
    help; a person who wrote "no" believed they had refused."""
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    code = await citizen_code(core, town.citizen_phones[0])
    citizen = Chat(core, town.citizen_phones[0])
    # (A refusal in words, "non pago", "non ho comprato niente", refuses it as ANNULLA:
    # test_payment_refused_in_words.)
    for words in ("no", "ok", "si va bene"):
        await citizen.expect(words, WAITING)
        assert (await citizen.state())[:2] == (None, None)
    # Another citizen, with nothing waiting, still gets the help.
    other = Chat(core, town.citizen_phones[1])
    await other.send("MENU")
    await other.expect("no", FIRST_HELP.msgid)
    # Nothing changed: the code still pays, and afterwards "no" is just words again.
    await till.expect(code, CONFIRMED)
    assert await balance(core, town) == 150_00 - 15_00
    await citizen.expect("no", FIRST_HELP.msgid)


async def test_after_naming_the_payment_annulla_still_refuses_it(core: Core) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    code = await citizen_code(core, town.citizen_phones[0])
    citizen = Chat(core, town.citizen_phones[0])
    await citizen.expect("no", WAITING)
    await citizen.expect("ANNULLA", REFUSED)
    await till.send(code)
    assert CONFIRMED not in msgids(till.last)
    assert await balance(core, town) == 150_00
