"""A revocation of an application given nothing that no tranche can pay would take nothing
back, recover nothing and stop nothing, and only tell the applicant that vouchers they
never had were revoked: the service refuses it with the reason, nothing changed, and the
application's page says the reason instead of offering the button. An application a later
tranche may still pay (on list 2, cut by the budget) keeps its button."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.bootstrap import Core
from core.domain.errors import Refusal
from core.services import audit, municipalities
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.office.conftest import Towns, signed_in

PREPARE = 'name="kind" value="revocation"'


async def _counts(core: Core) -> tuple[int, ...]:
    """Acts, revocations, messages queued and revoked applications: what a revocation
    prepared or carried out would have added to."""
    async with core.uow() as uow:
        counted = [
            await uow.session.scalar(select(func.count()).select_from(table))
            for table in (m.OfficeAct, m.Revocation, m.OutboxMessage)
        ]
        revoked = await uow.session.scalar(
            select(func.count())
            .select_from(m.Application)
            .where(m.Application.revoked_at.is_not(None))
        )
    return (*(int(n or 0) for n in counted), int(revoked or 0))


async def test_an_excluded_application_is_not_offered_a_revocation_and_cannot_be_revoked(
    towns: Towns, core: Core
) -> None:
    paid, excluded, cut = await apply(
        towns.bel,
        person(1),  # list 1: 150 € credited
        person(2, work=True),  # excluded for work income: 0 €, and so in every tranche
        person(3, support_cents=300_00),  # list 2, left out by the budget: a later tranche
    )
    await close_approve_credit(towns.bel, 150_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get(f"/office/applications/{excluded}")
    assert page.status == 200
    assert PREPARE not in page.text
    assert "Prepara la revoca" not in page.text
    assert 'id="not-revocable"' in page.text
    assert f"La domanda {excluded} non ha nulla da revocare" in page.text
    for protocol in (paid, cut):
        page = await clerk.get(f"/office/applications/{protocol}")
        assert PREPARE in page.text and 'id="not-revocable"' not in page.text, protocol

    before = await _counts(core)
    page = await clerk.post(
        "/office/acts",
        {"kind": "revocation", "protocol": excluded, "reason": "ISEE falso"},
    )
    assert page.status == 409
    assert f"La domanda {excluded} non ha nulla da revocare" in page.text
    # The command line's tool is refused the same way, by the service.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        with pytest.raises(audit.NothingToRevoke) as refused:
            await audit.revoke(uow, town, excluded, core.now(), reason="ISEE falso")
        assert refused.value.code == Refusal.APPLICATION_NOTHING_TO_REVOKE
        await uow.rollback()
    assert await _counts(core) == before

    # The one the budget left out can still be paid by a later tranche: revoking stops it.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        done = await audit.revoke(uow, town, cut, core.now(), reason="ISEE falso")
        await uow.commit()
    assert (done.returned_cents, done.to_recover_cents) == (0, 0)


async def test_an_earlier_windows_application_given_nothing_cannot_be_revoked(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """Tranches are approved for the latest window only: once the next one opens, an
    application of the window before that got nothing will never be paid."""
    _, cut = await apply(towns.bel, person(1), person(3, support_cents=300_00))
    await close_approve_credit(towns.bel, 150_00)
    clerk = await signed_in(towns.server, "bel.clerk")
    assert PREPARE in (await clerk.get(f"/office/applications/{cut}")).text
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.open_window(uow, town, clock(), days=4)
        await uow.commit()
    page = await clerk.get(f"/office/applications/{cut}")
    assert PREPARE not in page.text and 'id="not-revocable"' in page.text
    before = await _counts(core)
    page = await clerk.post(
        "/office/acts", {"kind": "revocation", "protocol": cut, "reason": "ISEE falso"}
    )
    assert page.status == 409 and "non ha nulla da revocare" in page.text
    assert await _counts(core) == before
