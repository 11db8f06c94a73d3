"""0052_no_undo_to_erased, on SQLite and PostgreSQL: the trigger that refuses an undone
revocation's posting to an erased citizen comes and goes with its migration, and refuses
such a posting written bare, past the service's own refusal
(tests/integration/test_audit_outcomes.py has that one)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from core.bootstrap import Core
from core.domain.ledger import PostingKind
from core.services import ledger
from core.storage.transient import is_transient
from tests.conftest import FakeClock
from tests.integration.migrating import assert_guard_comes_and_goes
from tests.integration.test_audit_outcomes import PEOPLE, credited_round, revoke
from tests.integration.test_identity_migration import empty_url  # noqa: F401  (a fixture)
from tests.integration.test_privacy import erase

GUARD = "postings_no_undo_to_erased"
BEFORE = "0051_no_refund_to_erased"


async def test_the_guard_comes_and_goes_with_its_migration(empty_url: str) -> None:  # noqa: F811
    both = {GUARD, f"{GUARD}()"} if empty_url.startswith("postgresql") else {GUARD}
    await assert_guard_comes_and_goes(empty_url, both, BEFORE)


async def test_the_database_refuses_an_undo_posting_to_an_erased_citizen(
    core: Core, clock: FakeClock, database_url: str
) -> None:
    office, protocols = await credited_round(core, clock)
    await revoke(office, protocols[0])
    clock.advance(days=31)  # the decision can no longer be appealed
    await erase(office, PEOPLE[0].codice_fiscale)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(
            office.municipality_id, PEOPLE[0].codice_fiscale
        )
        assert citizen is None  # pseudonymised
        [application] = [
            a for a in [await uow.applications.by_protocol(protocols[0])] if a is not None
        ]
        erased_id = application.citizen_id
    with pytest.raises(DBAPIError) as refused:
        async with core.uow() as uow:
            await ledger.post(
                uow,
                municipality_id=office.municipality_id,
                kind=PostingKind.REVOCATION_UNDO,
                from_owner=0,
                to_owner=erased_id,
                amount_cents=150_00,
                now=clock(),
            )
            await uow.commit()
    assert "application.revocation_erased" in str(refused.value)
    # On PostgreSQL a lost race, run again: the service then refuses it in words.
    assert is_transient(refused.value) == database_url.startswith("postgresql")
    async with core.uow() as uow:
        assert await ledger.citizen_balance(uow, office.municipality_id, erased_id) == 0
