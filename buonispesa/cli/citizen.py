"""`buonispesa admin citizen …`: what the office records about one citizen.

`phone` binds a citizen to a phone (the person came in); `delegate` registers a
delegate who pays for the citizen (docs/cards-and-delegates.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from buonispesa.cli.admin import admin, out, run_with_core
from buonispesa.cli.common import OPERATOR_VARIABLE, fail, operator_name, say
from core.domain.errors import InvalidIdentifier
from core.domain.messages import t

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core
    from core.services.identity import Rebinding

citizen_app = typer.Typer(help="One citizen: phone number and delegate.", no_args_is_help=True)
admin.add_typer(citizen_app, name="citizen")


@citizen_app.command("phone")
def citizen_phone(
    code: str,
    codice_fiscale: str,
    phone: str,
    by: Annotated[
        str | None,
        typer.Option("--by", help=f"operator name for the log (default: ${OPERATOR_VARIABLE})"),
    ] = None,
) -> None:
    """Bind CODICE_FISCALE to PHONE (proven by the office); logged with who and when."""
    from core.domain.identity import mask_phone, normalize_codice_fiscale, normalize_phone
    from core.services import identity, municipalities

    try:
        cf = normalize_codice_fiscale(codice_fiscale)
    except InvalidIdentifier:
        fail(t("{value} is not a valid codice fiscale.", value=repr(codice_fiscale)))
    try:
        number = normalize_phone(phone)
    except InvalidIdentifier:
        fail(t("{value} is not a valid phone number.", value=repr(phone)))
    operator = operator_name(by)

    async def work(core: Core) -> Rebinding:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            done = await identity.rebind_phone(
                uow, town, cf, number, operator=operator, now=core.now()
            )
            await uow.commit()
            return done

    done = run_with_core(work)
    out.print(
        say(
            t(
                "{cf} now uses the phone {phone} (recorded as done by {operator}).",
                cf=cf,
                phone=mask_phone(done.phone),
                operator=operator,
            )
        ),
        markup=False,
    )
    if done.telegram_unlinked:
        out.print(
            say(
                t(
                    "The Telegram chat linked through the old number was unlinked: the person "
                    "shares the new contact in the bot to link it again."
                )
            ),
            markup=False,
        )


@citizen_app.command("delegate")
def citizen_delegate(
    code: Annotated[str, typer.Argument(help="Municipality code, e.g. BEL")],
    codice_fiscale: Annotated[str, typer.Argument(help="The citizen's codice fiscale")],
    phone: Annotated[
        str | None, typer.Argument(help="The delegate's mobile number, e.g. 3331234567")
    ] = None,
    remove: Annotated[bool, typer.Option(help="Remove the citizen's delegate")] = False,
) -> None:
    """Register the phone of a delegate (a relative, a caregiver) who pays for a citizen."""
    from core.domain.identity import mask_phone
    from core.services import delegates, municipalities

    if remove == (phone is not None):
        fail(t("Give the delegate's phone number, or --remove without a number."))

    async def work(core: Core) -> str:
        async with core.uow() as uow:
            town = await municipalities.require(uow, code)
            if remove:
                number = await delegates.remove_delegate(uow, town, codice_fiscale, core.now())
            else:
                assert phone is not None
                added = await delegates.add_delegate(uow, town, codice_fiscale, phone, core.now())
                number = added.phone
            await uow.commit()
            return number

    number = run_with_core(work)
    if remove:
        message = t("Delegate {phone} removed; the citizen was told.", phone=mask_phone(number))
    else:
        message = t(
            "Delegate {phone} registered: payment codes and receipts go to that phone, and "
            "SALDO from it shows the citizen's balance. The citizen and the delegate were told.",
            phone=mask_phone(number),
        )
    out.print(say(message), markup=False)
