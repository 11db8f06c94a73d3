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

    The order: the entry is written in the command's transaction, not committed; the bytes
    go to a temporary file beside the target, which is put in place under its name; then
    the entry is committed. A file that cannot be put in place (one appeared under the name
    meanwhile, without --force; a full disk) ends the command before the commit, and the
    unit of work rolls the entry back: the log never tells of a file that was not written.
    A commit that fails takes the file back (removed, or the file --force replaced put
    back), so no file of personal data stays without its entry. Only a crash of the process
    between the rename and the commit could leave the file without it."""
    # The services are imported by the commands that run: `--help` stays light.
    from core.services import activity

    await activity.exported(
        uow,
        municipality_id,
        cli_actor(by),
        target.path.name,
        rows=rows,
        masked=False,
        now=now,
        commit=False,
    )
    with target.published(payload):
        await uow.commit()
