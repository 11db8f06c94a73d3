"""`buonispesa admin reimburse|report|audit|privacy` end to end on a SQLite file."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from core.bootstrap import open_core
from core.domain.business_days import next_business_day
from core.domain.sepa import PaymentOrder, build_pain001
from core.services import reimbursement
from core.storage import models as m
from tests.cli_runner import invoke, protocol_year
from tests.factories import make_cf, make_town, pay

# A day the reimbursement may be ordered for (at most 90 days ahead, a bank business day):
# a month from today, or the bank's next business day after it.
EXECUTION_DATE = next_business_day(date.today() + timedelta(days=30)).isoformat()

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The office's command line in English: the assertions below read English output."""
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")


@pytest.fixture
def town_with_a_payment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A town (TST) with three credited citizens, one shop, and one 12,50 € payment."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'office.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)

    async def build() -> None:
        core = await open_core(url)
        town = await make_town(core, citizens=3)
        await pay(core, town, 12_50)
        await core.close()

    asyncio.run(build())
    return "TST"


def test_reimburse_writes_sepa_file_once(town_with_a_payment: str, tmp_path: Path) -> None:
    target = tmp_path / "sepa.xml"
    code, output = invoke(
        "admin", "reimburse", "TST", "--out", str(target), "--execution-date", EXECUTION_DATE
    )
    assert code == 0, output
    tree = ElementTree.parse(target)
    assert tree.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == "1"
    assert tree.findtext(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", namespaces=NS) == "12.50"
    assert not (tmp_path / "sepa.xml.partial").exists()
    code, output = invoke(
        "admin",
        "reimburse",
        "TST",
        "--out",
        str(tmp_path / "again.xml"),
        "--execution-date",
        EXECUTION_DATE,
    )
    assert code == 2 and "nothing_due" in output
    assert not (tmp_path / "again.xml").exists()
    assert invoke("admin", "ledger", "check", "TST")[0] == 0


def test_a_file_the_schema_refuses_is_never_written(
    town_with_a_payment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A builder bug that puts an element out of order: the XSD check stops the run."""

    def out_of_order(order: PaymentOrder) -> bytes:
        good = build_pain001(order)
        return good.replace(b"<ChrgBr>SLEV</ChrgBr>", b"").replace(
            b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>TRF</PmtMtd><ChrgBr>SLEV</ChrgBr>"
        )

    monkeypatch.setattr(reimbursement, "build_pain001", out_of_order)
    target = tmp_path / "sepa.xml"
    arguments = (
        "admin",
        "reimburse",
        "TST",
        "--out",
        str(target),
        "--execution-date",
        EXECUTION_DATE,
    )
    code, output = invoke(*arguments)
    assert code == 2, output
    assert "pain.001.001.03" in output and "ChrgBr" in output
    assert not target.exists() and not (tmp_path / "sepa.xml.partial").exists()

    # The real builder again: nothing was settled, the shop is still owed its 12,50 €.
    monkeypatch.setattr(reimbursement, "build_pain001", build_pain001)
    code, output = invoke(*arguments)
    assert code == 0, output
    assert ElementTree.parse(target).findtext(".//p:CtrlSum", namespaces=NS) == "12.50"


def test_report_publishes_no_personal_data(town_with_a_payment: str) -> None:
    code, output = invoke("admin", "report", "TST", "--format", "csv")
    assert code == 0, output
    assert output.startswith("section,metric,value,note")
    for index in range(3):
        assert make_cf(index) not in output


def test_a_report_in_a_language_there_is_none_of_is_refused(town_with_a_payment: str) -> None:
    code, output = invoke("admin", "report", "TST", "--lang", "fr")
    assert code == 2 and "--lang: 'fr' is not it or en." in output, output


def test_audit_sample_is_reproducible_and_revoke_records_the_sum(town_with_a_payment: str) -> None:
    year = protocol_year()
    first = invoke("admin", "audit", "sample", "TST", "--percent", "50", "--seed", "42")
    second = invoke("admin", "audit", "sample", "TST", "--percent", "50", "--seed", "42")
    assert first[0] == 0 and first[1] == second[1]
    assert first[1].count("TST-") == 2  # ceil(3 * 50 %)
    code, output = invoke("admin", "audit", "revoke", "TST", f"TST-{year}-000001")
    assert code == 0, output
    assert "137.50" in output and "12.50" in output  # returned, to recover
    assert invoke("admin", "audit", "revoke", "TST", f"TST-{year}-000001")[0] == 2


def test_privacy_export_then_erase(town_with_a_payment: str, tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    code, output = invoke("admin", "privacy", "export", "TST", make_cf(2), "--out", str(target))
    assert code == 0, output
    assert make_cf(2) in target.read_text()
    assert json.loads(target.read_text())
    assert invoke("admin", "privacy", "erase", "TST", make_cf(2))[0] == 2  # needs --yes
    code, output = invoke("admin", "privacy", "erase", "TST", make_cf(2), "--yes")
    assert code == 2 and "balance_not_zero" in output  # 150 € still on the account


def test_reimburse_refuses_a_shop_name_sepa_cannot_write_naming_it(
    town_with_a_payment: str, tmp_path: Path
) -> None:
    async def rename() -> int:
        core = await open_core(os.environ["BUONISPESA_DATABASE_URL"])
        async with core.uow() as uow:
            shop = await uow.session.scalar(select(m.Shop))
            assert shop is not None
            shop.name = "🍞🥖"
            await uow.commit()
            shop_id: int = shop.id
        await core.close()
        return shop_id

    shop_id = asyncio.run(rename())
    target = tmp_path / "sepa.xml"
    arguments = ("admin", "reimburse", "TST", "--out", str(target))
    code, output = invoke(*arguments, "--execution-date", EXECUTION_DATE)
    assert code == 2, output
    assert "Traceback" not in output
    assert f"The name of shop {shop_id}, '🍞🥖', has no letter or digit" in output
    assert "reimbursement.name_not_sepa" in output
    assert not target.exists() and not (tmp_path / "sepa.xml.partial").exists()
    # Nothing was settled: the ledger still holds what the shop is owed.
    assert invoke("admin", "ledger", "check", "TST")[0] == 0

    # The office corrects the name (a name SEPA cannot write is refused there too) ...
    code, output = invoke("admin", "shops", "rename", "TST", str(shop_id), "☺")
    assert code == 2 and "shop.name_not_sepa" in output
    code, output = invoke("admin", "shops", "rename", "TST", str(shop_id), "x" * 41)
    assert code == 2 and "shop.name_too_long" in output
    code, output = invoke("admin", "shops", "rename", "TST", "999", "Forno")
    assert code == 2 and "shop.not_found" in output
    code, output = invoke(
        "admin", "shops", "rename", "TST", str(shop_id), "Forno  Đặng", "--by", "rossi"
    )
    assert code == 0, output
    assert "'🍞🥖' is now Forno Đặng" in output or "🍞🥖 is now Forno Đặng" in output
    # ... and the run pays it, the name transliterated.
    code, output = invoke(*arguments, "--execution-date", EXECUTION_DATE)
    assert code == 0, output
    tree = ElementTree.parse(target)
    assert tree.findtext(".//p:Cdtr/p:Nm", namespaces=NS) == "Forno Dang"

    async def log() -> list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]]:
        core = await open_core(os.environ["BUONISPESA_DATABASE_URL"])
        async with core.uow() as uow:
            rows = await uow.session.scalars(
                select(m.ActivityEntry).where(m.ActivityEntry.action == "shop.rename")
            )
            found = [(e.actor, e.action, e.before, e.after) for e in rows]
        await core.close()
        return found

    assert asyncio.run(log()) == [
        ("rossi", "shop.rename", {"name": "🍞🥖"}, {"name": "Forno Đặng"})
    ]
