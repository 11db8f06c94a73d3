"""`buonispesa admin outbox retry`: sending again the notices that failed (e.g. after a
provider outage longer than the notice lifetime, or a number that was fixed)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from buonispesa.cli.admin import admin, tell
from buonispesa.cli.common import ByOption, fail
from buonispesa.cli.logged import logged
from buonispesa.cli.work import run_with_core, town_work
from core.domain.messages import t, tn

# The services (SQLAlchemy) are imported by the commands that run: `--help` stays light.
if TYPE_CHECKING:
    from core.bootstrap import Core

outbox_app = typer.Typer(help="Messages waiting to be sent, or that failed.", no_args_is_help=True)
admin.add_typer(outbox_app, name="outbox")


@outbox_app.command("retry")
def retry(
    code: str,
    since: Annotated[
        str | None,
        typer.Option(help="Only notices written since YYYY-MM-DD[THH:MM] (the town's time)"),
    ] = None,
    by: ByOption = None,
) -> None:
    """Put the municipality's failed notices back in the outbox (codes are never re-sent)."""
    from core.services.outbox import requeue_failed

    try:
        moment = datetime.fromisoformat(since) if since else None
    except ValueError:
        fail(
            t(
                "--since: {value} is not a date like 2026-04-30 or 2026-04-30T08:00.",
                value=repr(since),
            )
        )

    async def work(core: Core) -> int:
        async with town_work(core, code) as (uow, town):
            start = moment
            if start is not None and start.tzinfo is None:
                start = start.replace(tzinfo=ZoneInfo(town.timezone))
            count = await requeue_failed(uow, town.id, start, core.now())
            if count:
                await logged(
                    uow,
                    town.id,
                    by,
                    "outbox.retry",
                    now=core.now(),
                    subject=town.code,
                    after={"count": count, "since": start.isoformat() if start else None},
                )
            await uow.commit()
        return count

    count = run_with_core(work)
    tell(
        tn(
            "{count} failed notice put back in the outbox.",
            "{count} failed notices put back in the outbox.",
            count,
        )
    )
