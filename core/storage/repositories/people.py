"""Who takes part: citizens (by codice fiscale, phone, card or Telegram chat, their cards),
the delegates who act for them, and their applications to a round.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from core.domain.channels import Channel
from core.domain.identity import codice_fiscale_forms, codice_fiscale_person_key
from core.storage import models as m
from core.storage.repositories.base import _Repository

# Transaction advisory locks (PostgreSQL), first key the rule's name, second the thing
# held within the municipality. PHONE_HOLDERS is also taken, with the same second key,
# by migration 0041_phone_one_person's trigger on delegates: keep the two in step.
PERSON_KEYS = "buonispesa.person_keys"
PHONE_HOLDERS = "buonispesa.phone_holders"
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:rule), hashtext(:held))")


class CitizenRepository(_Repository):
    async def _hold(self, rule: str, municipality_id: int, held: str) -> None:
        """Wait for, then hold until the commit, the rule's lock on `held`; another
        transaction asking for it waits for this one's commit. SQLite needs nothing: a
        writer holds the whole database from BEGIN IMMEDIATE, so whatever it reads next
        is what the last writer committed."""
        if self._transaction.dialect != "postgresql":
            return
        await self.session.execute(
            _ADVISORY_LOCK, {"rule": rule, "held": f"{municipality_id}:{held}"}
        )

    async def hold_person(self, municipality_id: int, cf: str) -> None:
        """Hold the person `cf` describes (its person key, omocodia folded:
        core.domain.identity.codice_fiscale_person_key): two chats claiming two forms of
        one code at once look for each other's citizen one after the other. A lock, not a
        unique index: the office may register a genuine omocode, a second person with
        the same key."""
        await self._hold(PERSON_KEYS, municipality_id, codice_fiscale_person_key(cf))

    async def hold_phone(self, municipality_id: int, phone: str) -> None:
        """Hold the number against a delegate registered on it meanwhile (the trigger
        delegates_phone_not_citizen takes the same lock before it looks for a citizen
        with it): the office giving it to a citizen and registering it as a delegate at
        once do it one after the other, and the second is refused."""
        await self._hold(PHONE_HOLDERS, municipality_id, phone)

    async def by_id(self, citizen_id: int) -> m.Citizen | None:
        return await self.session.get(m.Citizen, citizen_id)

    async def by_codice_fiscale(self, municipality_id: int, cf: str) -> m.Citizen | None:
        return await self.session.scalar(
            select(m.Citizen).where(
                m.Citizen.municipality_id == municipality_id, m.Citizen.codice_fiscale == cf
            )
        )

    async def by_person_key(self, municipality_id: int, cf: str) -> Sequence[m.Citizen]:
        """The citizens whose codice fiscale has the person key of `cf` (its omocodic
        forms, `cf` itself included; core.domain.identity.codice_fiscale_person_key), by id.

        Looked up as the 128 codes that key can be written as, each with its check letter:
        the unique index on (municipality_id, codice_fiscale) answers it with 128 index
        probes on both databases, with no column to add, fill and keep in step (every
        stored code passed normalize_codice_fiscale, so its check letter is the right one;
        an erased citizen's pseudonym matches none)."""
        return (
            await self.session.scalars(
                select(m.Citizen)
                .where(
                    m.Citizen.municipality_id == municipality_id,
                    m.Citizen.codice_fiscale.in_(codice_fiscale_forms(cf)),
                )
                .order_by(m.Citizen.id)
            )
        ).all()

    async def by_phone(self, municipality_id: int, phone: str) -> m.Citizen | None:
        return await self.session.scalar(
            select(m.Citizen)
            .where(m.Citizen.municipality_id == municipality_id, m.Citizen.phone == phone)
            .order_by(m.Citizen.id)
            .limit(1)
        )

    async def lock(self, citizen_id: int) -> m.Citizen | None:
        """The citizen, held until commit and read again (what another transaction committed
        while this one waited is what the caller sees): two operators changing one citizen's
        phone at once do it one after the other. FOR UPDATE on PostgreSQL; SQLite has one
        writer already (BEGIN IMMEDIATE)."""
        return await self._row_locked(m.Citizen, citizen_id)

    async def set_phone(self, citizen: m.Citizen, phone: str) -> bool:
        """Give the citizen `phone`; False (nothing written) when another citizen of the
        municipality took the number a moment earlier (uq_citizens_phone): a check made
        before could not see it."""
        await self.session.flush()
        try:
            async with self.session.begin_nested():
                citizen.phone = phone
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def by_card_code(self, municipality_id: int, card_code: str) -> m.Citizen | None:
        return await self.session.scalar(
            select(m.Citizen).where(
                m.Citizen.municipality_id == municipality_id, m.Citizen.card_code == card_code
            )
        )

    async def with_cards(self, municipality_id: int, blocked_only: bool) -> Sequence[m.Citizen]:
        """Citizens holding a card with a PIN, blocked ones first."""
        query = select(m.Citizen).where(
            m.Citizen.municipality_id == municipality_id, m.Citizen.card_pin_hash.is_not(None)
        )
        if blocked_only:
            query = query.where(m.Citizen.card_blocked_at.is_not(None))
        return (
            await self.session.scalars(
                query.order_by(m.Citizen.card_blocked_at.is_(None), m.Citizen.codice_fiscale)
            )
        ).all()

    async def block_card(self, citizen_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == citizen_id, m.Citizen.card_blocked_at.is_(None))
            .values(card_blocked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def card_grid(self, citizen_id: int, card_code: str) -> Sequence[m.CardCode]:
        """The grid of one-time codes printed with this card (none: a card with only a PIN,
        issued before the grids, or a grid voided by a reissue), by position."""
        return (
            await self.session.scalars(
                select(m.CardCode)
                .where(
                    m.CardCode.citizen_id == citizen_id,
                    m.CardCode.card_code == card_code,
                    m.CardCode.voided_at.is_(None),
                )
                .order_by(m.CardCode.position)
            )
        ).all()

    async def void_card_codes(self, citizen_id: int, now: datetime) -> int:
        """A reissued (or erased) card: no code of its grids confirms anything any more."""
        result = await self.session.execute(
            update(m.CardCode)
            .where(m.CardCode.citizen_id == citizen_id, m.CardCode.voided_at.is_(None))
            .values(voided_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def use_card_code(self, code_id: int, charge_id: int, now: datetime) -> bool:
        """Mark a code used by this payment, once: False when it was used (or voided)
        already, by a concurrent confirmation too (the UPDATE waits on the row)."""
        result = await self.session.execute(
            update(m.CardCode)
            .where(
                m.CardCode.id == code_id,
                m.CardCode.used_at.is_(None),
                m.CardCode.voided_at.is_(None),
            )
            .values(used_at=now, charge_id=charge_id)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def release_card_code(self, code_id: int, charge_id: int) -> bool:
        """Unused again: the code this payment took in its own transaction, when the payment
        is then refused (the balance). Only the code this charge took is touched."""
        result = await self.session.execute(
            update(m.CardCode)
            .where(m.CardCode.id == code_id, m.CardCode.charge_id == charge_id)
            .values(used_at=None, charge_id=None)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def other_reached_at(
        self, municipality_id: int, citizen_id: int, channel: str, address: str
    ) -> bool:
        """Whether another citizen of the municipality has this phone (or Telegram chat)."""
        column = m.Citizen.telegram_chat_id if channel == Channel.TELEGRAM else m.Citizen.phone
        other = await self.session.scalar(
            select(m.Citizen.id)
            .where(
                m.Citizen.municipality_id == municipality_id,
                m.Citizen.id != citizen_id,
                column == address,
            )
            .limit(1)
        )
        return other is not None

    async def by_telegram_chat(self, municipality_id: int, chat_id: str) -> m.Citizen | None:
        return await self.session.scalar(
            select(m.Citizen).where(
                m.Citizen.municipality_id == municipality_id,
                m.Citizen.telegram_chat_id == chat_id,
            )
        )


class DelegateRepository(_Repository):
    async def of_citizen(self, citizen_id: int, *, lock: bool = False) -> m.Delegate | None:
        """The citizen's delegate; `lock`: its row held until the commit (a removal
        compares it with the one the operator saw, and a replacement waits)."""
        query = select(m.Delegate).where(m.Delegate.citizen_id == citizen_id)
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def by_phone(self, municipality_id: int, phone: str) -> m.Delegate | None:
        return await self.session.scalar(
            select(m.Delegate).where(
                m.Delegate.municipality_id == municipality_id, m.Delegate.phone == phone
            )
        )

    async def remove(self, delegate: m.Delegate) -> None:
        await self.session.delete(delegate)
        await self.session.flush()


class ApplicationRepository(_Repository):
    async def by_protocol(self, protocol: str) -> m.Application | None:
        return await self.session.scalar(
            select(m.Application).where(m.Application.protocol == protocol.upper())
        )

    async def for_citizen(self, round_id: int, citizen_id: int) -> m.Application | None:
        return await self.session.scalar(
            select(m.Application).where(
                m.Application.round_id == round_id, m.Application.citizen_id == citizen_id
            )
        )

    async def of_citizen(self, citizen_id: int) -> Sequence[m.Application]:
        """Every application of the citizen, in every window, oldest first."""
        return (
            await self.session.scalars(
                select(m.Application)
                .where(m.Application.citizen_id == citizen_id)
                .order_by(m.Application.id)
            )
        ).all()

    async def latest_for_citizen(self, citizen_id: int) -> m.Application | None:
        return await self.session.scalar(
            select(m.Application)
            .where(m.Application.citizen_id == citizen_id)
            .order_by(m.Application.id.desc())
            .limit(1)
        )

    async def in_round(self, round_id: int) -> Sequence[m.Application]:
        return (
            await self.session.scalars(
                select(m.Application)
                .where(m.Application.round_id == round_id)
                .order_by(m.Application.submitted_at, m.Application.id)
            )
        ).all()

    async def with_citizens(self, round_id: int) -> Sequence[tuple[m.Application, m.Citizen]]:
        rows = await self.session.execute(
            select(m.Application, m.Citizen)
            .join(m.Citizen, m.Citizen.id == m.Application.citizen_id)
            .where(m.Application.round_id == round_id)
            .order_by(m.Application.submitted_at, m.Application.id)
        )
        return [(app, citizen) for app, citizen in rows.all()]
