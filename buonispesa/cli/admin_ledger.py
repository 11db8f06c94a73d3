"""`buonispesa admin ledger check`: the double-entry ledger proved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from buonispesa.cli.admin import ledger_app, tell
from buonispesa.cli.common import err, fail, say
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import Money, t, tn

# The database, the services and the CSV parser (SQLAlchemy, phonenumbers...) are imported
# by the commands that use them: `buonispesa --help` builds every command and must start
# fast (tests/unit/test_cli_startup.py checks what it imports).
if TYPE_CHECKING:
    from core.bootstrap import Core


@ledger_app.command("check")
def ledger_check(code: str) -> None:
    """Prove that every balance equals the sum of its postings."""
    from core.services import ledger

    async def work(core: Core) -> None:
        async with town_work(core, code) as (uow, town):
            check = await ledger.verify(uow, town.id)
        for figures in check.bad_tranches:
            err.print(
                say(
                    t(
                        "Tranche {tranche} (id {id}): approved {approved}, posted {posted}, "
                        "not paid for revoked applications {excused}, postings without "
                        "their line {stray}.",
                        tranche=str(figures.tranche),
                        id=str(figures.allocation_id),
                        approved=Money(figures.approved_cents),
                        posted=Money(figures.posted_cents),
                        excused=Money(figures.excused_cents),
                        stray=str(figures.stray_postings),
                    )
                ),
                style="red",
                markup=False,
            )
        if not check.ok:
            fail(
                t(
                    "The ledger does not balance: sum {total}; accounts that differ "
                    "(id, balance, sum of postings): {mismatches}; tranches that differ "
                    "from their determina: {tranches}",
                    mismatches=str(check.mismatches),
                    total=Money(check.total_cents),
                    tranches=str(len(check.bad_tranches)),
                ),
                code=1,
            )
        tell(
            tn(
                "Ledger balanced: {count} account, sum 0.",
                "Ledger balanced: {count} accounts, sum 0.",
                check.accounts,
            ),
            style="green",
        )
        tell(
            tn(
                "Every tranche posted its approved total, one posting per line ({count} tranche).",
                "Every tranche posted its approved total, one posting per line ({count} tranches).",
                len(check.tranches),
            ),
            style="green",
        )

    run_with_core(work)
