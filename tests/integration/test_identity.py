"""Identity rules in the services and the schema, on SQLite and PostgreSQL.

One codice fiscale, one proven phone, one Telegram user per citizen of a municipality;
each phone and Telegram user belongs to one citizen; only the office rebinds; the
identity log cannot be changed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from stdnum.it import codicefiscale

from buonispesa.cli import app
from core.bootstrap import Core
from core.domain.errors import Conflict, NotFound, Refusal
from core.domain.identity import PhoneProof
from core.domain.messages import reply_from_json
from core.domain.shops import ShopCategory
from core.services import applications, identity, municipalities, shops
from core.services.applications import ApplicationInput, submit_application
from core.storage import models as m
from tests.cli_runner import runner
from tests.dialogue.harness import outbox_of, town_with_open_window
from tests.factories import Town, make_cf, make_town, pay
from tests.integration.migrating import core_on

NEWCOMER = make_cf(800)
TRIED = "Someone tried to apply for grocery vouchers with your codice fiscale from {phone}. "


def omocode(cf: str, *positions: int) -> str:
    """`cf` with the digits at `positions` written as their omocodia letters, check letter
    computed again: a valid code of the same person key."""
    chars = list(cf[:15])
    for position in positions:
        chars[position] = "LMNPQRSTUV"[int(chars[position])]
    stem = "".join(chars)
    return stem + codicefiscale.calc_check_digit(stem)


def _application(cf: str, phone: str | None) -> ApplicationInput:
    return ApplicationInput(cf, phone, 1, False, False, 0, 0, 0)


async def _submit_from_chat(
    core: Core, town: Town, cf: str, phone: str, proof: PhoneProof, telegram: str | None = None
) -> m.Application:
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        application = await submit_application(
            uow,
            municipality,
            _application(cf, phone),
            source="telegram" if telegram else "sms",
            now=core.now(),
            proof=proof,
            telegram_user=telegram,
        )
        await uow.commit()
        return application


async def _count(core: Core, model: type[m.Base]) -> int:
    async with core.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_schema_refuses_a_second_citizen_with_the_same_phone_or_telegram_user(
    core: Core,
) -> None:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(telegram_chat_id="990001")
        )
        await uow.commit()
    for column, value in (("phone", town.citizen_phones[0]), ("telegram_chat_id", "990001")):
        async with core.uow() as uow:
            uow.session.add(
                m.Citizen(
                    municipality_id=town.municipality_id,
                    codice_fiscale=NEWCOMER,
                    language="it",
                    card_code=f"CARD{column[:4].upper()}",
                    created_at=core.now(),
                    **{column: value},
                )
            )
            with pytest.raises(IntegrityError):
                await uow.flush()
    # Another municipality may know the same person by the same number.
    other = await make_town(core, citizens=1, code="OTH")
    async with core.uow() as uow:
        again = await uow.citizens.by_id(other.citizen_ids[0])
        assert again is not None and again.phone == town.citizen_phones[0]


async def test_the_identity_log_cannot_be_changed_or_deleted(core: Core) -> None:
    town = await make_town(core, citizens=1)
    async with core.uow() as uow:
        [event] = await uow.identity_events.for_citizen(town.citizen_ids[0])
        assert (event.kind, event.proof, event.actor) == ("phone_bound", "office", "office")
        assert event.phone == "***" + town.citizen_phones[0][-3:]
    for statement in (
        update(m.IdentityEvent).values(actor="someone else"),
        delete(m.IdentityEvent),
    ):
        async with core.uow() as uow:
            with pytest.raises(DBAPIError, match="append-only"):
                await uow.session.execute(statement)
    assert await _count(core, m.IdentityEvent) == 1


async def test_a_chat_cannot_take_over_a_codice_fiscale(core: Core) -> None:
    town = await town_with_open_window(core)
    before = (await _count(core, m.Citizen), await _count(core, m.Application))
    with pytest.raises(identity.IdentityRefused) as refused:
        await _submit_from_chat(
            core, town, town.citizen_cfs[0], "+393471230001", PhoneProof.SMS_CODE
        )
    assert refused.value.reason == "codice_fiscale_bound"
    with pytest.raises(identity.IdentityRefused) as refused:
        await _submit_from_chat(
            core, town, NEWCOMER, town.citizen_phones[1], PhoneProof.TELEGRAM_CONTACT, "990002"
        )
    assert refused.value.reason == "phone_bound"
    assert (await _count(core, m.Citizen), await _count(core, m.Application)) == before
    # The holder's own phone may apply again in the new round.
    application = await _submit_from_chat(
        core, town, town.citizen_cfs[0], town.citizen_phones[0], PhoneProof.SMS_CODE
    )
    assert application.citizen_id == town.citizen_ids[0]


async def test_a_telegram_user_belongs_to_one_citizen(core: Core) -> None:
    town = await town_with_open_window(core)
    await _submit_from_chat(
        core, town, NEWCOMER, "+393471230002", PhoneProof.TELEGRAM_CONTACT, "990003"
    )
    async with core.uow() as uow:
        # The same Telegram user with a citizen's number: refused, logged, nothing linked.
        with pytest.raises(identity.IdentityRefused):
            await identity.link_telegram(
                uow, town.municipality_id, "990003", town.citizen_phones[0], core.now()
            )
        await uow.commit()
    async with core.uow() as uow:
        other = await uow.citizens.by_id(town.citizen_ids[0])
        assert other is not None and other.telegram_chat_id is None
        mine = await uow.citizens.by_codice_fiscale(town.municipality_id, NEWCOMER)
        assert mine is not None
        kinds = [e.kind for e in await uow.identity_events.for_citizen(mine.id)]
        assert kinds[-1] == "link_refused"
        # An unlinked chat sharing a citizen's number is linked to that citizen.
        linked = await identity.link_telegram(
            uow, town.municipality_id, "990004", town.citizen_phones[0], core.now()
        )
        assert linked is not None and linked.id == town.citizen_ids[0]
        await uow.commit()


async def test_the_office_rebinds_a_phone_and_it_is_logged(core: Core) -> None:
    town = await make_town(core, citizens=2)
    # Nothing left to spend: the number changes at once (see test_phone_changes.py).
    await pay(core, town, 150_00)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(telegram_chat_id="990005")
        )
        await uow.commit()
    new_phone = "+393471230003"
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        with pytest.raises(Conflict):
            await identity.rebind_phone(
                uow,
                municipality,
                town.citizen_cfs[0],
                town.citizen_phones[1],
                operator="Rossi",
                now=core.now(),
            )
        with pytest.raises(NotFound):
            await identity.rebind_phone(
                uow, municipality, NEWCOMER, new_phone, operator="Rossi", now=core.now()
            )
        done = await identity.rebind_phone(
            uow, municipality, town.citizen_cfs[0], new_phone, operator="Rossi", now=core.now()
        )
        await uow.commit()
    assert done.telegram_unlinked and done.previous_phone == town.citizen_phones[0]
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None
        assert (citizen.phone, citizen.phone_proven_by, citizen.telegram_chat_id) == (
            new_phone,
            "office",
            None,
        )
        log = await uow.identity_events.for_citizen(citizen.id)
        rebound = [e for e in log if e.kind == "phone_rebound"]
        assert [(e.actor, e.phone, e.previous_phone) for e in rebound] == [
            ("office:Rossi", "***003", "***" + town.citizen_phones[0][-3:])
        ]
        assert "telegram_unbound" in [e.kind for e in log]
        # Both numbers are told, the old one so that a mistake or a trick is noticed.
        for number in (new_phone, town.citizen_phones[0]):
            rows = await uow.outbox.for_address("sms", number)
            assert any("office" in reply_from_json(r.payload).texts[0].msgid for r in rows)


async def test_a_shops_phone_is_never_bound_to_a_citizen(core: Core) -> None:
    """An owner's or a cashier's phone would receive the citizen's payment codes, and the
    shop could confirm its own charges: the office cannot bind it, a chat cannot apply
    with it, and nothing changes."""
    town = await town_with_open_window(core)
    cashier = "+393471230009"
    # The terminal chat is addressed by a phone too: its cashier's number is a shop's.
    at_terminal = "+393339990002"
    async with core.uow() as uow:
        for channel, address in (("sms", cashier), ("terminal", at_terminal)):
            code = await shops.create_invite(uow, town.shop_id, core.now())
            await shops.accept_invite(uow, code, channel=channel, address=address, now=core.now())
        await uow.commit()
    for phone in (town.shop_phone, cashier, at_terminal):
        async with core.uow() as uow:
            municipality = await uow.municipalities.by_id(town.municipality_id)
            assert municipality is not None
            with pytest.raises(Conflict) as refused:
                await identity.rebind_phone(
                    uow, municipality, town.citizen_cfs[0], phone, operator="Rossi", now=core.now()
                )
            assert refused.value.code == Refusal.IDENTITY_PHONE_IS_SHOP
            with pytest.raises(Conflict) as on_paper:
                await submit_application(
                    uow, municipality, _application(NEWCOMER, phone), source="paper", now=core.now()
                )
            assert on_paper.value.code == Refusal.IDENTITY_PHONE_IS_SHOP
        with pytest.raises(Conflict) as from_chat:
            await _submit_from_chat(core, town, NEWCOMER, phone, PhoneProof.SMS_CODE)
        assert from_chat.value.code == Refusal.IDENTITY_PHONE_IS_SHOP
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and citizen.phone == town.citizen_phones[0]
        assert await uow.citizens.by_codice_fiscale(town.municipality_id, NEWCOMER) is None
        assert await uow.citizens.by_phone(town.municipality_id, cashier) is None
        assert await uow.citizens.by_phone(town.municipality_id, at_terminal) is None


async def test_a_shops_telegram_chat_is_never_linked_to_a_citizen(core: Core) -> None:
    """A cashier's Telegram chat that shared a citizen's contact (or applied) would receive
    the citizen's payment codes at the till: refused, logged, nothing bound."""
    town = await town_with_open_window(core)
    cashier_chat = "990020"
    async with core.uow() as uow:
        code = await shops.create_invite(uow, town.shop_id, core.now())
        await shops.accept_invite(
            uow,
            code,
            channel="telegram",
            address=cashier_chat,
            now=core.now(),
            phone="+393471230020",
        )
        await uow.commit()
    for phone in (town.citizen_phones[0], "+393471230021"):
        async with core.uow() as uow:
            with pytest.raises(identity.IdentityRefused) as refused:
                await identity.link_telegram(
                    uow, town.municipality_id, cashier_chat, phone, core.now()
                )
            assert refused.value.reason == "telegram_is_shop"
            await uow.commit()
    with pytest.raises(identity.IdentityRefused):
        await _submit_from_chat(
            core, town, NEWCOMER, "+393471230021", PhoneProof.TELEGRAM_CONTACT, cashier_chat
        )
    async with core.uow() as uow:
        assert await uow.citizens.by_telegram_chat(town.municipality_id, cashier_chat) is None
        assert await uow.citizens.by_codice_fiscale(town.municipality_id, NEWCOMER) is None
        kinds = [e.kind for e in await uow.identity_events.for_citizen(town.citizen_ids[0])]
        assert kinds[-1] == "link_refused"
        # The same number from the citizen's own chat is linked as before.
        linked = await identity.link_telegram(
            uow, town.municipality_id, "990021", town.citizen_phones[0], core.now()
        )
        assert linked is not None and linked.id == town.citizen_ids[0]


async def test_a_citizens_telegram_chat_does_not_join_a_shop(core: Core) -> None:
    """The reverse of the test above: the Telegram user linked to a voucher holder neither
    becomes a cashier nor registers a shop (the codes would reach the till's own chat)."""
    town = await make_town(core, citizens=1)
    chat = "990030"
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Citizen)
            .where(m.Citizen.id == town.citizen_ids[0])
            .values(telegram_chat_id=chat)
        )
        code = await shops.create_invite(uow, town.shop_id, core.now())
        await uow.commit()
    async with core.uow() as uow:
        with pytest.raises(Conflict) as as_cashier:
            await shops.accept_invite(uow, code, channel="telegram", address=chat, now=core.now())
        assert as_cashier.value.code == Refusal.SHOP_MEMBER_IS_CITIZEN
    async with core.uow() as uow:
        assert await uow.shops.membership("telegram", chat) == []


async def test_a_citizens_phone_does_not_join_a_shop(core: Core) -> None:
    """The reverse: a voucher holder's phone neither registers a shop nor becomes a
    cashier of one; the invite stays unused."""
    town = await make_town(core, citizens=1)
    holder = town.citizen_phones[0]
    async with core.uow() as uow:
        code = await shops.create_invite(uow, town.shop_id, core.now())
        await uow.commit()
    async with core.uow() as uow:
        with pytest.raises(Conflict) as as_cashier:
            await shops.accept_invite(uow, code, channel="sms", address=holder, now=core.now())
        assert as_cashier.value.code == Refusal.SHOP_MEMBER_IS_CITIZEN
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        shop = await uow.shops.by_id(town.shop_id)
        assert shop is not None
        data = shops.ShopInput(
            "Bottega",
            shop.vat_number,
            ShopCategory.GROCERY,
            "Via Po 2",
            "T",
            "62020",
            None,
            None,
            shop.iban,
        )
        with pytest.raises(Conflict) as as_owner:
            await shops.register_shop(
                uow,
                town.municipality_id,
                data,
                owner_channel="sms",
                owner_address=holder,
                now=core.now(),
            )
        assert as_owner.value.code == Refusal.SHOP_MEMBER_IS_CITIZEN
    async with core.uow() as uow:
        assert await uow.shops.membership("sms", holder) == []
        # The invite is still good for the real cashier.
        joined = await shops.accept_invite(
            uow, code, channel="sms", address="+393471230010", now=core.now()
        )
        assert joined.id == town.shop_id


async def test_paper_import_cannot_give_a_citizen_a_second_phone(core: Core) -> None:
    town = await town_with_open_window(core)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        with pytest.raises(identity.IdentityRefused):
            await submit_application(
                uow,
                municipality,
                _application(town.citizen_cfs[0], "+393471230004"),
                source="paper",
                now=core.now(),
            )
        # Without a phone on the paper row, the one on file stays.
        application = await submit_application(
            uow,
            municipality,
            _application(town.citizen_cfs[0], None),
            source="paper",
            now=core.now(),
        )
        citizen = await uow.citizens.by_id(application.citizen_id)
        assert citizen is not None and citizen.phone == town.citizen_phones[0]


def test_admin_citizen_phone_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    import asyncio

    monkeypatch.setenv("BUONISPESA_LANGUAGE", "en")
    monkeypatch.setenv("BUONISPESA_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("BUONISPESA_OPERATOR", "Bianchi")

    async def seed() -> Town:
        async with core_on(sqlite_url) as core:
            town = await make_town(core, citizens=2)
            await pay(core, town, 150_00)  # nothing left to spend: no second operator needed
            return town

    town = asyncio.run(seed())
    result = runner.invoke(
        app, ["admin", "citizen", "phone", town.code, town.citizen_cfs[0], "347 123 0005"]
    )
    assert result.exit_code == 0, result.output
    assert "***005" in result.output and "Bianchi" in result.output
    taken = runner.invoke(
        app,
        ["admin", "citizen", "phone", town.code, town.citizen_cfs[1], "3471230005", "--by", "X"],
    )
    assert taken.exit_code == 2 and "identity.phone_of_another" in taken.output
    assert "Traceback" not in taken.output
    # The same number again: nothing to do, nobody told twice.
    again = runner.invoke(
        app, ["admin", "citizen", "phone", town.code, town.citizen_cfs[0], "3471230005"]
    )
    assert again.exit_code == 2 and "(identity.phone_already)" in again.output
    assert "is already this citizen's number" in " ".join(again.output.split())
    bad = runner.invoke(app, ["admin", "citizen", "phone", town.code, "NOTACF", "3471230005"])
    assert bad.exit_code == 2 and "not a valid codice fiscale" in bad.output

    async def log() -> list[tuple[str, str]]:
        async with core_on(sqlite_url) as core, core.uow() as uow:
            rows = await uow.identity_events.for_citizen(town.citizen_ids[0])
            return [(e.kind, e.actor) for e in rows]

    assert ("phone_rebound", "office:Bianchi") in asyncio.run(log())


async def test_closing_and_reopening_a_round_keeps_one_citizen_per_phone(core: Core) -> None:
    # A citizen from the first round applies again from the same phone in the next one.
    town = await town_with_open_window(core)
    await _submit_from_chat(
        core, town, town.citizen_cfs[2], town.citizen_phones[2], PhoneProof.SMS_CODE
    )
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await municipalities.close_window(uow, municipality, core.now() + timedelta(minutes=1))
        await uow.commit()
    assert await _count(core, m.Citizen) == 3


async def test_an_older_telegram_applicant_without_phone_adds_the_contacts(core: Core) -> None:
    # Before phones were required a Telegram application was stored without one.
    town = await town_with_open_window(core)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        application = await submit_application(
            uow, municipality, _application(NEWCOMER, None), source="paper", now=core.now()
        )
        citizen = await uow.citizens.by_id(application.citizen_id)
        assert citizen is not None
        citizen.telegram_chat_id = "990010"
        await uow.commit()
    async with core.uow() as uow:
        # Another chat cannot claim it; its own chat can, and the contact becomes its phone.
        refused = await identity.check_claim(
            uow, town.municipality_id, NEWCOMER, phone="+393471230010", telegram_user="990011"
        )
        assert refused.refusal == "telegram_differs"
        allowed = await identity.check_claim(
            uow, town.municipality_id, NEWCOMER, phone="+393471230010", telegram_user="990010"
        )
        assert allowed.refusal is None
        linked = await identity.link_telegram(
            uow, town.municipality_id, "990010", "+393471230010", core.now()
        )
        assert linked is not None and linked.codice_fiscale == NEWCOMER
        assert (linked.phone, linked.phone_proven_by) == ("+393471230010", "telegram_contact")
        # Without a linked chat, a paper applicant without phone is the office's to bind.
        linked.telegram_chat_id = None
        linked.phone = None
        await uow.flush()
        unproven = await identity.check_claim(
            uow, town.municipality_id, NEWCOMER, phone="+393471230010", telegram_user="990010"
        )
        assert unproven.refusal == "codice_fiscale_unproven"


async def test_a_chat_cannot_claim_another_form_of_a_citizens_codice_fiscale(core: Core) -> None:
    # The trial's attack: a holder's code with the place's last digit as its omocodia
    # letter (valid, a different string) from a new phone. It is the holder's code.
    town = await town_with_open_window(core)
    holder_cf = town.citizen_cfs[0]
    disguised = omocode(holder_cf, 14)
    assert codicefiscale.is_valid(disguised) and disguised != holder_cf
    before = (await _count(core, m.Citizen), await _count(core, m.Application))
    async with core.uow() as uow:
        claim = await identity.check_claim(
            uow, town.municipality_id, disguised, phone="+393471230050"
        )
        assert claim.refusal == "codice_fiscale_omocode" and claim.citizen is None
        assert claim.victim is not None and claim.victim.id == town.citizen_ids[0]
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await identity.record_refusal(
            uow, municipality, claim, channel="sms", phone="+393471230050", now=core.now()
        )
        await uow.commit()
    for proof, telegram in ((PhoneProof.SMS_CODE, None), (PhoneProof.TELEGRAM_CONTACT, "990050")):
        with pytest.raises(identity.IdentityRefused) as refused:
            await _submit_from_chat(core, town, disguised, "+393471230050", proof, telegram)
        assert refused.value.reason == "codice_fiscale_omocode"
    # The base code claimed against an omocodic citizen is refused the same way.
    with pytest.raises(identity.IdentityRefused):
        await _submit_from_chat(
            core, town, omocode(disguised, 6, 7), "+393471230051", PhoneProof.SMS_CODE
        )
    assert (await _count(core, m.Citizen), await _count(core, m.Application)) == before
    # The holder was told, like for their exact code, and the attempt logged on them.
    notices = [
        reply
        for _row, reply in await outbox_of(core, "sms", town.citizen_phones[0])
        if reply.texts and reply.texts[0].msgid.startswith(TRIED)
    ]
    assert [reply.texts[0].params["phone"] for reply in notices] == ["***050"]
    async with core.uow() as uow:
        logged = (
            await uow.session.scalars(
                select(m.IdentityEvent.citizen_id).where(
                    m.IdentityEvent.kind == identity.TAKEOVER_REFUSED
                )
            )
        ).all()
        assert set(logged) == {town.citizen_ids[0]}
        # The holder typing their own code in another form is refused, and not told.
        own = await identity.check_claim(
            uow, town.municipality_id, disguised, phone=town.citizen_phones[0]
        )
        assert (own.refusal, own.victim) == ("phone_bound", None)


async def test_the_office_registers_a_genuine_omocode_who_then_applies_from_a_chat(
    core: Core,
) -> None:
    # Omocodia is real: the Agenzia gave a different person the code with a letter for a
    # digit. The office, which sees the documents, registers them on paper (one by one
    # or in a bulk import); from then on their own phone applies under their own code.
    town = await town_with_open_window(core)
    genuine = omocode(town.citizen_cfs[0], 14)
    other = omocode(town.citizen_cfs[1], 13)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        application = await submit_application(
            uow,
            municipality,
            _application(genuine, "+393471230060"),
            source="paper",
            now=core.now(),
        )
        assert application.citizen_id not in town.citizen_ids
        imported = await applications.import_applications(
            uow, municipality, [(_application(other, "+393471230061"), core.now())], core.now()
        )
        assert imported == 1
        await uow.commit()
    assert await _count(core, m.Citizen) == len(town.citizen_ids) + 2
    async with core.uow() as uow:
        for cf, phone in (
            (genuine, "+393471230060"),
            (town.citizen_cfs[0], town.citizen_phones[0]),
        ):
            claim = await identity.check_claim(uow, town.municipality_id, cf, phone=phone)
            assert claim.refusal is None and claim.citizen is not None
            assert claim.citizen.codice_fiscale == cf
        # A third form of the same person key, from a chat: refused, the first one told.
        third = await identity.check_claim(
            uow, town.municipality_id, omocode(genuine, 13), phone="+393471230062"
        )
        assert third.refusal == "codice_fiscale_omocode"
        assert third.victim is not None and third.victim.id == town.citizen_ids[0]
