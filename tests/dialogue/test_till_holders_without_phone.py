"""A holder no code can reach by what the cashier typed (a card holder without a phone, a
holder with no phone, chat nor card) is, at the till, nobody: a shop that computes a
neighbour's codice fiscale must not learn, unseen by them, that they receive vouchers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.services import cards
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import Chat, add_member, open_till
from tests.dialogue.test_cards_delegates import ASK_PIN, PAYS_BY_CARD
from tests.dialogue.test_shop import NOBODY
from tests.factories import Town, approved_request, make_cf, make_town

TERMINAL = "+393339990077"


async def holders_without_phone(core: Core) -> Town:
    """Citizen 0 pays with a card and has no phone (about one in ten apply so); citizen 1
    has no phone, no chat and no card yet."""
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        for citizen_id in town.citizen_ids:
            citizen = await uow.citizens.by_id(citizen_id)
            assert citizen is not None
            citizen.phone = None
        cf = town.citizen_cfs[0]
        yes = await approved_request(uow, municipality, cf, "card")
        await cards.issue_card(uow, municipality, cf, core.now(), approved=yes)
        await uow.commit()
    assert isinstance(core.clock, FakeClock)
    core.clock.advance(minutes=5)
    return town


def said(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
    return [(text.msgid, dict(text.params)) for reply in chat.last for text in reply.texts]


async def messages(core: Core) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(m.OutboxMessage)) or 0)


async def test_a_holder_no_code_reaches_is_answered_as_nobody(core: Core) -> None:
    town = await holders_without_phone(core)
    for till in (
        await open_till(Chat(core, town.shop_phone)),
        Chat(core, TERMINAL, channel=Channel.TERMINAL),
    ):
        if till.channel is Channel.TERMINAL:
            await add_member(core, town.shop_id, TERMINAL, "cashier", channel="terminal")
        answers = []
        for cf in (make_cf(99), town.citizen_cfs[0], town.citizen_cfs[1]):
            before = await messages(core)
            await till.expect(f"PAGA {cf} 5", NOBODY)
            assert PAYS_BY_CARD not in [msgid for msgid, _ in said(till)]
            answers.append((said(till), (await till.state())[:2]))
            # Only the till's own answer: nobody else was written to.
            assert await messages(core) == before + len(till.last)
        assert answers[1] == answers[0] and answers[2] == answers[0], answers
    # The holder pays with the card, as before.
    async with core.uow() as uow:
        holder = await uow.citizens.by_id(town.citizen_ids[0])
        assert holder is not None
        card = holder.card_code
    await till.expect(f"PAGA {card} 5", ASK_PIN)
