"""An applicant on the office's desk, as the tests of one application's page start: the
applicant entered from paper in BEL (and, when a test needs another holder's number, a
neighbour after them), BEL's clerk signed in and speaking English, and the page's address;
then, the applicant's citizen as stored, to see what a refusal left unchanged; and a number
the applicant's Telegram chat asked, waiting for the office."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.bootstrap import Core
from core.services import identity
from core.services.applications import ApplicationInput
from core.storage import models as m
from tests.integration.office_helpers import person
from tests.integration.test_application_desk import paper
from tests.office.conftest import Towns, signed_in
from tests.office.harness import OfficeBrowser

# Another applicant of the same town, holding a number the clerk then types for the first.
NEIGHBOUR = person(2, 1, phone="+393331112223")


async def at_the_desk(
    towns: Towns, applicant: ApplicationInput, *others: ApplicationInput
) -> tuple[OfficeBrowser, str]:
    """`applicant` entered from paper in BEL, then each of `others`; BEL's clerk, signed in
    and speaking English, and the address of the applicant's page."""
    [protocol] = await paper(towns.bel, applicant)
    for other in others:
        await paper(towns.bel, other)
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/language", {"lang": "en"})
    return clerk, f"/office/applications/{protocol}"


async def citizen_of(core: Core, towns: Towns, applicant: ApplicationInput) -> m.Citizen | None:
    """The citizen BEL stores for `applicant`, read afresh."""
    async with core.uow() as uow:
        return await uow.citizens.by_codice_fiscale(
            towns.bel.municipality_id, applicant.codice_fiscale
        )


async def chat_asks_a_number(
    core: Core, municipality_id: int, codice_fiscale: str, chat: str, phone: str
) -> str:
    """The citizen with this codice fiscale, who has vouchers to spend, made known without a
    phone and linked to the Telegram chat `chat` (an application made there before phones
    were required); the chat shares its own contact, `phone`: the number waits for the
    office, asked by the chat (identity.FirstNumberNeedsOffice). The waiting change's id."""
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.codice_fiscale == codice_fiscale)
            .values(phone=None, phone_proven_by=None, phone_proven_at=None, telegram_chat_id=chat)
        )
        await uow.commit()
    async with core.uow() as uow:
        with pytest.raises(identity.FirstNumberNeedsOffice) as asked:
            await identity.link_telegram(uow, municipality_id, chat, phone, core.now())
        await uow.commit()
    assert asked.value.change is not None
    return str(asked.value.change.id)
