"""Every command that writes `--out`: a missing folder or an existing file is a sentence and
exit 2 before anything changes; `--force` overwrites; personal data is written 0600."""

from __future__ import annotations

import asyncio
import importlib
import os
import stat
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import NoReturn

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from buonispesa.cli import _register, app
from core.bootstrap import open_core
from core.domain.business_days import next_business_day
from core.services import activity, municipalities, operators, phone_changes
from core.storage import models as m
from tests.factories import make_cf, make_town, pay

# A day the reimbursement may be ordered for (at most 90 days ahead, a bank business day):
# a month from today, or the bank's next business day after it.
EXECUTION_DATE = next_business_day(date.today() + timedelta(days=30)).isoformat()

_register()
runner = CliRunner()

HEADER = (
    "codice_fiscale,phone,household_size,has_work_income,has_pension,liquidity_eur,"
    "public_support_monthly_eur,rent_monthly_eur,submitted_at\n"
)


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")


@pytest.fixture
def town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """TST: three credited citizens, one shop owed a 12,50 € payment, and a card for the
    second citizen asked by a clerk and approved by a manager (four eyes), not printed yet."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'out.sqlite3'}"
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", url)

    async def build() -> None:
        core = await open_core(url)
        town = await make_town(core, citizens=3)
        await pay(core, town, 12_50)
        async with core.uow() as uow:
            municipality = await municipalities.require(uow, town.code)
            clerk, _ = await operators.add_operator(
                uow, municipality, "tst.clerk", "clerk", now=core.now()
            )
            manager, _ = await operators.add_operator(
                uow, municipality, "tst.manager", "manager", now=core.now()
            )
            asked = await phone_changes.request_card(
                uow, clerk, municipality, make_cf(1), core.now(), reissue=False
            )
            await phone_changes.approve_any(uow, manager, asked.id, core.now())
            await uow.commit()
        await core.close()

    asyncio.run(build())
    return "TST"


def applications(tmp_path: Path) -> Path:
    path = tmp_path / "applications.csv"
    path.write_text(
        HEADER + f"{make_cf(1)},,1,false,false,0,0,0,2026-04-01T09:00:00\n", encoding="utf-8"
    )
    return path


async def _first_protocol_and_shop(url: str) -> tuple[str, int]:
    core = await open_core(url)
    try:
        async with core.uow() as uow:
            protocol = await uow.session.scalar(
                select(m.Application.protocol).order_by(m.Application.id).limit(1)
            )
            shop = await uow.session.scalar(select(m.Shop.id).order_by(m.Shop.id).limit(1))
    finally:
        await core.close()
    assert protocol is not None and shop is not None
    return protocol, shop


def commands(tmp_path: Path, target: Path) -> dict[str, list[str]]:
    """Each file-writing command with its arguments, writing to `target`."""
    out = ["--out", str(target)]
    protocol, shop = asyncio.run(_first_protocol_and_shop(os.environ["BUONISPESA_DATABASE_URL"]))
    return {
        "simulate": [
            "admin",
            "simulate",
            "--applications",
            str(applications(tmp_path)),
            "--budget",
            "100",
            *out,
        ],
        "allocate": ["admin", "allocate", "TST", "--budget", "100", *out],
        "report": ["admin", "report", "TST", *out],
        "export": ["admin", "applications", "export", "TST", str(target)],
        "privacy export": ["admin", "privacy", "export", "TST", make_cf(0), *out],
        "reimburse": ["admin", "reimburse", "TST", "--execution-date", EXECUTION_DATE, *out],
        # Printed by the manager who approved it; a refused write must not use up the print.
        "card": ["admin", "card", "TST", make_cf(1), "--by", "tst.manager", *out],
        "determina": ["admin", "documents", "determina", "TST", *out],
        "letters": ["admin", "documents", "letters", "TST", *out],
        "letter": ["admin", "documents", "letters", "TST", "--protocol", protocol, *out],
        "receipt": ["admin", "documents", "receipt", "TST", protocol, *out],
        "statement": ["admin", "documents", "statement", "TST", str(shop), *out],
        "recover": ["admin", "audit", "recover", "TST", *out],
    }


PERSONAL = {
    "simulate",
    "allocate",
    "export",
    "privacy export",
    "reimburse",
    "card",
    "letters",
    "letter",
    "receipt",
    "statement",
}
# Aggregates, or protocols only (the determina's attachment is filed and published).
PUBLIC = {"report", "determina"}
DOCUMENTS = {"determina", "letters", "letter", "receipt", "statement"}


def run(args: list[str]) -> tuple[int, str, BaseException | None]:
    result = runner.invoke(app, args)
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, " ".join(result.output.split()), error


@pytest.mark.parametrize("name", sorted(PERSONAL | PUBLIC))
def test_a_missing_folder_is_a_sentence_and_exit_2(name: str, town: str, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "file.pdf"
    code, output, error = run(commands(tmp_path, target)[name])
    assert error is None, output
    assert code == 2, output
    assert "does not exist" in output and str(target.parent) in output
    assert not target.parent.exists()
    # Nothing happened: the shop is still owed its payment, the citizen has no card.
    assert "nothing_due" not in run(commands(tmp_path, tmp_path / "sepa.xml")["reimburse"])[1]


@pytest.mark.parametrize("name", sorted(PERSONAL | PUBLIC))
def test_an_existing_file_is_kept_without_force(name: str, town: str, tmp_path: Path) -> None:
    target = tmp_path / "existing.pdf"
    target.write_text("keep me", encoding="utf-8")
    args = commands(tmp_path, target)[name]
    code, output, error = run(args)
    assert error is None and code == 2, output
    assert "already exists" in output and "--force" in output
    assert target.read_text(encoding="utf-8") == "keep me"

    code, output, error = run([*args, "--force"])
    assert error is None and code == 0, output
    assert target.read_bytes() != b"keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize("name", sorted(PERSONAL | PUBLIC))
def test_personal_data_is_readable_by_its_owner_only(name: str, town: str, tmp_path: Path) -> None:
    target = tmp_path / "written.pdf"
    code, output, error = run(commands(tmp_path, target)[name])
    assert error is None and code == 0, output
    mode = stat.S_IMODE(target.stat().st_mode)
    if name in PERSONAL:
        assert mode == 0o600
    else:
        assert mode & 0o044  # an aggregate report stays readable like any file


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "already exists: add --force to overwrite it."),
        ("it", "esiste già: aggiungi --force per sovrascriverlo."),
    ],
)
@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_a_document_is_not_overwritten_in_the_office_language(
    name: str,
    language: str,
    sentence: str,
    town: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BUONISPESA_LANGUAGE", language)
    target = tmp_path / "letter.pdf"
    target.write_bytes(b"%PDF signed copy")
    code, output, error = run(commands(tmp_path, target)[name])
    assert error is None and code == 2, output
    assert f"{target} {sentence}" in output
    assert target.read_bytes() == b"%PDF signed copy"
    assert asyncio.run(_exports(os.environ["BUONISPESA_DATABASE_URL"])) == []


def test_a_folder_given_as_the_file_is_refused(town: str, tmp_path: Path) -> None:
    code, output, error = run(["admin", "report", "TST", "--out", str(tmp_path), "--force"])
    assert error is None and code == 2 and "is a folder" in output


# The files of people's data read from the database, as the activity log names them.
LOGGED = {"allocate": 3, "export": 3, "privacy export": 1, "statement": 1}


async def _exports(url: str) -> list[tuple[str, str, object]]:
    core = await open_core(url)
    try:
        async with core.uow() as uow:
            town = await municipalities.require(uow, "TST")
            logged = await activity.entries(uow, town.id)
    finally:
        await core.close()
    return [
        (entry.actor, entry.subject, (entry.after or {}).get("rows"))
        for entry in logged
        if entry.action == "export.download"
    ]


@pytest.mark.parametrize("name", sorted(LOGGED))
def test_a_file_of_personal_data_is_in_the_activity_log(
    name: str, town: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUONISPESA_OPERATOR", "anna.rossi")
    target = tmp_path / "people.csv"
    code, output, error = run(commands(tmp_path, target)[name])
    assert error is None and code == 0, output
    url = os.environ["BUONISPESA_DATABASE_URL"]
    assert asyncio.run(_exports(url)) == [("cli:anna.rossi", "people.csv", LOGGED[name])]


def _broken(*args: object, **kwargs: object) -> NoReturn:
    raise RuntimeError("the renderer broke")


# What renders each logged file: a failure there must leave no entry and no file.
RENDERERS = {
    "allocate": ("core.domain.application_csv", "write_allocation_csv"),
    "export": ("core.domain.application_csv", "write_applications_csv"),
    "privacy export": ("buonispesa.cli.office", "json"),
    "statement": ("core.documents.paperwork", "shop_statement_pdf"),
    "recover": ("office.views.audit", "recovery_table"),
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_a_file_that_fails_to_render_is_neither_logged_nor_left(
    name: str, town: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, attribute = RENDERERS[name]
    # The JSON of the right of access is json.dumps: only the command's own `json` breaks.
    broken = SimpleNamespace(dumps=_broken) if attribute == "json" else _broken
    monkeypatch.setattr(importlib.import_module(module), attribute, broken)
    target = tmp_path / "people.csv"
    code, output, error = run(commands(tmp_path, target)[name])
    assert isinstance(error, RuntimeError) and code != 0, output
    assert asyncio.run(_exports(os.environ["BUONISPESA_DATABASE_URL"])) == []
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".people.csv")]


def test_a_refused_file_is_not_logged(town: str, tmp_path: Path) -> None:
    target = tmp_path / "people.csv"
    target.write_text("keep me", encoding="utf-8")
    code, output, _ = run(commands(tmp_path, target)["export"])
    assert code == 2, output
    assert asyncio.run(_exports(os.environ["BUONISPESA_DATABASE_URL"])) == []


def test_the_sums_to_recover_written_are_logged_with_who_wrote_them(
    town: str, tmp_path: Path
) -> None:
    target = tmp_path / "recover.csv"
    code, output, error = run(
        ["admin", "audit", "recover", "TST", "--out", str(target), "--by", "m.bianchi"]
    )
    assert error is None and code == 0, output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    url = os.environ["BUONISPESA_DATABASE_URL"]
    assert asyncio.run(_exports(url)) == [("cli:m.bianchi", "recover.csv", 0)]
    # Shown on screen, nothing leaves the database: nothing to log.
    assert run(["admin", "audit", "recover", "TST"])[0] == 0
    assert len(asyncio.run(_exports(url))) == 1


def _appears_meanwhile(partial: Path, target: Path) -> NoReturn:
    """Another program writes the file between the command's check and its rename."""
    target.write_text("theirs", encoding="utf-8")
    raise FileExistsError(target)


@pytest.mark.parametrize("name", sorted(LOGGED))
def test_a_file_that_cannot_be_put_in_place_is_not_logged(
    name: str, town: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        importlib.import_module("buonispesa.cli.outfile"), "_link_or_move", _appears_meanwhile
    )
    target = tmp_path / "people.csv"
    code, output, _ = run(commands(tmp_path, target)[name])
    assert code == 2, output
    assert "already exists" in output
    # No entry tells of a file the command did not write; the other program's file is kept.
    assert asyncio.run(_exports(os.environ["BUONISPESA_DATABASE_URL"])) == []
    assert target.read_text(encoding="utf-8") == "theirs"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".people.csv")]


def _run_with_a_failing_commit(args: list[str]) -> tuple[int, str, BaseException | None]:
    from core.storage.uow import UnitOfWork

    async def broken(self: UnitOfWork) -> None:
        raise RuntimeError("the commit failed")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(UnitOfWork, "commit", broken)
        return run(args)


@pytest.mark.parametrize("name", sorted(LOGGED))
def test_a_failed_commit_takes_the_file_back(name: str, town: str, tmp_path: Path) -> None:
    target = tmp_path / "people.csv"
    args = commands(tmp_path, target)[name]
    code, output, error = _run_with_a_failing_commit(args)
    assert isinstance(error, RuntimeError) and code != 0, output
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".people.csv")]
    assert asyncio.run(_exports(os.environ["BUONISPESA_DATABASE_URL"])) == []


def test_a_failed_commit_puts_back_the_file_force_replaced(town: str, tmp_path: Path) -> None:
    target = tmp_path / "people.csv"
    target.write_text("the earlier export", encoding="utf-8")
    args = [*commands(tmp_path, target)["export"], "--force"]
    code, output, error = _run_with_a_failing_commit(args)
    assert isinstance(error, RuntimeError) and code != 0, output
    assert target.read_text(encoding="utf-8") == "the earlier export"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".people.csv")]


def test_an_export_forced_over_a_file_replaces_it_and_is_logged(town: str, tmp_path: Path) -> None:
    target = tmp_path / "people.csv"
    target.write_text("the earlier export", encoding="utf-8")
    code, output, error = run([*commands(tmp_path, target)["export"], "--force"])
    assert error is None and code == 0, output
    assert target.read_text(encoding="utf-8").startswith("codice_fiscale")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".people.csv")]
    assert len(asyncio.run(_exports(os.environ["BUONISPESA_DATABASE_URL"]))) == 1
