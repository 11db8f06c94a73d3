"""A delegate's number proven in a Telegram chat linked to the very citizen it acts for
(an application made from that chat before phones were required) is never bound as that
citizen's own phone: the account acts as the delegate for the holder, never as the holder
(docs/identity-and-consent.md §5, docs/cards-and-delegates.md "One phone speaks for one
person"). On SQLite and PostgreSQL; the database refuses the row itself (migration
0042_citizen_not_own_delegate)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from sqlalchemy import delete, update

from core.bootstrap import Core
from core.domain.errors import Conflict, Refusal
from core.domain.identity import PhoneProof
from core.services import delegates, identity
from core.services.unit_of_work import UnitOfWork
from core.storage import models as m
from tests.factories import Town, request
from tests.integration.linked_chat import (
    apply_from_chat,
    holder_without_phone,
    idle_without_phone,
)
from tests.integration.migrating import migrate_to
from tests.integration.test_identity_migration import (
    _write,
    empty_url,  # noqa: F401  (a fixture)
)
from tests.integration.test_identity_races import (
    _committed,
    _register_delegate,
    first_then_second,
)

DELEGATE = "+393471230050"
CHAT = "990050"


async def _store_delegate(core: Core, town: Town, citizen_id: int) -> None:
    """DELEGATE stored as the citizen's delegate, a row written as it is (no service asked,
    no approval): what these tests look at is the chat proving that number afterwards."""
    async with core.uow() as uow:
        uow.session.add(
            m.Delegate(
                municipality_id=town.municipality_id,
                citizen_id=citizen_id,
                phone=DELEGATE,
                created_at=core.now(),
            )
        )
        await uow.commit()


async def _holder_without_phone(core: Core) -> Town:
    """Citizen 0 known without a phone, its Telegram chat CHAT linked from an older
    application; DELEGATE registered as their delegate."""
    town = await holder_without_phone(core, chat=CHAT)
    await _store_delegate(core, town, town.citizen_ids[0])
    return town


async def test_a_chat_sharing_its_holders_delegate_number_acts_as_the_delegate(
    core: Core,
) -> None:
    town = await _holder_without_phone(core)
    async with core.uow() as uow:
        with pytest.raises(identity.IdentityRefused) as refused:
            await identity.link_telegram(uow, town.municipality_id, CHAT, DELEGATE, core.now())
        assert refused.value.reason == "phone_is_delegate"
        assert isinstance(refused.value, identity.DelegateNumber)
        await uow.commit()
    async with core.uow() as uow:
        holder = await uow.citizens.by_id(town.citizen_ids[0])
        assert holder is not None
        # Not the holder's own phone, and the chat (the delegate's, Telegram says) is no
        # longer the holder's: it now acts for them as their delegate's number does.
        assert (holder.phone, holder.phone_proven_by, holder.telegram_chat_id) == (
            None,
            None,
            None,
        )
        assert await uow.citizens.by_phone(town.municipality_id, DELEGATE) is None
        delegate = await uow.delegates.of_citizen(holder.id)
        assert delegate is not None and delegate.phone == DELEGATE
        acts_for = await delegates.represented_by(uow, town.municipality_id, DELEGATE)
        assert acts_for is not None and acts_for.id == holder.id
        kinds = [event.kind for event in await uow.identity_events.for_citizen(holder.id)]
        assert kinds[-2:] == ["telegram_unbound", "link_refused"]
        assert kinds.count("phone_bound") == 1  # its paper application's, in make_town


async def test_another_households_delegate_number_becomes_the_chats_own(core: Core) -> None:
    """The delegate of another household applying for their own (docs/cards-and-delegates.md:
    the citizens' side allows it): the chat's citizen without a phone gets the number (one
    with nothing to spend: with money, a first number waits for the office's four eyes)."""
    town = await holder_without_phone(core)
    citizen_id, _ = await idle_without_phone(core, town, CHAT, 50)
    await _store_delegate(core, town, town.citizen_ids[1])
    async with core.uow() as uow:
        linked = await identity.link_telegram(uow, town.municipality_id, CHAT, DELEGATE, core.now())
        assert linked is not None and linked.id == citizen_id
        assert (linked.phone, linked.phone_proven_by) == (DELEGATE, "telegram_contact")
        await uow.commit()


async def test_an_application_from_that_chat_does_not_bind_the_delegate_number(
    core: Core,
) -> None:
    """The same chat applying again under the holder's codice fiscale with the delegate's
    proven number (claim_citizen's linked path): refused, nothing bound."""
    town = await _holder_without_phone(core)
    async with core.uow() as uow:
        with pytest.raises(identity.IdentityRefused) as refused:
            await apply_from_chat(core, uow, town, CHAT, DELEGATE)
        assert refused.value.reason == "phone_is_delegate"
        await uow.commit()
    async with core.uow() as uow:
        # The office sees the attempt in the holder's identity log (whose delegate's number
        # it is): nothing of check_claim's refused it, so the chat's flow logs nothing.
        events = await uow.identity_events.for_citizen(town.citizen_ids[0])
        assert [(e.kind, e.actor, e.phone) for e in events[-1:]] == [
            ("claim_refused", "chat:telegram", "***050")
        ]
    # Nor may the office give the holder their own delegate's number on paper: it reads why.
    async with core.uow() as uow:
        with pytest.raises(Conflict) as said:
            await identity.claim_citizen(
                uow,
                town.municipality_id,
                town.citizen_cfs[0],
                phone=DELEGATE,
                proof=PhoneProof.OFFICE,
                now=core.now(),
            )
        assert said.value.code == Refusal.IDENTITY_PHONE_IS_DELEGATE
    async with core.uow() as uow:
        holder = await uow.citizens.by_id(town.citizen_ids[0])
        assert holder is not None and holder.phone is None


async def test_the_database_refuses_a_citizens_own_delegate_number(core: Core) -> None:
    """Whatever writes it (a raw update, a race past the services): refused with the
    office's refusal, nothing changed. Another household's delegate number stays allowed."""
    town = await _holder_without_phone(core)
    async with core.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await uow.session.execute(
                update(m.Citizen)
                .where(m.Citizen.id == town.citizen_ids[0])
                .values(phone=DELEGATE, phone_proven_by="office")
            )
        assert refused.value.code == Refusal.IDENTITY_PHONE_IS_DELEGATE
    async with core.uow() as uow:
        holder = await uow.citizens.by_id(town.citizen_ids[0])
        assert holder is not None and holder.phone is None
        # A write that leaves the phone as it is goes through.
        await uow.session.execute(
            update(m.Citizen).where(m.Citizen.id == town.citizen_ids[0]).values(language="en")
        )
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[1])
            .values(phone=None, phone_proven_by=None)
        )
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[1])
            .values(phone=DELEGATE, phone_proven_by="office")
        )
        await uow.commit()


def _link(core: Core, town: Town) -> Callable[[UnitOfWork], Awaitable[m.Citizen | None]]:
    async def link(uow: UnitOfWork) -> m.Citizen | None:
        return await identity.link_telegram(uow, town.municipality_id, CHAT, DELEGATE, core.now())

    return link


async def _chat_linked_without_phone(core: Core) -> Town:
    """_holder_without_phone with no delegate yet."""
    town = await _holder_without_phone(core)
    async with core.uow() as uow:
        await uow.session.execute(delete(m.Delegate))
        await uow.commit()
    return town


async def test_a_delegate_registered_while_the_chat_proves_the_number_is_refused(
    core: Core, database_url: str
) -> None:
    """The chat proves the number (nobody's yet: it becomes the holder's own) while the
    office registers it as the holder's delegate: the registration waits for the chat's
    commit (both hold the number, and the registration the holder's row too), then is
    refused as when the phone came first. The holder has nothing to spend (with money, a
    first number waits for the office's four eyes and nothing is bound)."""
    town = await holder_without_phone(core)
    holder_id, code = await idle_without_phone(core, town, CHAT, 50)
    town = replace(
        town,
        citizen_ids=[holder_id, *town.citizen_ids[1:]],
        citizen_cfs=[code, *town.citizen_cfs[1:]],
    )
    linked, late = await first_then_second(
        core,
        database_url,
        _link(core, town),
        lambda: _committed(core, _register_delegate(core, town, 0, DELEGATE)),
    )
    assert linked is not None and linked.id == town.citizen_ids[0]
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.code == Refusal.DELEGATE_OWN_PHONE
    async with core.uow() as uow:
        holder = await uow.citizens.by_id(town.citizen_ids[0])
        assert holder is not None and holder.phone == DELEGATE
        assert await uow.delegates.of_citizen(holder.id) is None


async def test_the_chat_proving_the_number_while_the_delegate_is_registered_acts_as_it(
    core: Core, database_url: str
) -> None:
    town = await _chat_linked_without_phone(core)
    _, late = await first_then_second(
        core,
        database_url,
        _register_delegate(core, town, 0, DELEGATE),
        lambda: _committed(core, _link(core, town)),
    )
    with pytest.raises(identity.DelegateNumber):
        await asyncio.wait_for(late, timeout=10)
    async with core.uow() as uow:
        holder = await uow.citizens.by_id(town.citizen_ids[0])
        assert holder is not None and (holder.phone, holder.telegram_chat_id) == (None, CHAT)


async def test_a_code_sent_to_the_chat_it_unlinks_confirms_nothing(core: Core) -> None:
    """A payment asked while the chat was the holder's (before the delegate was registered)
    sent its code there: once the chat is unlinked it is cancelled, as when the office
    unlinks a chat (code_destinations.void_codes_gone_elsewhere)."""
    town = await _chat_linked_without_phone(core)
    requested = await request(core, town.shop_id, town.citizen_cfs[0], 5_00)
    await _store_delegate(core, town, town.citizen_ids[0])
    async with core.uow() as uow:
        with pytest.raises(identity.DelegateNumber):
            await identity.link_telegram(uow, town.municipality_id, CHAT, DELEGATE, core.now())
        await uow.commit()
    async with core.uow() as uow:
        charge = await uow.charges.by_id(requested.charge_id)
        assert charge is not None
        assert (charge.status, charge.closed_reason) == ("cancelled", "code_elsewhere")


async def test_the_migration_keeps_old_rows_refuses_new_ones_and_downgrades(
    empty_url: str,  # noqa: F811  (the fixture)
) -> None:
    """0042_citizen_not_own_delegate on a database that already holds a citizen whose own
    phone is their delegate's: the row stays (the office decides) and may be written
    keeping its phone; a new one is refused; downgrading removes the trigger."""
    await migrate_to(empty_url, "0041_phone_one_person")
    for statement in (
        "INSERT INTO municipalities (id, code, name, policy_toml, timezone, created_at) "
        "VALUES (1, 'OLD', 'Oldtown', '', 'Europe/Rome', :t)",
        "INSERT INTO citizens (id, municipality_id, codice_fiscale, language, card_code, "
        "created_at) VALUES (1, 1, 'CF1', 'it', 'CARD1', :t)",
        "INSERT INTO citizens (id, municipality_id, codice_fiscale, language, card_code, "
        "created_at) VALUES (2, 1, 'CF2', 'it', 'CARD2', :t)",
        "INSERT INTO delegates (municipality_id, citizen_id, phone, created_at) "
        f"VALUES (1, 1, '{DELEGATE}', :t)",
        # Before the rule: citizen 1 given their own delegate's number.
        f"UPDATE citizens SET phone = '{DELEGATE}' WHERE id = 1",
    ):
        assert await _write(empty_url, statement) is None
    await migrate_to(empty_url, "head")
    assert await _write(empty_url, "UPDATE citizens SET language = 'en' WHERE id = 1") is None
    assert await _write(empty_url, "UPDATE citizens SET phone = NULL WHERE id = 1") is None
    own = f"UPDATE citizens SET phone = '{DELEGATE}' WHERE id = 1"
    assert await _write(empty_url, own) == "identity.phone_is_delegate"
    # Another household may have it: the delegate's own.
    assert await _write(empty_url, own.replace("id = 1", "id = 2")) is None
    assert await _write(empty_url, "UPDATE citizens SET phone = NULL WHERE id = 2") is None
    await migrate_to(empty_url, "0041_phone_one_person", down=True)
    assert await _write(empty_url, own) is None
