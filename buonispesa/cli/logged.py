"""The office's activity log for what the command line changes.

The back-office's services log each change with the operator who made it; the commands
that call the lower services directly (a window, a tranche, a credit, a reimbursement, a
revocation, a shop's approval, the town's own data) log it here, with the same action
names, the actor being `cli:<name>` (`--by`, else BUONISPESA_OPERATOR, else the login), in
the transaction of the change: an insider at the keyboard is seen as one at the browser.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from buonispesa.cli.common import cli_actor

if TYPE_CHECKING:
    from core.services.unit_of_work import UnitOfWork


async def logged(
    uow: UnitOfWork,
    municipality_id: int,
    by: str | None,
    action: str,
    *,
    now: datetime,
    subject: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one entry; the command's own commit keeps it with its change."""
    # The services are imported by the commands that run: `--help` stays light.
    from core.services import activity

    await activity.by_actor(
        uow,
        municipality_id,
        cli_actor(by),
        action,
        now=now,
        subject=subject,
        before=before,
        after=after,
    )
