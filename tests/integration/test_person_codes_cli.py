"""`buonispesa admin citizen resume-codes`, end to end on a SQLite file: the office lets
payment codes go again to a person whose codes were stopped after wrong codes at several
shops (the rule itself runs on both databases in test_person_code_limit.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core.bootstrap import Core
from core.services import security
from core.services.charges import person_locks
from core.storage import models as m
from tests.cli_runner import invoke
from tests.factories import make_town
from tests.integration.test_payments import another_shop
from tests.integration.test_shop_checks_cli import english, run, url  # noqa: F401  (fixtures)


async def stopped(core: Core) -> tuple[str, datetime | None]:
    """A town whose first citizen had 3 wrong codes typed at each of three shops."""
    town = await make_town(core, citizens=1)
    shops = [town.shop_id] + [await another_shop(core, town, n) for n in (1, 2)]
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        for shop_id in shops:
            for _ in range(3):
                await security.record(
                    uow,
                    security.WRONG_PAYMENT_CODE,
                    core.now(),
                    municipality_id=town.municipality_id,
                    shop_id=shop_id,
                    detail=person_locks.wrong_code_detail(citizen),
                )
        await uow.commit()
        return town.citizen_cfs[0], await person_locks.codes_stopped_until(uow, citizen, core.now())


async def resumed(core: Core) -> tuple[datetime | None, list[tuple[str, str | None]]]:
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(1)
        assert citizen is not None
        until = await person_locks.codes_stopped_until(uow, citizen, core.now())
        kept = await uow.session.scalars(
            select(m.SecurityEvent).where(m.SecurityEvent.kind == security.CODES_RESUMED)
        )
        return until, [(x.detail or "", x.asked_by) for x in kept.all()]


def test_the_office_resumes_a_persons_codes_once_and_it_is_recorded(url: str) -> None:  # noqa: F811
    cf, until = run(url, stopped)
    assert until is not None

    code, output = invoke("admin", "citizen", "resume-codes", "TST", cf, "--by", "anna")
    assert code == 0 and "Payment codes go to this citizen again" in output
    assert cf not in output
    assert run(url, resumed) == (None, [("citizen:1", "anna")])

    code, output = invoke("admin", "citizen", "resume-codes", "TST", cf, "--by", "anna")
    assert code != 0 and "payment codes are not stopped: nothing was changed" in output
    assert run(url, resumed) == (None, [("citizen:1", "anna")])


def test_a_codice_fiscale_that_is_not_one_is_said_and_nothing_is_resumed(url: str) -> None:  # noqa: F811
    _, until = run(url, stopped)
    assert until is not None
    code, output = invoke("admin", "citizen", "resume-codes", "TST", "NOTACF", "--by", "anna")
    assert code == 2 and "'NOTACF' is not a valid codice fiscale." in output
    assert run(url, resumed) == (until, [])
