""" "Non sono io" by SMS refuses the payment at once, but counts against the shop only once
the person writes back the challenge of the reply ("NON SONO IO 4821"), which only the real
phone read: a forged sender can cancel her payment, never put a "not me" on the shop's
record. A wrong challenge changes nothing and three end it. On Telegram (a bound account)
it counts at once."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.render import render_plain
from core.domain.channels import Channel
from core.domain.charges import ChargeStatus
from core.services import security
from tests.dialogue.harness import Chat, assert_one_segment, msgids, open_till, outbox_of, param
from tests.dialogue.test_payment_code_sent_here import charge_status
from tests.dialogue.test_shop import citizen_code
from tests.factories import make_town

NOT_ME_SMS = (
    "Payment of {amount} to {shop} refused: the code no longer works. To report it to the "
    "office, reply NOT ME {challenge}"
)
NOT_ME_TELEGRAM = (
    "Payment of {amount} to {shop} refused: the code no longer works. Not you? Someone has "
    "your details: write UFFICIO."
)
CONFIRMED = (
    "Thank you: the office knows that the payment of {amount} at {shop} was not yours. "
    "Someone has your details: write UFFICIO."
)
WRONG = (
    "These are not the digits we sent you: nothing was reported. Reply NOT ME and the digits "
    "of our last message."
)
USED_UP = "Too many wrong digits: nothing was reported. To tell the office, write UFFICIO."


async def _kept(core: Core, municipality_id: int) -> list[security.NotMeRefusal]:
    async with core.uow() as uow:
        return [
            refusal
            for refusals in (await security.not_me_refusals(uow, municipality_id)).values()
            for refusal in refusals
        ]


async def _charge_asked(core: Core, phone: str) -> int:
    [row] = [
        row
        for row, reply in await outbox_of(core, "sms", phone)
        if reply.texts and "{code}" in reply.texts[0].msgid
    ][-1:]
    assert row.charge_id is not None
    return row.charge_id


@pytest.mark.parametrize("language", ["it", "en"])
async def test_sms_not_me_is_kept_unconfirmed_until_the_challenge_comes_back(
    core: Core, language: str
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    await citizen_code(core, town.citizen_phones[0])
    charge_id = await _charge_asked(core, town.citizen_phones[0])
    citizen = Chat(core, town.citizen_phones[0])

    refused = await citizen.expect("non sono io", NOT_ME_SMS)
    # Cancelling is immediate: it only protects her.
    assert await charge_status(core, charge_id) == ChargeStatus.CANCELLED
    challenge = str(param(refused, "challenge"))
    assert len(challenge) == 4 and challenge.isdigit()
    body = assert_one_segment(refused[0], language)
    assert body.endswith(("NON SONO IO " if language == "it" else "NOT ME ") + challenge), body
    # Kept for the office, but not confirmed: the sender of an SMS can be forged.
    assert await _kept(core, town.municipality_id) == [
        security.NotMeRefusal(core.now(), 15_00, f"sms:{town.shop_phone}", "sms", False)
    ]

    wrong = "0000" if challenge != "0000" else "1111"
    replies = await citizen.expect(f"NON SONO IO {wrong}", WRONG)
    assert [x.confirmed for x in await _kept(core, town.municipality_id)] == [False]
    assert render_plain(replies[0], language, sms=True).startswith(
        "Queste non sono le cifre" if language == "it" else "These are not the digits"
    )

    replies = await citizen.expect(f"Non sono io {challenge}", CONFIRMED)
    assert_one_segment(replies[0], language)
    assert await _kept(core, town.municipality_id) == [
        security.NotMeRefusal(core.now(), 15_00, f"sms:{town.shop_phone}", "sms", True)
    ]
    # Written again, it confirms nothing more: the words alone, as with nothing waiting.
    assert CONFIRMED not in msgids(await citizen.send(f"non sono io {challenge}"))


async def test_three_wrong_challenges_end_it_and_the_right_one_then_confirms_nothing(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    await citizen_code(core, town.citizen_phones[0])
    forger = Chat(core, town.citizen_phones[0])  # a forged sender writes as her number
    challenge = str(param(await forger.expect("not me", NOT_ME_SMS), "challenge"))
    guesses = [g for g in ("1234", "5678", "9012", "3456") if g != challenge][:3]
    await forger.expect(f"not me {guesses[0]}", WRONG)
    await forger.expect(f"not me {guesses[1]}", WRONG)
    await forger.expect(f"not me {guesses[2]}", USED_UP)
    # Even the right one now changes nothing: the refusal stays unconfirmed.
    replies = await forger.send(f"not me {challenge}")
    assert CONFIRMED not in msgids(replies)
    assert [x.confirmed for x in await _kept(core, town.municipality_id)] == [False]


async def test_a_challenge_confirms_only_its_own_holders_refusal(core: Core) -> None:
    """Another person's number writing the challenge confirms nothing: the challenge is
    checked against the refusals of payments whose codes go to the chat it comes from."""
    town = await make_town(core, citizens=2)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    await citizen_code(core, town.citizen_phones[0])
    challenge = str(
        param(
            await Chat(core, town.citizen_phones[0]).expect("non sono io", NOT_ME_SMS), "challenge"
        )
    )
    other = await Chat(core, town.citizen_phones[1]).send(f"non sono io {challenge}")
    assert CONFIRMED not in msgids(other) and WRONG not in msgids(other)
    assert [x.confirmed for x in await _kept(core, town.municipality_id)] == [False]


async def test_not_me_on_telegram_counts_at_once(core: Core) -> None:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        holder = await uow.citizens.by_codice_fiscale(town.municipality_id, town.citizen_cfs[0])
        assert holder is not None
        holder.telegram_chat_id = "8001"  # payment codes go to Telegram
        await uow.commit()
    citizen = Chat(core, "8001", channel=Channel.TELEGRAM)
    await citizen.send("SALDO")
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 4")
    replies = await citizen.expect("non sono io", NOT_ME_TELEGRAM)
    assert "challenge" not in {name for reply in replies for x in reply.texts for name in x.params}
    assert await _kept(core, town.municipality_id) == [
        security.NotMeRefusal(core.now(), 4_00, f"sms:{town.shop_phone}", "telegram", True)
    ]


AGAIN = (
    "The payment of {amount} at {shop} is refused. To report it to the office, reply NOT ME "
    "{challenge}"
)


@pytest.mark.parametrize("language", ["it", "en"])
async def test_not_me_written_again_without_digits_says_a_new_challenge(
    core: Core, language: str
) -> None:
    """She lost the reply, or writes the words alone again: the challenge is said again,
    new (the old one no longer confirms), its wrong tries kept."""
    town = await make_town(core, citizens=1)
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    await citizen_code(core, town.citizen_phones[0])
    citizen = Chat(core, town.citizen_phones[0])
    first = str(param(await citizen.expect("non sono io", NOT_ME_SMS), "challenge"))
    again = await citizen.expect("non sono io", AGAIN)
    second = str(param(again, "challenge"))
    body = assert_one_segment(again[0], language)
    assert body.endswith(("NON SONO IO " if language == "it" else "NOT ME ") + second), body
    if first != second:
        await citizen.expect(f"non sono io {first}", WRONG)
    await citizen.expect(f"non sono io {second}", CONFIRMED)
    assert [x.confirmed for x in await _kept(core, town.municipality_id)] == [True]
