"""`buonispesa admin citizen …`: what the office records about one citizen.

`admin citizen delegate CODE CF PHONE` registers a delegate (disciplinare art. 6.3);
`--remove` removes it. docs/cards-and-delegates.md explains the rules.
"""

from __future__ import annotations

from typing import Annotated

import typer

from buonispesa.cli.admin import admin, out, run_with_core
from buonispesa.cli.common import fail, say
from core.bootstrap import Core
from core.domain.identity import mask_phone
from core.domain.messages import t
from core.services import delegates, municipalities

citizen_app = typer.Typer(help="One citizen: delegate.", no_args_is_help=True)
admin.add_typer(citizen_app, name="citizen")


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
