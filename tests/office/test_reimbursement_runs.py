"""Every reimbursement run that paid shops is the office's to see, whoever ordered it: a run
of the command line (`buonispesa admin reimburse`) is listed on the reimbursement page with
who ran it and its SEPA file to download again, and an act prepared before it is refused at
approval for what happened (that run paid the shops), not as a shop's refund."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from buonispesa.cli import _register, app
from core.bootstrap import Core
from core.domain.business_days import next_business_day
from core.domain.sepa import summarize
from core.services import activity, ledger
from core.storage import models as m
from tests.conftest import FakeClock
from tests.integration.office_helpers import pay
from tests.office.conftest import BUYER, Towns, shop_owed, signed_in
from tests.office.test_shops_and_reimbursement import ACT, said

_register()
runner = CliRunner()
RUN_FILE = re.compile(r"/office/reimbursement/runs/(\d+)/sepa\.xml")


async def settlements(core: Core) -> list[m.Settlement]:
    async with core.uow() as uow:
        return list(
            (await uow.session.scalars(select(m.Settlement).order_by(m.Settlement.id))).all()
        )


async def postings(core: Core) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(m.Posting)) or 0)


async def test_a_command_line_run_is_listed_with_its_file_and_an_older_act_is_refused(
    towns: Towns,
    core: Core,
    clock: FakeClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    shop_id = await shop_owed(towns)
    clerk = await signed_in(towns.server, "bel.clerk")
    today = clock().astimezone(ZoneInfo("Europe/Rome")).date().isoformat()
    page = await clerk.post("/office/acts", {"kind": "reimbursement", "execution_date": today})
    act = int(ACT.findall(page.text)[-1])

    # The server's owner pays the shops from the command line meanwhile (its real clock:
    # after the act's cut-off).
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", database_url)
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_OPERATOR", "anna.rossi")
    target = tmp_path / "sepa.xml"
    result = await asyncio.to_thread(
        runner.invoke, app, ["admin", "reimburse", "BEL", "--out", str(target)]
    )
    assert result.exit_code == 0, result.output
    written = target.read_bytes()
    [run] = await settlements(core)
    assert run.document == written and summarize(written) == (1, 42_50)
    before = await postings(core)

    manager = await signed_in(towns.server, "bel.manager")
    await manager.post("/office/language", {"lang": "en"})
    page = await manager.get("/office/reimbursement")
    text = said(page.text)
    assert run.message_id in text and "command line (cli:anna.rossi)" in text
    # The act waiting on the same page says what happened before anyone tries to approve it.
    assert (
        f"A reimbursement run (SEPA message {run.message_id}, " in text
        and "was ordered after this act was prepared: approval would be refused" in text
    )
    assert "a refund since" not in text
    assert RUN_FILE.findall(page.text) == [str(run.id)]
    sepa = await manager.get(f"/office/reimbursement/runs/{run.id}/sepa.xml")
    assert sepa.status == 200 and sepa.headers["Content-Type"].startswith("application/xml")
    assert sepa.body == written
    assert f'filename="{run.message_id}.xml"' in sepa.headers["Content-Disposition"]
    async with core.uow() as uow:
        logged = await activity.entries(uow, towns.bel.municipality_id, limit=1)
    assert [(e.actor, e.action, e.subject) for e in logged] == [
        ("bel.manager", "export.download", f"{run.message_id}.xml")
    ]
    # Another municipality's operator gets nothing; a run that does not exist neither.
    stranger = await signed_in(towns.server, "cal.manager")
    assert (await stranger.get(f"/office/reimbursement/runs/{run.id}/sepa.xml")).status == 404
    assert (await manager.get(f"/office/reimbursement/runs/{run.id + 1}/sepa.xml")).status == 404

    # Approving the older act is refused, saying that run paid: nobody is paid twice.
    page = await manager.post(f"/office/acts/{act}/approve")
    assert page.status == 409
    text = said(page.text)
    assert f"A reimbursement run (SEPA message {run.message_id}, " in text
    assert "Withdraw the act and prepare a new one." in text
    assert "a refund since" not in text
    assert [s.id for s in await settlements(core)] == [run.id]
    assert await postings(core) == before
    async with core.uow() as uow:
        assert await ledger.shop_balance(uow, towns.bel.municipality_id, shop_id) == 0
        still = await uow.acts.by_id(act)
        assert still is not None and still.status == "prepared"

    # Withdrawn and prepared again on what is owed now, the new act pays; both runs are
    # listed, newest first, the office's with who prepared and who approved it.
    await clerk.post(f"/office/acts/{act}/withdraw", {"reason": "pagato da riga di comando"})
    # The office's clock moves past the command line's (the real one).
    clock.current = datetime.now(UTC) + timedelta(minutes=1)
    await pay(towns.bel, shop_id, BUYER, 7_00)
    # A real day may be a Saturday, a Sunday or a bank holiday: the bank's next business day.
    today = next_business_day(clock().astimezone(ZoneInfo("Europe/Rome")).date()).isoformat()
    page = await clerk.post("/office/acts", {"kind": "reimbursement", "execution_date": today})
    assert page.status == 200, said(page.text)[:3000]
    again = int(ACT.findall(page.text)[-1])
    clock.advance(minutes=5)
    page = await manager.post(f"/office/acts/{again}/approve")
    assert page.status == 200
    first, second = await settlements(core)
    assert second.total_cents == 7_00 and second.document is not None
    page = await manager.get("/office/reimbursement")
    text = said(page.text)
    assert text.index(second.message_id) < text.index(first.message_id)
    assert "prepared by bel.clerk, approved by bel.manager" in text
    assert f"/office/acts/{again}/sepa.xml" in page.text
    assert RUN_FILE.findall(page.text) == [str(first.id)]
    sepa = await manager.get(f"/office/acts/{again}/sepa.xml")
    assert sepa.body == second.document and summarize(sepa.body) == (1, 7_00)
