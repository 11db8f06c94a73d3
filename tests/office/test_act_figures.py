"""What a determina and a credit will do, shown before preparing and beside "Approve", and
equal to what the approval then carries out (core.services.act_figures)."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select, update

from core.bootstrap import Core
from core.services import act_figures, allocation, audit, municipalities
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.office.conftest import Towns, signed_in
from tests.office.harness import OfficeBrowser
from tests.office.test_four_eyes import act_status, prepare

SEEN = re.compile(r'name="seen" value="([0-9a-f]+)"')
BUDGET = 400_00


async def closed_round(towns: Towns, clock: FakeClock) -> list[str]:
    """List 1: a household of 4 (300 €); list 2: one of 1 (150 €); excluded: work income."""
    protocols = await apply(
        towns.bel, person(1, 4), person(2, 1, support_cents=30000), person(3, 2, work=True)
    )
    clerk = await signed_in(towns.server, "bel.clerk")
    assert (
        await clerk.post("/office/round/window/close", {"number": "1", "confirm": "yes"})
    ).status == 200
    clock.advance(hours=1)
    return protocols


async def act_outcome(core: Core, act_id: int) -> dict[str, object]:
    async with core.uow() as uow:
        act = await uow.session.get(m.OfficeAct, act_id)
        assert act is not None and act.outcome is not None
        return dict(act.outcome)


async def determina_now(core: Core, budget_cents: int) -> act_figures.DeterminaFigures:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        return await act_figures.determina(uow, town, budget_cents)


async def credit_now(core: Core) -> act_figures.CreditFigures:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        return await act_figures.credit(uow, town)


async def approve_as_shown(manager: OfficeBrowser, page: str, act_id: int) -> int:
    seen = SEEN.findall(page)
    assert len(seen) == 1
    return (await manager.post(f"/office/acts/{act_id}/approve", {"seen": seen[0]})).status


async def test_the_figures_shown_are_those_the_approval_carries_out(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    determina = await determina_now(core, BUDGET)
    assert (determina.list1, determina.list1_cents) == (1, 300_00)
    assert (determina.list2, determina.list2_cents) == (1, 100_00)
    assert determina.excluded == 1 and determina.households == 2
    assert determina.allocated_cents == BUDGET and determina.left_cents == 0
    assert determina.unspent_cents == 0

    # The clerk checks the determina before preparing it: the simulator's figures.
    page = await clerk.get("/office/round?determina=400")
    assert page.status == 200
    for line in (
        "Tranche 1, budget 400,00",
        "Lista 1: 1 nucleo, 300,00",
        "Lista 2: 1 nucleo, 100,00",
        "Esclusi: 1 nucleo.",
        "Assegnati: 400,00 € a 2 nuclei.",
        "Restano nel budget: 0,00",
    ):
        assert line in unescape(page.text).replace("\xa0", " "), line
    assert 'name="confirm"' not in page.text  # nothing would stay unspent
    simulator = await clerk.get("/office/round?budget=400.00")
    assert "400,00" in simulator.text
    act = await prepare(clerk, kind="determina", budget="400")

    # The manager sees them beside "Approve", on the round page and on the dashboard.
    for where in ("/office/round", "/office/"):
        page = await manager.get(where)
        text = unescape(page.text).replace("\xa0", " ")
        assert "Assegnati: 400,00 € a 2 nuclei." in text and "Esclusi: 1 nucleo." in text
        assert f'name="seen" value="{determina.state}"' in page.text
        assert "cambiate" not in text
    assert await approve_as_shown(manager, page.text, act) == 200
    outcome = await act_outcome(core, act)
    assert outcome["households"] == determina.households
    assert outcome["allocated_cents"] == determina.allocated_cents
    assert outcome["changed_since_preparation"] is False
    async with core.uow() as uow:
        frozen = await uow.session.scalar(select(func.sum(m.AllocationLine.amount_cents)))
    assert frozen == determina.allocated_cents

    # The credit: which tranche, how many households, how much, how many notices.
    credit = await credit_now(core)
    assert (credit.tranche, credit.households, credit.total_cents) == (1, 2, BUDGET)
    assert credit.notices == 3  # two paid, one told it is excluded
    act = await prepare(clerk, kind="credit")
    page = await manager.get("/office/round")
    text = unescape(page.text).replace("\xa0", " ")
    assert "Tranche 1: 400,00 € da accreditare a 2 nuclei." in text
    assert "Verranno inviati 3 avvisi." in text
    async with core.uow() as uow:
        queued = await uow.session.scalar(select(func.count(m.OutboxMessage.id)))
    assert await approve_as_shown(manager, page.text, act) == 200
    outcome = await act_outcome(core, act)
    assert outcome["tranche"] == credit.tranche
    assert outcome["households"] == credit.households
    assert outcome["credited_cents"] == credit.total_cents
    assert outcome["notices"] == credit.notices
    async with core.uow() as uow:
        after = await uow.session.scalar(select(func.count(m.OutboxMessage.id)))
    assert after is not None and queued is not None and after == queued + credit.notices


async def test_a_budget_the_rules_cannot_spend_is_prepared_only_when_typed_twice(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    await closed_round(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    figures = await determina_now(core, 1_000_00)
    assert figures.allocated_cents == 450_00  # everyone gets all they are due
    assert figures.unspent_cents == 1_000_00 - 450_00
    page = await clerk.get("/office/round?determina=1000")
    text = unescape(page.text).replace("\xa0", " ")
    assert "550,00 € resterebbero non spesi" in text
    assert 'name="confirm"' in page.text

    async def acts_prepared() -> int:
        async with core.uow() as uow:
            return int(await uow.session.scalar(select(func.count(m.OfficeAct.id))) or 0)

    for form in (
        {"kind": "determina", "budget": "1000"},
        {"kind": "determina", "budget": "1000", "confirm": "100"},
        {"kind": "determina", "budget": "1000", "confirm": "tanti"},
        {"kind": "determina", "budget": "quattro", "confirm": "quattro"},
        # The tester's budget, typed twice: a typo of digits, whatever the fund holds (a
        # budget beyond the fund is tests/office/test_fund.py's).
        {"kind": "determina", "budget": "99999999999", "confirm": "99999999999"},
    ):
        refused = await clerk.post("/office/acts", form)
        assert refused.status in (400, 409), form
        assert await acts_prepared() == 0
    said = unescape(refused.text).replace("\xa0", " ")
    assert "non è un budget plausibile: al massimo 50.000.000,00 €" in said
    page = await clerk.post("/office/acts", {"kind": "determina", "budget": "1000"})
    assert "resterebbero non spesi" in page.text
    # A typo in the budget typed again: said as two amounts that differ.
    page = await clerk.post(
        "/office/acts", {"kind": "determina", "budget": "1000", "confirm": "100"}
    )
    assert (
        "Il budget scritto di nuovo (100,00 €) è diverso dal budget della determina "
        "(1.000,00 €): non è stato preparato nulla."
    ) in unescape(page.text).replace("\xa0", " ")
    page = await clerk.get("/office/round?determina=99999999999")
    assert "non è un budget plausibile" in page.text
    assert 'name="confirm"' not in page.text  # nothing to confirm: it cannot be prepared
    page = await clerk.get("/office/round?determina=quattro")
    assert page.status == 200 and 'role="alert"' in page.text
    act = await prepare(clerk, kind="determina", budget="1000", confirm="1.000,00")
    manager = await signed_in(towns.server, "bel.manager")
    page = await manager.get("/office/round")
    assert "550,00 € resterebbero non spesi" in unescape(page.text).replace("\xa0", " ")
    assert await act_status(core, act) == "prepared"


async def test_an_approval_on_figures_that_changed_is_refused(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    protocols = await closed_round(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    act = await prepare(clerk, kind="determina", budget="400")
    shown = await manager.get("/office/round")
    # The list-1 household turns out to have 2 members, after the manager looked.
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Application)
            .where(m.Application.protocol == protocols[0])
            .values(household_size=2)
        )
        await uow.commit()
    assert await approve_as_shown(manager, shown.text, act) == 409
    assert await act_status(core, act) == "prepared"
    async with core.uow() as uow:
        assert await uow.session.scalar(select(m.Allocation.id).limit(1)) is None
    # Looked at again: the page says the applications changed, with the figures now.
    page = await manager.get("/office/round")
    text = unescape(page.text).replace("\xa0", " ")
    assert "Le domande sono cambiate da quando l'atto è stato preparato" in text
    assert "Lista 1: 1 nucleo, 200,00" in text
    assert await approve_as_shown(manager, page.text, act) == 200
    outcome = await act_outcome(core, act)
    assert outcome["allocated_cents"] == 350_00 and outcome["changed_since_preparation"] is True


async def test_the_credit_says_which_households_revoked_since_the_determina_it_skips(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    protocols = await closed_round(towns, clock)
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    act = await prepare(clerk, kind="determina", budget="400")
    page = await manager.get("/office/round")
    assert await approve_as_shown(manager, page.text, act) == 200
    # The list-1 household (300 €) is revoked between the determina and its credit.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await audit.revoke(uow, town, protocols[0], clock(), reason="false declaration")
        await uow.commit()
    act = await prepare(clerk, kind="credit")
    for where in ("/office/round", "/office/"):
        text = unescape((await manager.get(where)).text).replace("\xa0", " ")
        assert "Tranche 1: 100,00 € da accreditare a 1 nucleo." in text
        assert "La determina assegnava 400,00 € a 2 nuclei." in text
        assert (
            "Saltato: 1 nucleo, con la domanda revocata dopo la determina: "
            "300,00 € non pagati." in text
        )
        assert "registralo come nuova voce nella pagina del fondo" in text
    english = await signed_in(towns.server, "bel.manager2")
    await english.post("/office/language", {"lang": "en"})
    text = unescape((await english.get("/office/round")).text).replace("\xa0", " ")
    assert "The determina gave €400.00 to 2 households." in text
    assert (
        "Skipped: 1 household, its application revoked after the determina: "
        "€300.00 not paid." in text
    )


async def undo_now(core: Core, protocol: str) -> str:
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        return act_figures.undo_state(await audit.undo_figures(uow, town, protocol))


async def test_the_undoing_of_a_revocation_carries_its_fingerprint_as_a_credit_does(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    """Prepared with the fingerprint of what it gives back and leaves unpaid (the same
    act_figures.fingerprint), sent back by "Approve" as a determina's or a credit's: a
    tranche credited after the manager looked is not approved on the figures they saw."""
    protocols = await apply(towns.bel, person(1), person(2), person(3))
    await close_approve_credit(towns.bel, 300_00)  # tranche 1 pays part of what is due
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.approve(uow, town, 150_00, clock())  # tranche 2: the rest
        await audit.revoke(uow, town, protocols[0], clock(), reason="ISEE falso")
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    manager = await signed_in(towns.server, "bel.manager")
    act = await prepare(
        clerk, kind="revocation_undo", protocol=protocols[0], reason="persona sbagliata"
    )
    prepared = await undo_now(core, protocols[0])
    async with core.uow() as uow:
        recorded = await uow.session.get(m.OfficeAct, act)
        assert recorded is not None and recorded.params["state"] == prepared
    for where in ("/office/audit", "/office/"):
        shown = await manager.get(where)
        assert SEEN.findall(shown.text) == [prepared], where
        assert "impronta" not in shown.text and "cambiat" not in shown.text

    # Tranche 2 is credited after the manager looked: it skips the revoked application,
    # and the undoing will not pay its 50 €.
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await allocation.credit(uow, town, clock())
        await uow.commit()
    assert await approve_as_shown(manager, shown.text, act) == 409
    assert await act_status(core, act) == "prepared"
    assert (await application_of(core, protocols[0])).revoked_at is not None
    page = await manager.get("/office/audit")
    text = unescape(page.text).replace("\xa0", " ")
    assert SEEN.findall(page.text) == [await undo_now(core, protocols[0])] != [prepared]
    assert (
        "Quanto questo annullamento restituisce o lascia non pagato è cambiato da quando è "
        "stato preparato: queste sono le cifre di adesso." in text
    )
    assert "La tranche 2 è stata accreditata mentre la domanda era revocata" in text
    assert await approve_as_shown(manager, page.text, act) == 200
    outcome = await act_outcome(core, act)
    assert outcome["changed_since_preparation"] is True
    assert (await application_of(core, protocols[0])).revoked_at is None


async def application_of(core: Core, protocol: str) -> m.Application:
    async with core.uow() as uow:
        found = await uow.applications.by_protocol(protocol)
        assert found is not None
        return found
