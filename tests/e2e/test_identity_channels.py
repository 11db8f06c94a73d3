"""Identity end to end: signed webhooks in, Bot API and Twilio calls out.

A stranger applying under a demo citizen's codice fiscale, by SMS and by Telegram, gets
the neutral refusal and the citizen's phone gets the notice; the Telegram contact button
stays until the contact is shared; one chat never shows another citizen's balance.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from buonispesa.demo import DEMO_CITIZENS
from core.dialogue.errors import IDENTITY_REFUSED
from core.domain.messages import reply_from_json
from core.i18n import render_text
from core.storage import models as m
from tests.e2e.fake_telegram import FakeUser
from tests.e2e.sms_harness import (
    SmsServer,
    assert_one_gsm7_segment,
)
from tests.e2e.telegram_harness import TelegramServer
from tests.factories import make_cf

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

NOTICE = (
    "Someone tried to apply for grocery vouchers with your codice fiscale from {phone}. "
    "If it was not you, tell the office."
)
NEWCOMER = make_cf(9001)


def request_markup(message: dict[str, Any]) -> dict[str, Any]:
    markup = dict(message.get("reply_markup", {}))
    assert "keyboard" in markup, message
    return markup


async def to_the_contact_question(server: TelegramServer, user: FakeUser) -> dict[str, Any]:
    await server.exchange(user, user.start)
    await server.exchange(user, lambda: user.tap("Apply"))  # English: no language question
    [ask] = await server.exchange(user, lambda: user.tap("I agree"))
    return ask


async def apply_with_new_code(server: TelegramServer, user: FakeUser, phone: str) -> None:
    await to_the_contact_question(server, user)
    await server.exchange(user, lambda: user.share_contact(phone))
    steps = [("say", NEWCOMER), ("say", "1"), ("tap", "No"), ("tap", "No")]
    steps += [("say", "0")] * 3
    for how, value in steps:
        await server.exchange(user, partial(user.say if how == "say" else user.tap, value))
    [done] = await server.exchange(user, lambda: user.tap("I declare, send"))
    assert "Protocol" in done["text"], done["text"]


async def refused_when_sent(server: TelegramServer, user: FakeUser, codice_fiscale: str) -> None:
    """A chat that is nobody's types a code it may not use: asked the same questions as for
    any code, refused when the application is sent (never at the code, which would tell
    a spare account which codes applied)."""
    steps = [("say", codice_fiscale), ("say", "1"), ("tap", "No"), ("tap", "No")]
    steps += [("say", "0")] * 3
    for how, value in steps:
        replies = await server.exchange(
            user, partial(user.say if how == "say" else user.tap, value)
        )
        assert all(r["text"] != render_text(IDENTITY_REFUSED, "en") for r in replies), value
    [refusal] = await server.exchange(user, lambda: user.tap("I declare, send"))
    assert refusal["text"] == render_text(IDENTITY_REFUSED, "en")


async def sms_notices(server: TelegramServer, phone: str) -> list[m.OutboxMessage]:
    async with server.core.uow() as uow:
        rows = await uow.outbox.for_address("sms", phone)
    return [r for r in rows if reply_from_json(r.payload).texts[0].msgid == NOTICE]


async def test_telegram_keeps_the_contact_button_until_the_contact_is_shared(
    telegram_server_any_db: TelegramServer,
) -> None:
    telegram = telegram_server_any_db
    anna = telegram.user(7101, language="en")
    ask = await to_the_contact_question(telegram, anna)
    markup = request_markup(ask)
    assert markup["keyboard"][0][0]["request_contact"] is True
    assert markup.get("is_persistent") is True and not markup.get("one_time_keyboard")
    sticker = anna.message_update(
        sticker={
            "file_id": "CAACAgIAAx",
            "file_unique_id": "AgADx",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    )
    for action in (
        lambda: anna.say("no, I will not"),
        lambda: anna.api.deliver(sticker),
        lambda: anna.share_contact("393331000001", owner_id=999),
    ):
        [again] = await telegram.exchange(anna, action)
        assert request_markup(again)["keyboard"][0][0]["request_contact"] is True
    thanks, ask_cf = await telegram.exchange(anna, lambda: anna.share_contact("393478887101"))
    assert thanks["reply_markup"] == {"remove_keyboard": True}
    assert "codice fiscale" in ask_cf["text"]


async def test_telegram_cannot_apply_under_someone_elses_codice_fiscale(
    telegram_server_any_db: TelegramServer,
) -> None:
    telegram = telegram_server_any_db
    rossi = DEMO_CITIZENS[0]
    thief = telegram.user(7102, language="en")
    await to_the_contact_question(telegram, thief)
    await telegram.exchange(thief, lambda: thief.share_contact("393478887102"))
    await refused_when_sent(telegram, thief, rossi.codice_fiscale)
    [notice] = await sms_notices(telegram, rossi.phone)
    assert notice.language == "it"
    assert reply_from_json(notice.payload).texts[0].params["phone"] == "***102"
    async with telegram.core.uow() as uow:
        holder = await uow.session.scalar(
            select(m.Citizen).where(m.Citizen.codice_fiscale == rossi.codice_fiscale)
        )
        assert holder is not None and holder.telegram_chat_id is None


async def test_two_chats_and_one_codice_fiscale_over_telegram(
    telegram_server_any_db: TelegramServer,
) -> None:
    telegram = telegram_server_any_db
    first, second = telegram.user(7103, language="en"), telegram.user(7104, language="en")
    await apply_with_new_code(telegram, first, "393478887103")
    await to_the_contact_question(telegram, second)
    await telegram.exchange(second, lambda: second.share_contact("393478887104"))
    await refused_when_sent(telegram, second, NEWCOMER)
    assert len(await sms_notices(telegram, "+393478887103")) == 1


async def test_one_chat_never_shows_another_citizens_balance(
    telegram_server_any_db: TelegramServer,
) -> None:
    telegram = telegram_server_any_db
    rossi = DEMO_CITIZENS[0]
    anna = telegram.user(7105, language="en")
    await apply_with_new_code(telegram, anna, "393478887105")
    [refusal] = await telegram.exchange(anna, lambda: anna.share_contact(rossi.phone))
    assert refusal["text"] == render_text(IDENTITY_REFUSED, "en")
    [balance] = await telegram.exchange(anna, lambda: anna.say("/balance"))
    assert balance["text"].startswith("Your balance: €0.00"), balance["text"]
    async with telegram.core.uow() as uow:
        linked = (
            await uow.session.scalars(
                select(m.Citizen.codice_fiscale).where(m.Citizen.telegram_chat_id == "7105")
            )
        ).all()
    assert list(linked) == [NEWCOMER]


async def test_sms_cannot_apply_under_someone_elses_codice_fiscale(
    sms_server_any_db: SmsServer,
) -> None:
    server = sms_server_any_db
    rossi = DEMO_CITIZENS[0]
    stranger = "+393479998877"
    # Before the code proves the number, the chat goes on as for any codice fiscale.
    for body in ("APPLY", "1", rossi.codice_fiscale, "2", "no", "no", "0", "0", "0"):
        await server.say(stranger, body)
    [code] = await server.say(stranger, "1")
    [refusal] = await server.say(stranger, code.split()[1].rstrip(":"))
    assert refusal == render_text(IDENTITY_REFUSED, "en", sms=True)
    [notice] = await server.replies(rossi.phone, 1)
    assert "***877" in notice.body and "codice fiscale" in notice.body
    assert_one_gsm7_segment([notice])
    async with server.core.uow() as uow:
        holder = await uow.session.scalar(
            select(m.Citizen).where(m.Citizen.codice_fiscale == rossi.codice_fiscale)
        )
        assert holder is not None and holder.phone == rossi.phone
        assert await uow.citizens.by_phone(holder.municipality_id, stranger) is None
