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
    from buonispesa.cli.outfile import OutFile
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


async def exported_file(
    uow: UnitOfWork,
    municipality_id: int,
    by: str | None,
    target: OutFile,
    payload: str | bytes,
    *,
    rows: int,
    now: datetime,
) -> None:
    """Write a file of people's data and its `export.download` entry, as the office's
    download is logged. `payload` is already rendered: a renderer that fails logs nothing.

    The order: the bytes go to the temporary file beside the target, then the entry is
    committed, then the file is renamed into place. A failed write or commit removes the
    temporary file, so no file of personal data appears without its entry. What is left
    after the commit is only the rename; if it fails (a file appeared meanwhile under the
    name, without --force) the entry names a file that was not written. Publishing first
    and logging after would instead leave, on a failed commit or a crash between the two,
    a file nobody logged: the log may tell of one file too many, never of one too few."""
    # The services are imported by the commands that run: `--help` stays light.
    from core.services import activity

    with target.staged(payload):
        await activity.exported(
            uow, municipality_id, cli_actor(by), target.path.name, rows=rows, masked=False, now=now
        )
