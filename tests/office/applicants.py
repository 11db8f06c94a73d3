"""An applicant on the office's desk, as the tests of one application's page start: the
applicant entered from paper in BEL (and, when a test needs another holder's number, a
neighbour after them), BEL's clerk signed in and speaking English, and the page's address;
then, the applicant's citizen as stored, to see what a refusal left unchanged."""

from __future__ import annotations

from core.bootstrap import Core
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
