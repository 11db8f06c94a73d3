"""SMS trial (oldphone24): "ho perso il portafoglio", "mi hanno rubato il portafoglio", "ho
perso la borsa" alone got the list of every word. Her voucher card was likely in it: she
hears, in one SMS, that the vouchers are not lost and that the office blocks the card and
gives a new one if it was there; a holder with no printed card hears there is none to block.
The chat blocks nothing, as for "ho perso la tessera" (docs/cards-and-delegates.md)."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.commands import WALLET_LOST, WALLET_LOST_ASK_OFFICE, WALLET_LOST_NO_CARD
from core.dialogue.inbound import Channel
from core.dialogue.questions import AND_CARD, WALLET, question_of
from core.services import cards
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, msgids, open_till
from tests.dialogue.test_cards_delegates import ASK_PIN, cards_grouped, slip
from tests.dialogue.test_lost_phone import WAITS
from tests.dialogue.test_own_words import NO_CONTACT
from tests.dialogue.test_shop import CONFIRMED, citizen_code
from tests.dialogue.test_sms_lengths import CITIZEN_PHONE, SHOP_PHONE, long_town
from tests.factories import approved_request, make_town

WALLET_ALONE = [
    "ho perso il portafoglio",
    "mi hanno rubato il portafoglio",
    "ho perso la borsa",
    "Mi hanno rubato la borsa!",
    "non trovo più il portafoglio",
    "buongiorno ho perso il borsellino",
    "I lost my wallet",
    "my purse was stolen",
]


@pytest.mark.parametrize("said", WALLET_ALONE)
def test_a_wallet_or_a_bag_lost_is_read(said: str) -> None:
    assert question_of(said) == ("lost_card", WALLET)


@pytest.mark.parametrize(
    ("said", "read"),
    [
        ("ho perso il portafoglio con la tessera", ("lost_card", "")),
        ("mi hanno rubato portafoglio e telefono", ("lost_phone", AND_CARD)),
        ("mi hanno rubato la borsa con la carta d'identità", ("other_card", "")),
    ],
)
def test_a_wallet_with_something_named_keeps_that_reading(said: str, read: tuple[str, str]) -> None:
    assert question_of(said) == read


@pytest.mark.parametrize("language", ["it", "en"])
async def test_a_holder_without_a_card_hears_there_is_none_to_block(
    core: Core, language: str
) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send(f"LINGUA {language}")
    for said in WALLET_ALONE:
        assert msgids(await chat.send(said)) == [WALLET_LOST_NO_CARD.msgid], said
    assert (await chat.state())[:2] == (None, None)


async def test_a_payment_waiting_for_her_code_keeps_waiting(core: Core) -> None:
    # A wallet is not the phone: the code sent to it is still hers to give.
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    till = await open_till(Chat(core, town.shop_phone))
    await till.send(f"PAGA {town.citizen_cfs[0]} 15")
    said = msgids(await chat.send("ho perso il portafoglio"))
    assert said == [WALLET_LOST_NO_CARD.msgid] and WAITS not in said
    await till.expect(await citizen_code(core, town.citizen_phones[0]), CONFIRMED)


async def test_a_card_holder_hears_how_the_card_is_blocked_and_nothing_is_blocked(
    core: Core,
) -> None:
    cf = await long_town(core)
    async with core.uow() as uow:
        town = (await uow.municipalities.all())[0]
        yes = await approved_request(uow, town, cf, "card")
        card = await cards.issue_card(uow, town, cf, core.now(), approved=yes)
        await uow.commit()
    assert isinstance(core.clock, FakeClock)
    core.clock.advance(minutes=5)
    chat = Chat(core, CITIZEN_PHONE)
    await chat.send("MENU")
    replies = await chat.send("mi hanno rubato il portafoglio")
    # One SMS (the harness checks it): the office's contact does not fit beside it.
    assert msgids(replies) == [WALLET_LOST_ASK_OFFICE.msgid]
    async with core.uow() as uow:
        holder = await uow.citizens.by_codice_fiscale(town.id, cf)
        assert isinstance(holder, m.Citizen) and holder.card_blocked_at is None
    # The card still pays: only the office's new card blocks it.
    till = await open_till(Chat(core, SHOP_PHONE))
    await till.expect(f"PAGA {cards_grouped(card.card_code)} 5", ASK_PIN)
    await till.expect(slip(card, till), CONFIRMED)


async def test_from_a_neighbours_phone_the_card_is_said_for_the_case_it_was_there(
    core: Core,
) -> None:
    await make_town(core, citizens=1)
    chat = Chat(core, "+393471239102")
    await chat.send("MENU")
    assert msgids(await chat.send("ho perso la borsa")) == [WALLET_LOST_ASK_OFFICE.msgid]
    # Elsewhere no SMS to fit: the office's contact follows, in the same message.
    terminal = Chat(core, "+393471239103", channel=Channel.TERMINAL)
    replies = await terminal.send("ho perso il portafoglio")
    assert len(replies) == 1
    assert msgids(replies) == [WALLET_LOST.msgid, NO_CONTACT]
