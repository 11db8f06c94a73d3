"""Identity in the conversations: the phone before the codice fiscale, no takeover from a chat.

Each scenario is one of the defects these rules close (docs/identity-and-consent.md):
applying under someone else's codice fiscale by SMS and by Telegram, one chat ending up
linked to two citizens, a Telegram application stored without a phone, two chats and
one codice fiscale.
"""

from __future__ import annotations

from sqlalchemy import func, select
from stdnum.it import codicefiscale

from core.bootstrap import Core
from core.dialogue.errors import IDENTITY_REFUSED
from core.dialogue.flows.citizen import SHOP_CHAT
from core.dialogue.flows.member_phone import CONTACT_NOT_NEEDED
from core.dialogue.inbound import Channel
from core.domain.messages import Money, Reply
from core.services import shops
from core.storage import models as m
from tests.conftest import FakeClock
from tests.dialogue.harness import (
    Chat,
    assert_one_segment,
    msgids,
    outbox_of,
    param,
    town_with_open_window,
)
from tests.factories import make_cf

REFUSED = IDENTITY_REFUSED.msgid
ASK_CONTACT = "To apply we need your phone number: tap the button below to share it."
KEEP_BUTTON = "Tap the button below to share your phone number, or write ANNULLA."
CF = "Write your codice fiscale (16 characters, it is on your health card)."
MEMBERS = "How many people live in your household, you included? Write a number."
NOTICE = (
    "Someone tried to apply for grocery vouchers with your codice fiscale from {phone}. "
    "If it was not you, tell the office."
)
SENT = (
    "Application sent for {masked}, {count} person. Protocol {protocol}. We will write to "
    "you when it has been assessed."
)
CODE = (
    "Code {code} confirms your voucher application for {masked}, {count} person: reply to "
    "this message with the code. Do not give it to anyone else. Valid {minutes} min."
)
BALANCE = "Your balance: {balance}."
NEWCOMER = make_cf(700)


async def notices_to(core: Core, phone: str) -> list[tuple[m.OutboxMessage, Reply]]:
    return [
        (row, reply)
        for row, reply in await outbox_of(core, "sms", phone)
        if reply.texts and reply.texts[0].msgid == NOTICE
    ]


async def counts(core: Core) -> tuple[int, int]:
    async with core.uow() as uow:
        citizens = await uow.session.scalar(select(func.count()).select_from(m.Citizen))
        applications = await uow.session.scalar(select(func.count()).select_from(m.Application))
        return int(citizens or 0), int(applications or 0)


async def events(core: Core, kind: str) -> list[m.IdentityEvent]:
    async with core.uow() as uow:
        return list(
            await uow.session.scalars(
                select(m.IdentityEvent)
                .where(m.IdentityEvent.kind == kind)
                .order_by(m.IdentityEvent.id)
            )
        )


async def telegram_applicant(core: Core, chat_id: str, phone: str) -> Chat:
    """A Telegram chat at the codice fiscale question, its own contact shared."""
    chat = Chat(core, chat_id, channel=Channel.TELEGRAM, language_hint="en")
    await chat.send("/apply")  # English: no language question
    await chat.expect("1", ASK_CONTACT)
    assert chat.last[-1].request == "contact"
    await chat.expect(None, CF, contact=(phone, True))
    return chat


ANSWERS = ("1", "2", "2", "0", "0", "0")  # members, work, pension, savings, support, rent


async def refused_when_sent(chat: Chat, codice_fiscale: str) -> None:
    """A Telegram chat that is nobody's types a code it may not use: the questions go on as
    for any code (a refusal now would tell it which codes applied), and the application is
    refused when sent."""
    await chat.expect(codice_fiscale, MEMBERS)
    for text in ANSWERS:
        await chat.send(text)
    await chat.expect(None, REFUSED, option="declare")


async def test_sms_cannot_apply_under_a_codice_fiscale_bound_to_another_phone(
    core: Core,
) -> None:
    town = await town_with_open_window(core)
    before = await counts(core)
    thief = Chat(core, "+393471110001")
    for text in ("APPLY", "1"):
        await thief.send(text)
    # The number is nobody's yet: the questions go on as for any code ...
    await thief.expect(town.citizen_cfs[0], MEMBERS)
    for text in ANSWERS:
        await thief.send(text)
    await thief.expect("1", CODE)
    # ... and the refusal comes once the code proved the number.
    await thief.expect(str(param(thief.last, "code")), REFUSED)
    assert (await thief.state())[:2] == (None, None)
    # Nothing was created, the refusal says nothing more, and the holder is told once.
    assert await counts(core) == before
    [(row, reply)] = await notices_to(core, town.citizen_phones[0])
    assert reply.texts[0].params["phone"] == "***001"
    assert_one_segment(reply, row.language)
    attempts = await events(core, "takeover_refused")
    assert attempts and all(
        (event.citizen_id, event.phone, event.channel) == (town.citizen_ids[0], "***001", "sms")
        for event in attempts
    )


# What differs between two applicants' messages only because their codes and codices differ.
HIDDEN = ("code", "cf", "masked")


async def test_sms_does_not_tell_whether_a_codice_fiscale_applied_before_the_code(
    core: Core,
) -> None:
    """Before the code proves the sender's number, a codice fiscale that applied gets exactly
    the answers a new one gets: typing codes from a spare SIM tells nobody who applied."""
    town = await town_with_open_window(core)
    conversations: list[list[tuple[str, dict[str, object]]]] = []
    for sender, cf in (("+393471110041", town.citizen_cfs[0]), ("+393471110042", NEWCOMER)):
        chat = Chat(core, sender)
        for text in ("APPLY", "1", cf, *ANSWERS, "1"):
            await chat.send(text)
        conversations.append(
            [
                (text.msgid, {k: v for k, v in text.params.items() if k not in HIDDEN})
                for _row, reply in await outbox_of(core, "sms", sender)
                for text in reply.texts
            ]
        )
    known, unknown = conversations
    assert known == unknown
    assert known[-1][0] == CODE
    # The holder of the code that applied is still warned, at once.
    [(_row, reply)] = await notices_to(core, town.citizen_phones[0])
    assert reply.texts[0].params["phone"] == "***041"


async def test_the_refusal_is_the_same_whatever_the_reason(core: Core) -> None:
    town = await town_with_open_window(core)
    # A number that is already a citizen's applies for a second household.
    own = Chat(core, town.citizen_phones[1])
    for text in ("DOMANDA", "1"):
        await own.send(text)
    first = await own.send(NEWCOMER)
    # A stranger with someone's codice fiscale: refused once the code proved the number.
    stranger = Chat(core, "+393471110002")
    for text in ("DOMANDA", "1", town.citizen_cfs[2], *ANSWERS, "1"):
        await stranger.send(text)
    second = await stranger.send(str(param(stranger.last, "code")))
    assert [x.texts for x in first] == [x.texts for x in second]
    assert [text.msgid for reply in first for text in reply.texts] == [REFUSED]


async def test_telegram_cannot_apply_under_a_codice_fiscale_bound_to_another_phone(
    core: Core,
) -> None:
    town = await town_with_open_window(core)
    before = await counts(core)
    chat = await telegram_applicant(core, "880001", "+393471110003")
    await refused_when_sent(chat, town.citizen_cfs[0])
    assert await counts(core) == before
    [(_row, reply)] = await notices_to(core, town.citizen_phones[0])
    assert reply.texts[0].params["phone"] == "***003"
    async with core.uow() as uow:
        victim = await uow.citizens.by_id(town.citizen_ids[0])
        assert victim is not None and victim.telegram_chat_id is None


async def test_telegram_asks_the_contact_first_and_keeps_the_button(core: Core) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "880002", channel=Channel.TELEGRAM, language_hint="en")
    await chat.send("/apply")
    await chat.expect("1", ASK_CONTACT)
    assert (await chat.state())[:2] == ("apply", "contact")
    # A typed codice fiscale, a sticker (no text), someone else's contact: the button stays.
    for kwargs in (
        {"text": NEWCOMER},
        {"text": ""},
        {"contact": ("+393471110099", False)},
    ):
        replies = await chat.send(**kwargs)
        assert replies and replies[-1].request == "contact", kwargs
        assert (await chat.state())[:2] == ("apply", "contact")
    replies = await chat.expect(
        None, "Thank you: your phone number is verified.", CF, contact=("+393471110004", True)
    )
    assert all(reply.request is None for reply in replies)
    await chat.expect(NEWCOMER, MEMBERS)


async def test_a_new_codice_fiscale_from_telegram_is_stored_with_its_proven_phone(
    core: Core,
) -> None:
    town = await town_with_open_window(core)
    chat = await telegram_applicant(core, "880003", "+393471110005")
    for text in (NEWCOMER, "2", "2", "2", "0", "0", "0"):
        await chat.send(text)
    await chat.expect(None, SENT, option="declare")
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(town.municipality_id, NEWCOMER)
        assert citizen is not None
        assert (citizen.phone, citizen.phone_proven_by) == ("+393471110005", "telegram_contact")
        assert citizen.telegram_chat_id == "880003"
    bound = await events(core, "phone_bound")
    assert [(e.proof, e.phone, e.actor) for e in bound[-1:]] == [
        ("telegram_contact", "***005", "chat:telegram")
    ]


async def test_a_chat_cannot_end_up_with_two_citizens(core: Core) -> None:
    town = await town_with_open_window(core)
    chat = await telegram_applicant(core, "880004", "+393471110006")
    for text in (NEWCOMER, "1", "2", "2", "0", "0", "0"):
        await chat.send(text)
    await chat.expect(None, SENT, option="declare")
    # The same chat now shares the contact of a citizen with 150 € (Telegram says it is the
    # sender's own number: a changed number, or a borrowed account).
    await chat.expect(None, REFUSED, contact=(town.citizen_phones[0], True))
    async with core.uow() as uow:
        linked = (
            await uow.session.scalars(
                select(m.Citizen).where(m.Citizen.telegram_chat_id == "880004")
            )
        ).all()
        assert [c.codice_fiscale for c in linked] == [NEWCOMER]
        other = await uow.citizens.by_id(town.citizen_ids[0])
        assert other is not None and other.telegram_chat_id is None
    replies = await chat.expect("/saldo", BALANCE)
    assert param(replies, "balance") == Money(0)


async def test_two_chats_and_one_codice_fiscale(core: Core) -> None:
    await town_with_open_window(core)
    first = await telegram_applicant(core, "880005", "+393471110007")
    second = await telegram_applicant(core, "880006", "+393471110008")
    for text in (NEWCOMER, "1", "2", "2", "0", "0", "0"):
        await first.send(text)
    await first.expect(None, SENT, option="declare")
    await refused_when_sent(second, NEWCOMER)
    [(_row, reply)] = await notices_to(core, "+393471110007")
    assert reply.texts[0].params["phone"] == "***008"
    async with core.uow() as uow:
        rows = (
            await uow.session.scalars(select(m.Citizen).where(m.Citizen.codice_fiscale == NEWCOMER))
        ).all()
        assert [(c.phone, c.telegram_chat_id) for c in rows] == [("+393471110007", "880005")]


async def test_two_chats_answering_at_once_leave_one_holder(core: Core) -> None:
    # Both got past the codice fiscale before either submitted: the second submission is
    # refused by the service, not by the flow's earlier check.
    await town_with_open_window(core)
    first = await telegram_applicant(core, "880007", "+393471110009")
    second = await telegram_applicant(core, "880008", "+393471110010")
    for chat in (first, second):
        for text in (NEWCOMER, "1", "2", "2", "0", "0", "0"):
            await chat.send(text)
    await first.expect(None, SENT, option="declare")
    await second.expect(None, REFUSED, option="declare")
    assert await counts(core) == (3 + 1, 3 + 1)
    assert len(await notices_to(core, "+393471110009")) == 1


async def test_one_notice_a_day_however_many_attempts(core: Core, clock: FakeClock) -> None:
    town = await town_with_open_window(core)
    for attempt in range(3):
        thief = Chat(core, f"+39347111002{attempt}")
        for text in ("DOMANDA", "1"):
            await thief.send(text)
        await thief.expect(town.citizen_cfs[1], MEMBERS)  # refused only after the code
    assert len(await notices_to(core, town.citizen_phones[1])) == 1
    assert len(await events(core, "takeover_refused")) == 3
    clock.advance(hours=25)
    thief = Chat(core, "+393471110029")
    for text in ("DOMANDA", "1"):
        await thief.send(text)
    await thief.expect(town.citizen_cfs[1], MEMBERS)
    assert len(await notices_to(core, town.citizen_phones[1])) == 2


async def test_sms_applicant_proves_the_number_with_the_code(core: Core) -> None:
    town = await town_with_open_window(core)
    chat = Chat(core, "+393471110030")
    for text in ("DOMANDA", "1", NEWCOMER, "1", "2", "2", "0", "0", "0"):
        await chat.send(text)
    await chat.expect("1", CODE)
    code = str(param(chat.last, "code"))
    await chat.expect(code, SENT)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(town.municipality_id, NEWCOMER)
        assert citizen is not None
        assert (citizen.phone, citizen.phone_proven_by) == ("+393471110030", "sms_code")


async def test_a_cashiers_telegram_chat_cannot_take_a_citizens_contact(core: Core) -> None:
    """Linked to a citizen, the chat the till uses would receive the citizen's payment codes."""
    town = await town_with_open_window(core)
    async with core.uow() as uow:
        invite = await shops.create_invite(uow, town.shop_id, core.now())
        await uow.commit()
    cashier = Chat(core, "880030", channel=Channel.TELEGRAM)
    await cashier.send(f"INVITO {invite}")
    await cashier.expect(
        None,
        "You now work for {shop}: you can charge its vouchers.",
        contact=("+393471110031", True),
    )
    # A contact shared unasked there (even the citizen's number as its own) is no question
    # of anyone's identity: the chat is told it works for a shop, and nothing changes.
    await cashier.expect(None, CONTACT_NOT_NEEDED.msgid, contact=(town.citizen_phones[0], True))
    assert REFUSED not in msgids(cashier.last)
    # Applying from that chat is refused at once: a shop's chat is nobody's, whatever
    # contact it would share (no contact is asked, to be refused as someone else's).
    await cashier.expect("DOMANDA", SHOP_CHAT.msgid)
    assert all(reply.request is None for reply in cashier.last)
    assert (await cashier.state())[:2] == (None, None)
    async with core.uow() as uow:
        citizen = await uow.citizens.by_id(town.citizen_ids[0])
        assert citizen is not None and citizen.telegram_chat_id is None
        assert await uow.citizens.by_telegram_chat(town.municipality_id, "880030") is None


def omocode(cf: str, position: int) -> str:
    """`cf` with the digit at `position` written as its omocodia letter, check letter
    computed again: valid, and the same person key."""
    stem = cf[:position] + "LMNPQRSTUV"[int(cf[position])] + cf[position + 1 : 15]
    return stem + codicefiscale.calc_check_digit(stem)


async def test_telegram_cannot_apply_under_an_omocodic_form_of_a_bound_codice_fiscale(
    core: Core,
) -> None:
    # The trial: a new chat shares its own contact, then types a holder's code with the
    # place's last digit as its omocodia letter. It is the holder's code: refused (when the
    # application is sent, tests/dialogue/test_telegram_codice_fiscale_oracle.py), told.
    town = await town_with_open_window(core)
    before = await counts(core)
    chat = await telegram_applicant(core, "880051", "+393471110051")
    await refused_when_sent(chat, omocode(town.citizen_cfs[0], 14))
    assert await counts(core) == before
    [(_row, reply)] = await notices_to(core, town.citizen_phones[0])
    assert reply.texts[0].params["phone"] == "***051"
    async with core.uow() as uow:
        victim = await uow.citizens.by_id(town.citizen_ids[0])
        assert victim is not None and victim.telegram_chat_id is None


async def test_sms_cannot_apply_under_an_omocodic_form_of_a_bound_codice_fiscale(
    core: Core,
) -> None:
    town = await town_with_open_window(core)
    before = await counts(core)
    thief = Chat(core, "+393471110052")
    for text in ("DOMANDA", "1"):
        await thief.send(text)
    # As for the exact code: the questions go on until the code proves the number.
    await thief.expect(omocode(town.citizen_cfs[1], 13), MEMBERS)
    for text in ANSWERS:
        await thief.send(text)
    await thief.expect("1", CODE)
    await thief.expect(str(param(thief.last, "code")), REFUSED)
    assert await counts(core) == before
    [(row, reply)] = await notices_to(core, town.citizen_phones[1])
    assert reply.texts[0].params["phone"] == "***052"
    assert_one_segment(reply, row.language)
    attempts = await events(core, "takeover_refused")
    assert attempts and {event.citizen_id for event in attempts} == {town.citizen_ids[1]}


async def test_saldo_uses_the_contact_the_chat_shared_by_the_rules_of_a_contact(
    core: Core, clock: FakeClock
) -> None:
    """A chat shared its own contact for an application, then wrote SALDO: it was asked for
    the contact again. The number it shared answers now, by the rules of a contact shared:
    nobody's yet, it holds no vouchers; once the office gives that number to a citizen,
    the chat is linked to them and sees their balance; a number whose citizen is another
    chat's is refused, as its contact would be."""
    town = await town_with_open_window(core)
    chat = await telegram_applicant(core, "880040", "+393471110040")
    # Its application waits to be finished: none yet, and how to go on with it.
    replies = await chat.expect(
        "SALDO",
        "We have no vouchers for this number yet.",
        "You have an application to complete: write DOMANDA to continue it.",
    )
    assert all(reply.request is None for reply in replies)

    # The office gives that number to a credited citizen (a paper application, say).
    async with core.uow() as uow:
        citizen = await uow.citizens.by_codice_fiscale(town.municipality_id, town.citizen_cfs[1])
        assert citizen is not None and citizen.telegram_chat_id is None
        citizen.phone = "+393471110040"
        await uow.commit()
    await chat.expect("SALDO", BALANCE)
    async with core.uow() as uow:
        linked = await uow.citizens.by_codice_fiscale(town.municipality_id, town.citizen_cfs[1])
        assert linked is not None and linked.telegram_chat_id == "880040"

    # Another chat that once shared a number now linked to this chat's citizen: refused.
    other = await telegram_applicant(core, "880041", "+393471110041")
    async with core.uow() as uow:
        conversation = await uow.conversations.latest("telegram", "880041")
        assert conversation is not None
        conversation.data = {**conversation.data, "phone": "+393471110040"}
        await uow.commit()
    await other.expect("SALDO", REFUSED)
