"""`buonispesa admin citizen resume-codes`: the office lets payment codes go again to a
citizen whose codes were stopped after too many wrong codes at several shops
(docs/payments-and-codes.md, "Wrong codes for one person")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from buonispesa.cli.admin import tell
from buonispesa.cli.citizen import citizen_app
from buonispesa.cli.common import LoggedByOption, codice_fiscale_or_exit, operator_name
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import Moment, t

if TYPE_CHECKING:
    from core.bootstrap import Core


@citizen_app.command("resume-codes")
def citizen_resume_codes(code: str, codice_fiscale: str, by: LoggedByOption = None) -> None:
    """Send payment codes to CODICE_FISCALE again, after the person was reached and the
    wrong codes explained (logged with who and when; the count starts from now)."""
    from core.services.charges import person_locks

    cf = codice_fiscale_or_exit(codice_fiscale)
    operator = operator_name(by)

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            until = await person_locks.resume_codes(uow, town.id, cf, by=operator, now=core.now())
            await uow.commit()
        tell(
            t(
                # No codice fiscale printed: the command line's output lands in logs.
                "Payment codes go to this citizen again (they were stopped until "
                "{until}); the count of wrong codes starts from now.",
                until=Moment(until),
            )
        )

    run_with_core(work)
