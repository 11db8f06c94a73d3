"""The office's activity log: who did what, when, to what, with the values before and after.

Rows are only ever inserted (database triggers refuse UPDATE and DELETE), in the same
transaction as the change they describe, so the log and the data never disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.services.unit_of_work import UnitOfWork
from core.storage import models as m


async def record(
    uow: UnitOfWork,
    municipality_id: int,
    actor: str,
    action: str,
    *,
    now: datetime,
    subject: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    operator_id: int | None = None,
) -> m.ActivityEntry:
    entry = m.ActivityEntry(
        municipality_id=municipality_id,
        operator_id=operator_id,
        actor=actor[:100],
        action=action,
        subject=subject[:100],
        before=before,
        after=after,
        created_at=now,
    )
    await uow.activity.record(entry)
    return entry


async def by_operator(
    uow: UnitOfWork,
    operator: m.Operator,
    action: str,
    *,
    now: datetime,
    subject: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> m.ActivityEntry:
    return await record(
        uow,
        operator.municipality_id,
        operator.username,
        action,
        now=now,
        subject=subject,
        before=before,
        after=after,
        operator_id=operator.id,
    )


async def exported(
    uow: UnitOfWork,
    municipality_id: int,
    by: Actor,
    file: str,
    *,
    rows: int,
    masked: bool,
    now: datetime,
    commit: bool = True,
) -> m.ActivityEntry:
    """A table of people's data left the database as a file (the applications with codice
    fiscale and phone, a tranche's allocation, the sums to recover, one person's data):
    downloaded from the office or written by a command's `--out`. Who took it, when, which
    file and how many rows, so a leak can be traced to its file. Committed here, since an
    export changes nothing else, unless `commit` is False: the command line commits it once
    its file is in place (buonispesa.cli.logged.exported_file)."""
    entry = await by_actor(
        uow,
        municipality_id,
        by,
        "export.download",
        now=now,
        subject=file,
        after={"file": file, "rows": rows, "masked": masked},
    )
    if commit:
        await uow.commit()
    return entry


async def entries(
    uow: UnitOfWork, municipality_id: int, *, limit: int | None = 200, offset: int = 0
) -> list[m.ActivityEntry]:
    """Newest first."""
    return list(await uow.activity.newest_first(municipality_id, limit, offset))


async def history_of(
    uow: UnitOfWork, municipality_id: int, protocol: str, *, limit: int | None = 200
) -> list[m.ActivityEntry]:
    """An application's history, newest first: the entries about its protocol and about
    the acts that name it (a revocation prepared, approved or withdrawn), however busy the
    rest of the office's log is."""
    acts = await uow.acts.naming(municipality_id, protocol)
    subjects = [protocol, *(f"#{act.id}" for act in acts)]
    return list(await uow.activity.about(municipality_id, subjects, limit))


# Who acts: an operator of the back-office, or the name of whoever ran a command (the
# command line writes "cli:<name>").
Actor = m.Operator | str


def actor_name(by: Actor) -> str:
    return by.username if isinstance(by, m.Operator) else by[:100]


async def by_actor(
    uow: UnitOfWork,
    municipality_id: int,
    by: Actor,
    action: str,
    *,
    now: datetime,
    subject: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> m.ActivityEntry:
    if isinstance(by, m.Operator):
        return await by_operator(
            uow, by, action, now=now, subject=subject, before=before, after=after
        )
    return await record(
        uow, municipality_id, by, action, now=now, subject=subject, before=before, after=after
    )
