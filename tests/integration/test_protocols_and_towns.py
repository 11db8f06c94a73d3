"""Protocol numbers carry the whole municipality code; a municipality can be corrected."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from core.bootstrap import Core
from core.domain.errors import Conflict, InvalidIdentifier
from core.services import municipalities
from core.services.applications import ApplicationInput, submit_application
from core.storage import models as m
from tests.cli_runner import invoke
from tests.factories import make_cf


async def apply_in(core: Core, code: str, person: int) -> str:
    async with core.uow() as uow:
        town = await municipalities.require(uow, code)
        application = await submit_application(
            uow,
            town,
            ApplicationInput(make_cf(person), None, 2, False, False, 0, 0, 0),
            source="paper",
            now=core.now(),
        )
        await uow.commit()
        return application.protocol


async def add_with_window(core: Core, code: str) -> None:
    async with core.uow() as uow:
        town = await municipalities.add_municipality(
            uow, code=code, name=f"Comune {code}", now=core.now() - timedelta(hours=1)
        )
        await municipalities.open_window(uow, town, core.now() - timedelta(hours=1))
        await uow.commit()


async def test_codes_sharing_three_letters_get_their_own_protocols(core: Core) -> None:
    await add_with_window(core, "MAC1")
    await add_with_window(core, "MAC2")

    assert await apply_in(core, "MAC1", 1) == "MAC1-2026-000001"
    assert await apply_in(core, "MAC2", 2) == "MAC2-2026-000001"


async def test_a_protocol_of_the_old_three_letter_form_is_never_reissued(core: Core) -> None:
    await add_with_window(core, "MACX")
    old = await apply_in(core, "MACX", 1)
    async with core.uow() as uow:
        # As an earlier version numbered MACX's applications: MAC-YEAR-N.
        await uow.session.execute(
            update(m.Application)
            .where(m.Application.protocol == old)
            .values(protocol="MAC-2026-000001")
        )
        await uow.commit()
    await add_with_window(core, "MAC")

    assert await apply_in(core, "MAC", 2) == "MAC-2026-000002"


async def test_a_municipality_is_corrected_and_bad_values_change_nothing(core: Core) -> None:
    await add_with_window(core, "COR")
    async with core.uow() as uow:
        town = await municipalities.update_municipality(
            uow,
            "COR",
            name="  Corridonia ",
            iban="IT60 X054 2811 1010 0000 0123 456",
            bic="uncritmm",
            sms_number="333 1234567",
        )
        await uow.commit()
    assert (town.name, town.iban, town.bic, town.sms_number) == (
        "Corridonia",
        "IT60X0542811101000000123456",
        "UNCRITMM",
        "+393331234567",
    )
    for wrong in ({"bic": "UNCRXXMM"}, {"bic": "UNCRIT"}, {"iban": "IT60X0542811101000000123457"}):
        async with core.uow() as uow:
            with pytest.raises(InvalidIdentifier):
                await municipalities.update_municipality(uow, "COR", name="Altro", **wrong)
    async with core.uow() as uow:
        with pytest.raises(Conflict) as empty:
            await municipalities.update_municipality(uow, "COR", name="   ")
    assert empty.value.code == "municipality.bad_name"
    async with core.uow() as uow:
        town = await municipalities.require(uow, "COR")
        assert (town.name, town.bic) == ("Corridonia", "UNCRITMM")


async def test_a_new_municipality_with_an_invalid_bic_is_refused(core: Core) -> None:
    async with core.uow() as uow:
        with pytest.raises(InvalidIdentifier) as refused:
            await municipalities.add_municipality(
                uow, code="BAD", name="Bad", now=core.now(), bic="ABCD12XX"
            )
    assert refused.value.code.startswith("bic.")


def test_municipality_set_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}")
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    code, output = invoke("admin", "municipality", "set", "BEL", "--bic", "XXXXITMM9")
    assert code == 2 and "This BIC is not valid" in output and "(bic.length)" in output
    code, output = invoke("admin", "municipality", "set", "BEL", "--name", "")
    assert code == 2 and "(municipality.bad_name)" in output
    code, output = invoke("admin", "municipality", "set", "BEL")
    assert code == 2 and "Nothing to change" in output
    code, output = invoke(
        "admin",
        "municipality",
        "set",
        "BEL",
        "--name",
        "Belforte del Chienti",
        "--bic",
        "UNCRITMM",
        "--privacy-url",
        "https://belforte.example.it/privacy",
    )
    assert code == 0 and "Belforte del Chienti" in output and "UNCRITMM" in output, output
    code, output = invoke("admin", "municipality", "list")
    assert "Belforte del Chienti" in output


def test_the_office_s_contact_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}")
    assert invoke("admin", "municipality", "add", "BEL", "Belforte")[0] == 0
    contact = "0733 905 111, lun-ven 9-12"
    code, output = invoke("admin", "municipality", "set", "BEL", "--office-contact", contact)
    assert code == 0 and f"OFFICE now answers: {contact}" in output, output
    # An emoji: refused with the reason, and the contact stays.
    code, output = invoke("admin", "municipality", "set", "BEL", "--office-contact", "☎ 0733")
    assert code == 2 and "(municipality.bad_office_contact)" in output, output
    assert "at most 90 characters" in output
    code, output = invoke("admin", "municipality", "set", "BEL", "--office-contact", "")
    assert code == 0 and "ask at the town hall (no contact recorded)" in output, output
