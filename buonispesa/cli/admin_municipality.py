"""`buonispesa admin municipality …`: the municipalities served, their data and policy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from buonispesa.cli.admin import municipality_app, out, read_policy, tell
from buonispesa.cli.common import ByOption, fail, say
from buonispesa.cli.logged import logged
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import Text, t

# The database, the services and the CSV parser (SQLAlchemy, phonenumbers...) are imported
# by the commands that use them: `buonispesa --help` builds every command and must start
# fast (tests/unit/test_cli_startup.py checks what it imports).
if TYPE_CHECKING:
    from datetime import datetime

    from core.bootstrap import Core
    from core.storage import models as m
    from core.storage.uow import UnitOfWork


def _policy_text(path: Path | None) -> str | None:
    """The text of the policy file given (--policy), once read_policy has checked it; None
    when none is given."""
    if path is None:
        return None
    read_policy(path)
    return path.read_text(encoding="utf-8")


@municipality_app.command("add")
def municipality_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. BEL (used in protocol numbers)")],
    name: Annotated[str, typer.Argument(help="Name of the municipality")],
    policy: Annotated[Path | None, typer.Option(help="Policy TOML (default: Belforte)")] = None,
    sms_number: Annotated[str | None, typer.Option(help="Number citizens text (Twilio To)")] = None,
    iban: Annotated[str | None, typer.Option(help="IBAN that pays the shops")] = None,
    bic: Annotated[str | None, typer.Option(help="BIC of that bank")] = None,
    by: ByOption = None,
) -> None:
    """Add a municipality with its policy."""
    from core.services import municipalities

    policy_text = _policy_text(policy)

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            town = await municipalities.add_municipality(
                uow,
                code=code,
                name=name,
                now=core.now(),
                policy_toml=policy_text,
                sms_number=sms_number,
                iban=iban,
                bic=bic,
            )
            await uow.flush()
            await logged(
                uow,
                town.id,
                by,
                "municipality.add",
                now=core.now(),
                subject=town.code,
                after=_town_data(town),
            )
            await uow.commit()
            tell(t("Added municipality {code} ({name}).", code=town.code, name=town.name))

    run_with_core(work)


@municipality_app.command("set")
def municipality_set(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    name: Annotated[str | None, typer.Option(help="Name of the municipality")] = None,
    iban: Annotated[str | None, typer.Option(help="IBAN that pays the shops ('' removes)")] = None,
    bic: Annotated[str | None, typer.Option(help="BIC of that bank ('' removes)")] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Policy TOML replacing the current one")
    ] = None,
    sms_number: Annotated[
        str | None, typer.Option(help="Number citizens text ('' removes)")
    ] = None,
    privacy_url: Annotated[
        str | None, typer.Option(help="Address of its privacy notice ('' removes)")
    ] = None,
    office_contact: Annotated[
        str | None,
        typer.Option(help="How citizens reach the office, said by UFFICIO ('' removes)"),
    ] = None,
    by: ByOption = None,
) -> None:
    """Correct a municipality: only the options given change; all are checked first."""
    from core.services import municipalities

    given = (name, iban, bic, policy, sms_number, privacy_url, office_contact)
    if all(value is None for value in given):
        fail(
            t(
                "Nothing to change: give at least one of --name, --iban, --bic, --policy, "
                "--sms-number, --privacy-url, --office-contact."
            )
        )
    policy_text = _policy_text(policy)

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            before = _town_data(town)
            town = await municipalities.update_municipality(
                uow,
                code,
                name=name,
                policy_toml=policy_text,
                sms_number=sms_number,
                iban=iban,
                bic=bic,
                privacy_url=privacy_url,
                office_contact=office_contact,
            )
            await _log_town_change(uow, town, before, by, core.now())
            await uow.commit()
            if office_contact is not None:
                tell(_office_contact_text(town))
            tell(
                t(
                    "{code}: {name}; SMS number {sms}; IBAN {iban}; BIC {bic}; policy {policy}.",
                    code=town.code,
                    name=town.name,
                    sms=town.sms_number or "-",
                    iban=town.iban or "-",
                    bic=town.bic or "-",
                    policy=municipalities.policy_of(town).name,
                )
            )

    run_with_core(work)


# What `municipality set` may change, as the activity log keeps it.
TOWN_DATA_FIELDS = ("name", "sms_number", "iban", "bic", "policy", "privacy_url", "office_contact")


def _town_data(town: m.Municipality) -> dict[str, str | None]:
    """TOWN_DATA_FIELDS of the town now (the policy by its name: its TOML is in the row)."""
    from core.services.municipalities import policy_of

    values = {field: getattr(town, field) for field in TOWN_DATA_FIELDS if field != "policy"}
    return values | {"policy": policy_of(town).name}


async def _log_town_change(
    uow: UnitOfWork,
    town: m.Municipality,
    before: dict[str, str | None],
    by: str | None,
    now: datetime,
) -> None:
    """The town's data that changed (an IBAN that pays the shops above all), if any."""
    after = _town_data(town)
    changed = [key for key in after if after[key] != before[key]]
    if changed:
        await logged(
            uow,
            town.id,
            by,
            "municipality.set",
            now=now,
            subject=town.code,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )


def _office_contact_text(town: m.Municipality) -> Text:
    if town.office_contact:
        return t("UFFICIO now answers: {contact}", contact=town.office_contact)
    return t("UFFICIO now answers: ask at the town hall (no contact recorded).")


@municipality_app.command("privacy-url")
def municipality_privacy_url(
    code: Annotated[str, typer.Argument(help="Code of the municipality, e.g. BEL")],
    url: Annotated[str, typer.Argument(help="Address of its privacy notice ('' removes it)")],
    by: ByOption = None,
) -> None:
    """Link the municipality's privacy notice from the consent citizens give when applying."""
    from core.services import municipalities

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            before = _town_data(town)
            town = await municipalities.set_privacy_url(uow, code, url)
            await _log_town_change(uow, town, before, by, core.now())
            await uow.commit()
            if town.privacy_url:
                text = t("Privacy notice of {code}: {url}", code=town.code, url=town.privacy_url)
            else:
                text = t("Privacy notice of {code} removed.", code=town.code)
            tell(text)

    run_with_core(work)


@municipality_app.command("list")
def municipality_list() -> None:
    """List the municipalities."""
    from core.services import municipalities

    async def work(core: Core) -> None:
        async with core.uow() as uow:
            table = Table(say(t("Code")), say(t("Name")), say(t("SMS number")), say(t("Policy")))
            for town in await uow.municipalities.all():
                table.add_row(
                    town.code, town.name, town.sms_number or "", municipalities.policy_of(town).name
                )
            out.print(table)

    run_with_core(work)
