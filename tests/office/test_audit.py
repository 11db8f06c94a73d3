"""Checks on declarations in the office: the first draw binds, a redraw needs a reason."""

from __future__ import annotations

from sqlalchemy import select

from core.bootstrap import Core
from core.services import municipalities
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import apply, close_approve_credit, person
from tests.office.conftest import Towns, signed_in


async def test_the_first_draw_binds_and_a_redraw_needs_a_reason(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    protocols = await apply(towns.bel, *(person(n, 1) for n in range(1, 11)))
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.post("/office/audit/draw", {"window": "1", "percent": "20", "seed": "42"})
    assert page.status == 409  # the window is still open: declarations can still change
    await clerk.post("/office/round/window/close", {"number": "1", "confirm": "yes"})
    clock.advance(hours=1)
    viewer = await signed_in(towns.server, "bel.viewer")
    assert (
        await viewer.post("/office/audit/draw", {"window": "1", "percent": "20", "seed": "42"})
    ).status == 403
    # Told it may not, before anything about the window or the seed typed.
    for form in ({"window": "", "seed": "42"}, {"window": "1", "seed": "x"}):
        page = await viewer.post("/office/audit/draw", {"percent": "20", **form})
        assert page.status == 403, form
    assert (
        await clerk.post("/office/audit/draw", {"window": "1", "percent": "0", "seed": "42"})
    ).status == 409
    # A draw cannot be undone: first the page that says so, with what was typed; nothing drawn.
    asked = {"window": "1", "percent": "20", "seed": "42"}
    page = await clerk.post("/office/audit/draw", asked)
    assert page.status == 200 and "Estrarre il campione del bando 1?" in page.text
    assert "Un'estrazione non si può annullare né sostituire" in page.text.replace("&#39;", "'")
    assert 'name="seed" value="42"' in page.text and 'name="confirm" value="yes"' in page.text
    async with core.uow() as uow:
        assert list(await uow.session.scalars(select(m.AuditSample))) == []
    page = await clerk.post("/office/audit/draw", {**asked, "confirm": "yes"})
    assert page.status == 200 and "2 domande estratte con seme 42" in page.text
    assert "con seme 42, 20 per cento di 10 domande" in page.text  # not "20.0"
    binding = [p for p in protocols if f'/office/applications/{p}"' in page.text]
    assert len(binding) == 2
    page = await clerk.post("/office/audit/draw", {"window": "1", "percent": "20", "seed": "7"})
    assert page.status == 409 and "motivo" in page.text
    page = await clerk.post(
        "/office/audit/draw",
        {"window": "1", "percent": "20", "seed": "7", "reason": "seme annunciato errato"},
    )
    assert page.status == 200 and "resta quello vincolante" in page.text
    page = await clerk.post(
        "/office/audit/draw",
        {
            "window": "1",
            "percent": "20",
            "seed": "7",
            "reason": "seme annunciato errato",
            "confirm": "yes",
        },
    )
    assert page.status == 200
    assert [p for p in protocols if f'/office/applications/{p}"' in page.text] == binding
    async with core.uow() as uow:
        entries = list(
            await uow.session.scalars(
                select(m.ActivityEntry).where(m.ActivityEntry.action.like("audit.%"))
            )
        )
    assert [e.action for e in entries] == ["audit.draw", "audit.redraw"]
    assert entries[1].after is not None and entries[1].after["reason"] == "seme annunciato errato"
    stranger = await signed_in(towns.server, "cal.viewer")
    page = await stranger.get("/office/audit")
    assert not any(p in page.text for p in protocols)


async def test_the_draw_is_about_a_named_closed_window_while_a_later_one_is_open(
    towns: Towns, core: Core, clock: FakeClock
) -> None:
    first = await apply(towns.bel, *(person(n, 1) for n in range(1, 5)))
    await close_approve_credit(towns.bel, 400_00)
    async with core.uow() as uow:
        town = await municipalities.require(uow, "BEL")
        await municipalities.open_window(uow, town, clock(), days=4)
        await uow.commit()
    clerk = await signed_in(towns.server, "bel.clerk")
    page = await clerk.get("/office/audit")
    # The page names its window: the latest closed one, window 2 being open.
    assert "Questa pagina riguarda il bando 1, chiuso." in page.text
    assert '<input type="hidden" name="window" value="1">' in page.text

    page = await clerk.post(
        "/office/audit/draw", {"window": "1", "percent": "50", "seed": "5", "confirm": "yes"}
    )

    assert page.status == 200 and page.url == "/office/audit?window=1"
    assert "Bando 1: 2 domande estratte con seme 5" in page.text
    assert len([p for p in first if f'/office/applications/{p}"' in page.text]) == 2
    page = await clerk.post("/office/audit/draw", {"window": "2", "percent": "50", "seed": "5"})
    assert page.status == 409 and "Il bando 2 è ancora aperto" in page.text
    page = await clerk.post("/office/audit/draw", {"percent": "50", "seed": "5"})
    assert page.status == 409 and "Scegli il bando" in page.text
    assert (
        await clerk.post("/office/audit/draw", {"window": "9", "percent": "5", "seed": "5"})
    ).status == 404
    page = await clerk.get("/office/audit?window=2")
    assert "Questa pagina riguarda il bando 2, ancora aperto" in page.text
    assert 'action="/office/audit/draw"' not in page.text  # nothing to draw while it is open
    async with core.uow() as uow:
        samples = list(await uow.session.scalars(select(m.AuditSample)))
        logged = list(
            await uow.session.scalars(
                select(m.ActivityEntry).where(m.ActivityEntry.action.like("audit.%"))
            )
        )
    assert len(samples) == 1 and [e.action for e in logged] == ["audit.draw"]
    assert logged[0].after is not None and logged[0].after["window"] == 1


async def test_no_on_the_draw_confirmation_keeps_what_was_typed(
    towns: Towns, clock: FakeClock
) -> None:
    await apply(towns.bel, *(person(n, 1) for n in range(1, 11)))
    clerk = await signed_in(towns.server, "bel.clerk")
    await clerk.post("/office/round/window/close", {"number": "1", "confirm": "yes"})
    clock.advance(hours=1)
    page = await clerk.post("/office/audit/draw", {"window": "1", "percent": "20", "seed": "4711"})
    assert page.status == 200 and 'href="/office/audit?window=1"' in page.text
    # "No, go back": the form as it was left, the focus on its first field; nothing drawn.
    page = await clerk.get("/office/audit?window=1")
    assert 'name="percent" inputmode="decimal" size="6" required value="20" autofocus' in (
        page.text
    )
    assert 'name="seed" inputmode="numeric" size="14" required value="4711"' in page.text
    assert "Estrai il campione del bando 1" in page.text  # nothing drawn yet
    # Once: a reload shows the form empty.
    page = await clerk.get("/office/audit?window=1")
    assert 'value="4711"' not in page.text and 'value="20"' not in page.text
    # Drawn after all: the page it lands on does not offer the same figures again.
    page = await clerk.post("/office/audit/draw", {"window": "1", "percent": "20", "seed": "4711"})
    page = await clerk.post(
        "/office/audit/draw", {"window": "1", "percent": "20", "seed": "4711", "confirm": "yes"}
    )
    assert page.status == 200 and "domande estratte con seme 4711" in page.text
    assert 'value="4711"' not in page.text
