"""`buonispesa admin applications …`: paper applications imported, all applications exported."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from buonispesa.cli.admin import (
    Force,
    WindowOption,
    applications_app,
    import_refused,
    read_applications,
    tell,
)
from buonispesa.cli.common import ByOption, fail
from buonispesa.cli.logged import exported_file, logged
from buonispesa.cli.outfile import OutFile
from buonispesa.cli.progress import progress
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import t, tn

# The database, the services and the CSV parser (SQLAlchemy, phonenumbers...) are imported
# by the commands that use them: `buonispesa --help` builds every command and must start
# fast (tests/unit/test_cli_startup.py checks what it imports).
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.domain.application_csv import ApplicationRow


@applications_app.command("import")
def applications_import(code: str, file: Path, by: ByOption = None) -> None:
    """Import paper applications from a CSV: all rows or none."""
    from core.services import applications, municipalities
    from core.services.applications import ApplicationInput

    rows = read_applications(file)

    async def work(core: Core) -> int:
        async with town_work(core, code) as (uow, town):
            if await municipalities.current_round(uow, town.id) is None:
                fail(
                    t(
                        "{town} has no application window yet: run 'admin window open {town}'.",
                        town=town.code,
                    )
                )
            town_id = town.id  # the import expires every loaded row (its bulk statements)
            inputs = [(ApplicationInput.from_row(row), row.submitted_at) for row in rows]
            with progress(t("Importing")) as report:
                try:
                    count = await applications.import_applications(
                        uow, town, inputs, core.now(), progress=report
                    )
                except applications.ImportRowError as refused:
                    import_refused(file, rows, refused)
            await logged(
                uow,
                town_id,
                by,
                "applications.import",
                now=core.now(),
                subject=file.name,
                after={"count": count},
            )
            await uow.commit()
        return count

    count = run_with_core(work)
    tell(
        tn(
            "Imported {count} application into {town}.",
            "Imported {count} applications into {town}.",
            count,
            town=code.upper(),
        )
    )


@applications_app.command("export")
def applications_export(
    code: str, file: Path, force: Force = False, window: WindowOption = None, by: ByOption = None
) -> None:
    """Export a window's applications as CSV (the README's applications columns). The
    office's activity log keeps who wrote which file, with how many rows."""
    from core.domain.application_csv import ApplicationRow, write_applications_csv
    from core.services import allocation, municipalities

    target = OutFile(file, force=force, personal=True)
    target.check()

    async def work(core: Core) -> list[ApplicationRow]:
        async with town_work(core, code) as (uow, town):
            if window is None:
                round_ = await municipalities.current_round(uow, town.id)
            else:
                round_ = await allocation.round_of(uow, town, window)
            pairs = await uow.applications.with_citizens(round_.id) if round_ else []
            rows = [
                ApplicationRow(
                    codice_fiscale=citizen.codice_fiscale,
                    phone=citizen.phone or "",
                    household_size=app_.household_size,
                    has_work_income=app_.has_work_income,
                    has_pension=app_.has_pension,
                    liquidity_cents=app_.liquidity_cents,
                    public_support_monthly_cents=app_.public_support_monthly_cents,
                    rent_monthly_cents=app_.rent_monthly_cents,
                    submitted_at=app_.submitted_at,
                )
                for app_, citizen in pairs
            ]
            text = write_applications_csv(rows)
            await exported_file(uow, town.id, by, target, text, rows=len(rows), now=core.now())
        return rows

    rows = run_with_core(work)
    tell(
        tn(
            "Wrote {count} application to {file}.",
            "Wrote {count} applications to {file}.",
            len(rows),
            file=str(file),
        )
    )
