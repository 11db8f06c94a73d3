"""A command's work on the database, opened the same way by every command.

`run_with_core` opens the configured database (migrated) for one job and says what stops
it as a sentence in the office's language, exit 2: a refusal of the core with its code, a
database that cannot be opened (`opening_refused`). `town_work` is where nearly every
`admin` command starts: a unit of work and the municipality its code names in it;
`operator_work` the same with the office operator who acts; `town_transaction` the same
for a job run again whole when it loses a race.

The database, the services and the driver are imported when a command runs: `buonispesa
--help` builds every command and must start fast (tests/unit/test_cli_startup.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, TypeVar

from buonispesa.cli.common import database_unavailable, fail, settings_or_exit, wrong_secret
from buonispesa.cli.refusals import refusal
from core.domain.errors import DomainError

if TYPE_CHECKING:
    from buonispesa.settings import Settings
    from core.bootstrap import Core
    from core.storage import models as m
    from core.storage.uow import UnitOfWork

T = TypeVar("T")


@contextmanager
def opening_refused(url: str) -> Iterator[None]:
    """A database that cannot be opened said in one sentence, exit 2, instead of a
    traceback: one set up with another server secret (`wrong_secret`), or one that cannot
    be reached or migrated (`database_unavailable`)."""
    from buonispesa.runtime import DatabaseUnavailable
    from core.storage.secret_file import WrongServerSecret

    try:
        yield
    except WrongServerSecret as error:
        wrong_secret(url, error)
    except DatabaseUnavailable as error:
        database_unavailable(error.url, error.problem)


def run_with_core(work: Callable[[Core], Awaitable[T]], settings: Settings | None = None) -> T:
    """Open the configured database (migrated), run one job, report domain errors clearly.
    `settings`: those the command has read already (read here otherwise)."""
    from buonispesa.runtime import core_from_settings

    chosen = settings if settings is not None else settings_or_exit()

    async def _run() -> T:
        core = await core_from_settings(chosen)
        try:
            return await work(core)
        finally:
            await core.close()

    with opening_refused(chosen.database_url):
        try:
            return asyncio.run(_run())
        except DomainError as error:
            fail(refusal(error))


@asynccontextmanager
async def town_work(core: Core, code: str) -> AsyncIterator[tuple[UnitOfWork, m.Municipality]]:
    """A unit of work and, in it, the municipality of `code`: none of that code is the
    refusal municipality.not_found (said by `run_with_core`), before anything is done.
    Leaving without `uow.commit()` rolls back, as every unit of work does."""
    from core.services import municipalities

    async with core.uow() as uow:
        yield uow, await municipalities.require(uow, code)


@asynccontextmanager
async def operator_work(
    core: Core, code: str, operator: str
) -> AsyncIterator[tuple[UnitOfWork, m.Operator]]:
    """A unit of work, as `town_work`, and in it the office's account of `operator` (a
    username, `operator_name`) in the municipality of `code`: for the commands an office
    operator runs under four eyes. Anyone else is refused (operator.not_found), before
    anything is done."""
    from core.services import phone_changes

    async with town_work(core, code) as (uow, town):
        yield uow, await phone_changes.operator_named(uow, town, operator)


async def town_transaction(
    core: Core, code: str, work: Callable[[UnitOfWork, m.Municipality], Awaitable[T]]
) -> T:
    """`work` in a unit of work with the municipality of `code`, as `town_work`, then
    committed; run whole again when the database says it lost a race (a deadlock), so a
    long job that writes many rows is not undone by one."""
    from core.services import municipalities
    from core.services.transactions import in_transaction

    async def once(uow: UnitOfWork) -> T:
        return await work(uow, await municipalities.require(uow, code))

    return await in_transaction(core.uow, once)
