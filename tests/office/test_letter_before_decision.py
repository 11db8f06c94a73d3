"""The decision letter exists once something was decided: before it, the letter printed a
"decision" with a time to appeal it, and between a tranche's approval and its credit it said
the amount "is credited to your balance". The application's page offers no link then, and
the address answers with the office's own page saying why, not a PDF."""

from __future__ import annotations

from core.bootstrap import Core
from core.services import allocation, municipalities
from tests.integration.office_helpers import apply, person
from tests.integration.test_application_desk import paper
from tests.office.conftest import Towns, signed_in
from tests.office.pdf_text import pdf_text


async def test_no_decision_letter_before_the_tranche_that_decides_is_credited(
    towns: Towns, core: Core
) -> None:
    admitted, excluded = await apply(towns.bel, person(1, 4), person(2, 1, work=True))
    clerk = await signed_in(towns.server, "bel.clerk")

    async def refused(protocol: str) -> None:
        page = await clerk.get(f"/office/applications/{protocol}")
        assert f"/office/applications/{protocol}/letter.pdf" not in page.text
        assert 'id="no-letter"' in page.text and "Lettera di esito: quando la domanda" in page.text
        # The receipt is the application's, decided or not.
        assert f"/office/applications/{protocol}/receipt.pdf" in page.text
        letter = await clerk.get(f"/office/applications/{protocol}/letter.pdf")
        assert letter.status == 409
        assert letter.headers["Content-Type"].startswith("text/html")
        assert f"La domanda {protocol} non è ancora stata decisa" in letter.text

    for protocol in (admitted, excluded):
        await refused(protocol)
    # Approved, not credited yet: the applicant was told nothing, nothing is on the balance.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.close_window(uow, town, core.now())
        await allocation.approve(uow, town, 400_00, core.now())
        await uow.commit()
    for protocol in (admitted, excluded):
        await refused(protocol)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.credit(uow, town, core.now())
        await uow.commit()
    page = await clerk.get(f"/office/applications/{admitted}")
    assert f"/office/applications/{admitted}/letter.pdf" in page.text
    assert 'id="no-letter"' not in page.text
    letter = await clerk.get(f"/office/applications/{admitted}/letter.pdf")
    assert letter.status == 200 and letter.headers["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(letter.body).split())
    assert "è ammessa (Lista 1): sono concessi buoni spesa per 300,00 €" in text
    letter = await clerk.get(f"/office/applications/{excluded}/letter.pdf")
    assert "non è ammessa. Motivo: reddito da lavoro" in " ".join(pdf_text(letter.body).split())


async def test_the_paper_letters_leave_out_applications_not_decided_yet(
    towns: Towns, core: Core
) -> None:
    """Everyone's letters to post: one per paper application decided, none for the others,
    and a page that says they wait when no letter can be written yet."""
    [on_paper] = await paper(towns.bel, person(1, 4))
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/documents/paper-letters.pdf?window=1")
    text = " ".join(pdf_text(page.body).split())
    assert page.status == 200 and on_paper not in text and "RICORSO" not in text
    assert "Bando 1: 1 domanda su carta aspetta la decisione" in text
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.close_window(uow, town, core.now())
        await allocation.approve(uow, town, 400_00, core.now())
        await allocation.credit(uow, town, core.now())
        await uow.commit()
    page = await clerk.get("/office/documents/paper-letters.pdf?window=1")
    text = " ".join(pdf_text(page.body).split())
    assert on_paper in text and "sono concessi buoni spesa per 300,00 €" in text
