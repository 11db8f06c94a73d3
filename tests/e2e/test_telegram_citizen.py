"""A citizen on Telegram, end to end: apply with buttons, identify, balance, card, shops nearby."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from sqlalchemy import select

from buonispesa.demo import DEMO_CITIZENS, DEMO_CODE, DEMO_NAME, DEMO_SHOPS
from core.dialogue.engine import NOT_A_POSITION, NOT_READ, ONLY_NEW_MESSAGES, VOICE_NOT_HEARD
from core.dialogue.flows.base import NOT_READ_AT_QUESTION, VOICE_AT_QUESTION
from core.dialogue.menus import welcome_of
from core.i18n import render_text
from core.storage import models as m
from tests.card_reader import read_card
from tests.e2e.fake_telegram import BOT_USERNAME, FakeUser
from tests.e2e.telegram_harness import TelegramServer
from tests.factories import make_cf


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup", {})
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def request_button(message: dict[str, Any]) -> dict[str, Any]:
    [[button]] = message["reply_markup"]["keyboard"]
    return dict(button)


async def citizen_by_cf(server: TelegramServer, cf: str) -> m.Citizen:
    async with server.core.uow() as uow:
        citizen = await uow.session.scalar(select(m.Citizen).where(m.Citizen.codice_fiscale == cf))
        assert citizen is not None
        return citizen


async def test_the_whole_application_with_buttons(telegram_server_any_db: TelegramServer) -> None:
    server = telegram_server_any_db
    anna = server.user(5001, language="en", name="Anna")
    [menu] = await server.exchange(anna, anna.start)
    assert "Welcome" in menu["text"]
    assert {"Balance", "Shops", "Apply", "Status"} <= set(buttons(menu))

    # The tapped "Apply" was English: no language question, and the way to Italian.
    [privacy] = await server.exchange(anna, lambda: anna.tap("Apply"))
    assert "Privacy" in privacy["text"] and "Italiano? Write LANGUAGE." in privacy["text"]
    # The phone before the codice fiscale: Telegram's own contact proves it.
    [ask_contact] = await server.exchange(anna, lambda: anna.tap("I agree"))
    assert request_button(ask_contact)["request_contact"] is True
    thanks, ask_cf = await server.exchange(anna, lambda: anna.share_contact("393478885001"))
    assert thanks["reply_markup"] == {"remove_keyboard": True}
    assert "codice fiscale" in ask_cf["text"]

    cf = make_cf(4242)
    answers: list[tuple[str, str]] = [
        ("say", cf),
        ("say", "3"),
        ("tap", "No"),  # work income
        ("tap", "No"),  # pension
        ("say", "1500"),
        ("say", "0"),
        ("say", "300"),
    ]
    for how, value in answers:
        action = (lambda v=value: anna.say(v)) if how == "say" else (lambda v=value: anna.tap(v))
        replies = await server.exchange(anna, action)
        assert replies, f"no answer to {value!r}"
    # The summary is one message with labelled lines (no blank lines) and the buttons.
    [summary] = replies
    assert cf in summary["text"] and "\nPeople: 3\n" in summary["text"]
    assert "\n\n" not in summary["text"]
    assert buttons(summary) == ["I declare, send", "Change", "Cancel"]

    [done] = await server.exchange(anna, lambda: anna.tap("I declare, send"))
    protocol = re.search(r"Protocol (\S+)\.", done["text"])
    assert protocol is not None, done["text"]

    async with server.core.uow() as uow:
        application = await uow.applications.by_protocol(protocol.group(1))
        assert application is not None
        assert (application.household_size, application.has_work_income) == (3, False)
        assert application.liquidity_cents == 150_000 and application.rent_monthly_cents == 30_000
        assert application.source == "telegram"
    # The chat is linked to the new applicant: notices will come here.
    applicant = await citizen_by_cf(server, cf)
    assert applicant.telegram_chat_id == "5001"
    assert (applicant.phone, applicant.phone_proven_by) == ("+393478885001", "telegram_contact")

    # Every tap was acknowledged, and each answered question now shows the choice
    # instead of its buttons (the chat reads as a transcript; old buttons cannot be reused).
    taps = 5  # Apply, I agree, and the three answers (no language tapped)
    assert len(server.api.calls_of("answerCallbackQuery")) == taps
    edited = [msg for msg in anna.messages() if "edit_date" in msg]
    assert len(edited) == taps
    assert all("reply_markup" not in msg for msg in edited)
    assert any(msg["text"].endswith("» I declare, send") for msg in edited)


async def test_someone_elses_contact_is_refused_then_ones_own_links_the_chat(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    rossi = DEMO_CITIZENS[0]
    luca = server.user(5002, language="en", name="Luca")
    [ask] = await server.exchange(luca, lambda: luca.say("/balance"))
    assert "phone number" in ask["text"]
    assert request_button(ask)["request_contact"] is True

    # A contact card of somebody else (Rossi's number, Rossi's Telegram id).
    [refusal] = await server.exchange(
        luca, lambda: luca.share_contact(rossi.phone.lstrip("+"), owner_id=777)
    )
    assert "your own contact" in refusal["text"]
    assert request_button(refusal)["request_contact"] is True  # the button stays
    # A contact typed into the address book has no Telegram id at all: refused too.
    [refusal] = await server.exchange(luca, lambda: luca.share_contact(rossi.phone, owner_id=None))
    assert "your own contact" in refusal["text"]
    assert (await citizen_by_cf(server, rossi.codice_fiscale)).telegram_chat_id is None

    # Rossi herself shares her own contact: her chat is linked and she sees her balance.
    maria = server.user(5003, language="en")
    await server.exchange(maria, lambda: maria.say("/balance"))
    thanks, balance = await server.exchange(
        maria, lambda: maria.share_contact(rossi.phone.lstrip("+"))
    )
    assert thanks["text"] == "Thank you: we recognised your number."
    assert balance["text"].startswith("Your balance: €")
    assert (await citizen_by_cf(server, rossi.codice_fiscale)).telegram_chat_id == "5003"


SHOP_STAFF_PHONE = (
    "This number is a shop's (owner or cashier): it cannot hold vouchers. A citizen's "
    "vouchers are on their own number: write from it, or ask the office."
)


async def test_a_shops_phone_shared_as_a_contact_is_told_it_holds_no_vouchers(
    telegram_server_any_db: TelegramServer,
) -> None:
    """The owner of Forno Chienti (by SMS) shares their own contact on Telegram to see a
    balance: told that a shop's number holds no vouchers, not to apply (DOMANDA would be
    refused for that number); nothing is linked."""
    server = telegram_server_any_db
    shop_phone = DEMO_SHOPS[0][6]
    owner = server.user(5010, language="en", name="Rita")
    await server.exchange(owner, lambda: owner.say("/balance"))
    told, menu = await server.exchange(owner, lambda: owner.share_contact(shop_phone.lstrip("+")))
    assert told["text"] == SHOP_STAFF_PHONE
    assert told["reply_markup"] == {"remove_keyboard": True}  # the contact button goes
    assert "Balance" in buttons(menu)
    # The same contact shared with nothing asked: the same answer.
    [told] = await server.exchange(owner, lambda: owner.share_contact(shop_phone.lstrip("+")))
    assert told["text"] == SHOP_STAFF_PHONE
    async with server.core.uow() as uow:
        assert (
            await uow.session.scalar(select(m.Citizen).where(m.Citizen.telegram_chat_id == "5010"))
            is None
        )


async def test_a_photos_caption_is_the_reason_of_an_appeal(
    telegram_server_any_db: TelegramServer,
) -> None:
    """Trial finding: a photo of a document sent with the reason written under it was not
    taken. The caption is the reason, as a typed message; a photo without words is told
    that only words reach the office, and the reason is asked again."""
    server = telegram_server_any_db
    rossi = DEMO_CITIZENS[0]
    maria = server.user(5011, language="en")
    await server.exchange(maria, lambda: maria.say("/balance"))
    await server.exchange(maria, lambda: maria.share_contact(rossi.phone.lstrip("+")))
    [ask] = await server.exchange(maria, lambda: maria.say("/appeal"))
    assert "write in one message why you ask the office to review the decision" in ask["text"]

    [again] = await server.exchange(maria, maria.send_photo)
    assert again["text"].startswith(
        "Photos and files do not reach the office: write the reason in words."
    )
    assert "write in one message why you ask" in again["text"]  # the question again
    assert await appeals_of(server, rossi.codice_fiscale) == []

    reason = "Siamo in quattro in famiglia, non in due: ecco lo stato di famiglia"
    [received] = await server.exchange(maria, lambda: maria.send_photo(caption=reason))
    assert received["text"].startswith("Appeal no. ")
    assert '"Siamo in quattro in..."' in received["text"]  # its start, quoted
    assert received["text"].endswith("Photos and files do not reach the office, only your words.")
    [appeal] = await appeals_of(server, rossi.codice_fiscale)
    assert (appeal.reason, appeal.channel) == (reason, "telegram")

    # Elsewhere a caption is read as typed words too: SALDO under a photo is the balance.
    [balance] = await server.exchange(maria, lambda: maria.send_photo(caption="saldo"))
    assert balance["text"].startswith("Your balance: €")


async def appeals_of(server: TelegramServer, cf: str) -> list[m.Appeal]:
    citizen = await citizen_by_cf(server, cf)
    async with server.core.uow() as uow:
        return list(
            await uow.session.scalars(select(m.Appeal).where(m.Appeal.citizen_id == citizen.id))
        )


async def test_balance_and_the_printable_card(telegram_server_any_db: TelegramServer) -> None:
    server = telegram_server_any_db
    bianchi = DEMO_CITIZENS[1]
    maria = server.user(5004, language="en")
    await server.exchange(maria, lambda: maria.say("/saldo"))
    _thanks, first = await server.exchange(maria, lambda: maria.share_contact(bianchi.phone))
    # Once linked, the balance needs no contact any more.
    [balance] = await server.exchange(maria, lambda: maria.say("/balance"))
    assert balance["text"] == first["text"]
    assert "Last movements" in balance["text"] and "credited" in balance["text"]
    assert buttons(balance) == ["My card"]

    text, document = await server.exchange(maria, lambda: maria.tap("My card"))
    card_code = (await citizen_by_cf(server, bianchi.codice_fiscale)).card_code
    assert card_code in text["text"]
    assert document["document"]["file_name"] == f"card-{card_code}.pdf"
    content = document["_content"]
    assert content.startswith(b"%PDF")
    printed, codes = read_card(content)
    link = f"https://t.me/{BOT_USERNAME}?start={card_code}"
    assert codes == [link] and link in printed
    assert "PIN" not in printed  # a card sent in a chat has none: payments need the code


async def test_shops_near_a_shared_location(telegram_server_any_db: TelegramServer) -> None:
    server = telegram_server_any_db
    piero = server.user(5005, language="en")
    [ask] = await server.exchange(piero, lambda: piero.say("/shops"))
    assert request_button(ask)["request_location"] is True
    replies = await server.exchange(piero, lambda: piero.share_location(43.16420, 13.23860))
    listing, nearest, pin = replies
    lines = listing["text"].split("\n")
    assert lines[0] == "Shops near you:"
    assert lines[1].startswith("Alimentari Da Rita, Via Roma 12 (") and lines[1].endswith(" m)")
    assert "Forno Chienti" in listing["text"]
    assert nearest["text"] == "The nearest: Alimentari Da Rita."
    assert pin["location"] == {"latitude": 43.16412, "longitude": 13.23851}
    # A venue: the map shows the shop's name and address, not a bare point.
    assert pin["venue"]["title"] == "Alimentari Da Rita"
    assert pin["venue"]["address"].startswith("Via Roma 12, ")


async def test_the_command_menu_is_published_in_italian_and_english(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    italian = [c["command"] for c in server.api.commands[None]]
    english = [c["command"] for c in server.api.commands["en"]]
    assert italian[:4] == ["domanda", "stato", "saldo", "negozi"]
    assert english[:4] == ["apply", "status", "balance", "shops"]
    assert all(c["description"] for c in server.api.commands["en"])
    # Published for private chats only: the bot leaves groups.
    assert server.api.command_scopes == [{"type": "all_private_chats"}] * 2
    assert server.api.webhook is not None
    assert server.api.webhook["url"] == server.base_url + "/telegram/webhook"
    # pre_checkout_query too: without it every payment's checkout would time out; and
    # edited_message, or a typo corrected by editing would get no answer.
    assert server.api.webhook["allowed_updates"] == [
        "message",
        "edited_message",
        "callback_query",
        "pre_checkout_query",
    ]


async def test_a_deep_link_from_the_card_opens_the_holders_balance(
    telegram_server_any_db: TelegramServer,
) -> None:
    server = telegram_server_any_db
    bianchi = DEMO_CITIZENS[1]
    holder = await citizen_by_cf(server, bianchi.codice_fiscale)
    maria = server.user(5006, language="en")
    await server.exchange(maria, lambda: maria.say("/balance"))
    await server.exchange(maria, lambda: maria.share_contact(bianchi.phone))
    [balance] = await server.exchange(maria, lambda: maria.start(holder.card_code))
    assert balance["text"].startswith("Your balance: €")
    assert DEMO_CODE  # the demo town is the only one: no town to choose first


async def test_saldo_half_way_through_an_application_uses_the_contact_shared_for_it(
    telegram_server_any_db: TelegramServer,
) -> None:
    """A trial user shared her contact for her application, wrote SALDO at the next
    question and was asked to share it again: the chat kept the number, but it is nobody's
    citizen yet. Now the number she shared answers (no vouchers on it yet), the
    application waits, and DOMANDA takes her back to the question she had left."""
    server = telegram_server_any_db
    anna = server.user(5020, language="en", name="Anna")
    await server.exchange(anna, lambda: anna.say("/apply"))
    await server.exchange(anna, lambda: anna.tap("I agree"))
    _thanks, ask_cf = await server.exchange(anna, lambda: anna.share_contact("393478885020"))
    assert "codice fiscale" in ask_cf["text"]

    [balance] = await server.exchange(anna, lambda: anna.say("SALDO"))
    assert "share" not in balance["text"], (balance["text"], balance.get("reply_markup"))
    assert "request_contact" not in str(balance), balance
    assert "We have no vouchers for this number" in balance["text"]
    assert "application to complete" in balance["text"]
    # Again from the menu (the chat now stands at no question: the one-trip path).
    [again] = await server.exchange(anna, lambda: anna.say("/balance"))
    assert "We have no vouchers for this number" in again["text"], again["text"]

    [resume] = await server.exchange(anna, lambda: anna.say("DOMANDA"))
    assert buttons(resume) == ["Continue", "Start again"]
    [question] = await server.exchange(anna, lambda: anna.tap("Continue"))
    assert "codice fiscale" in question["text"]
    replies = await server.exchange(anna, lambda: anna.say(make_cf(5020)))
    assert "people" in replies[-1]["text"].lower(), [r["text"] for r in replies]


async def test_a_card_deep_link_half_way_through_an_application_uses_the_contact_shared(
    telegram_server_any_db: TelegramServer,
) -> None:
    """The printed card's link (t.me/<bot>?start=<card code>) opened by a chat that shared
    its contact for an application, like SALDO there: the number it shared answers, never
    the contact button again. Nobody's yet, it holds no vouchers (the application waits);
    once the office gives that number to a citizen, the link of someone else's card shows
    that citizen's own balance, said not to be that card's, and the chat is linked."""
    server = telegram_server_any_db
    rossi = await citizen_by_cf(server, DEMO_CITIZENS[0].codice_fiscale)
    bianchi = await citizen_by_cf(server, DEMO_CITIZENS[1].codice_fiscale)
    anna = server.user(5040, language="en", name="Anna")
    await server.exchange(anna, lambda: anna.say("/apply"))
    await server.exchange(anna, lambda: anna.tap("I agree"))
    await server.exchange(anna, lambda: anna.share_contact("393478885040"))

    [nothing] = await server.exchange(anna, lambda: anna.start(bianchi.card_code))
    assert nothing["text"] == (
        "We have no vouchers for this number yet.\n"
        "You have an application to complete: write APPLY to continue it."
    )
    assert "request_contact" not in str(nothing), nothing

    # The office gives that number to a credited citizen (a paper application, say).
    async with server.core.uow() as uow:
        citizen = await uow.citizens.by_id(rossi.id)
        assert citizen is not None and citizen.telegram_chat_id is None
        citizen.phone = "+393478885040"
        await uow.commit()
    not_theirs, balance = await server.exchange(anna, lambda: anna.start(bianchi.card_code))
    assert not_theirs["text"] == "This card is not in your name. Here is your own balance."
    assert balance["text"].startswith("Your balance: €") and buttons(balance) == ["My card"]
    assert (await citizen_by_cf(server, rossi.codice_fiscale)).telegram_chat_id == "5040"
    [own] = await server.exchange(anna, lambda: anna.start(rossi.card_code))
    assert own["text"] == balance["text"]


async def test_a_chat_that_shared_no_contact_is_still_asked_for_it(
    telegram_server_any_db: TelegramServer,
) -> None:
    """The identity rule stays: a chat that never proved a phone proves it first, even
    half-way through an application (before the contact question)."""
    server = telegram_server_any_db
    anna = server.user(5021, language="en", name="Anna")
    await server.exchange(anna, lambda: anna.say("/apply"))
    ask, *_reminder = await server.exchange(anna, lambda: anna.say("SALDO"))
    assert "phone number" in ask["text"]
    assert request_button(ask)["request_contact"] is True


async def at_the_codice_fiscale_question(
    server: TelegramServer, user: FakeUser, phone: str
) -> None:
    """An application on Telegram up to its codice fiscale question."""
    await server.exchange(user, lambda: user.say("/domanda"))
    await server.exchange(user, lambda: user.tap("Acconsento"))
    _thanks, ask_cf = await server.exchange(user, lambda: user.share_contact(phone))
    assert "codice fiscale" in ask_cf["text"]


async def test_a_position_or_a_voice_message_at_a_question_leaves_nothing(
    telegram_server_any_db: TelegramServer,
) -> None:
    """A trial user sent her position at a question of her application and found herself
    out of it, among the shops nearby; a voice message there was told it was not
    understood. Now either is said to be no answer, in her language, the question comes
    again, and the application goes on from it."""
    server = telegram_server_any_db
    nonna = server.user(5022, language="it", name="Giuseppina")
    await at_the_codice_fiscale_question(server, nonna, "393478885022")

    [again] = await server.exchange(nonna, lambda: nonna.share_location(43.12, 13.2))
    assert again["text"].startswith(render_text(NOT_A_POSITION, "it"))
    assert "codice fiscale" in again["text"]  # the question again, in the same message
    assert "venue" not in again and "location" not in again  # no shop nearby

    for kind in ("voice", "audio", "video_note"):
        [again] = await server.exchange(nonna, partial(nonna.send_voice, kind))
        assert again["text"].startswith(render_text(VOICE_AT_QUESTION, "it")), again["text"]
        assert "codice fiscale" in again["text"]

    [members] = await server.exchange(nonna, lambda: nonna.say(make_cf(5022)))
    assert "persone" in members["text"], members["text"]


async def test_a_voice_message_elsewhere_is_told_it_cannot_be_listened_to(
    telegram_server_any_db: TelegramServer,
) -> None:
    """With nothing asked, a voice message got the help, as if its words had been
    misunderstood: now it is told it cannot be listened to, with the menu."""
    server = telegram_server_any_db
    nonna = await server.started(5023, language="it", name="Giuseppina")
    [told] = await server.exchange(nonna, nonna.send_voice)
    assert told["text"].startswith(render_text(VOICE_NOT_HEARD, "it"))
    assert "Saldo" in buttons(told)


async def test_a_photo_without_words_elsewhere_is_told_it_is_not_read(
    telegram_server_any_db: TelegramServer,
) -> None:
    """A photo with nothing written under it, with nothing asked, got the help, as if its
    words had been misunderstood: now it is told photos are not read, with the menu."""
    server = telegram_server_any_db
    nonna = await server.started(5024, language="it", name="Giuseppina")
    [told] = await server.exchange(nonna, nonna.send_photo)
    assert told["text"].startswith(render_text(NOT_READ, "it"))
    assert "Saldo" in buttons(told)


async def test_a_photo_a_file_or_a_sticker_at_a_question_is_no_answer(
    telegram_server_any_db: TelegramServer,
) -> None:
    """A trial user sent the photo of her ISEE paper at the income question and was told
    her answer was not yes or no, as if she had written nothing. Now a photo, a file or a
    sticker there is said not to be read nor seen by anybody, and the question comes again
    in the same message with its buttons; the words written under a photo answer it."""
    server = telegram_server_any_db
    nonna = server.user(5041, language="it", name="Giuseppina")
    await at_the_codice_fiscale_question(server, nonna, "393478885041")
    await server.exchange(nonna, lambda: nonna.say(make_cf(5041)))
    [work] = await server.exchange(nonna, lambda: nonna.send_photo(caption="2"))
    assert buttons(work) == ["Sì", "No"], work["text"]

    for send in (nonna.send_photo, nonna.send_document, nonna.send_sticker):
        [again] = await server.exchange(nonna, send)
        assert again["text"] == f"{render_text(NOT_READ_AT_QUESTION, 'it')}\n{work['text']}"
        assert buttons(again) == ["Sì", "No"]

    [pension] = await server.exchange(nonna, lambda: nonna.tap("No"))
    assert "pensione" in pension["text"], pension["text"]


async def test_a_first_message_without_words_gets_the_welcome(
    telegram_server_any_db: TelegramServer,
) -> None:
    """A new chat whose first message was a photo, a sticker or a voice message got what
    cannot be read and the menu, without the welcome a first "ciao" gets: now the welcome
    comes first, once."""
    server = telegram_server_any_db
    welcome = render_text(welcome_of(DEMO_NAME), "it")
    for user_id, send, said in (
        (5042, "send_photo", NOT_READ),
        (5043, "send_sticker", NOT_READ),
        (5044, "send_voice", VOICE_NOT_HEARD),
    ):
        nonna = server.user(user_id, language="it", name="Giuseppina")
        [first] = await server.exchange(nonna, getattr(nonna, send))
        assert first["text"] == f"{welcome}\n{render_text(said, 'it')}", first["text"]
        assert "Saldo" in buttons(first)
        [second] = await server.exchange(nonna, getattr(nonna, send))
        assert second["text"] == render_text(said, "it")


async def test_a_voice_message_for_an_appeal_is_asked_in_words(
    telegram_server_any_db: TelegramServer,
) -> None:
    """Trial finding: a voice message sent as the reason of an appeal was told "photos and
    files do not reach the office". It is told that voice messages cannot be listened to,
    and the reason is asked again; nothing is filed."""
    server = telegram_server_any_db
    rossi = DEMO_CITIZENS[0]
    maria = server.user(5024, language="en")
    await server.exchange(maria, lambda: maria.say("/balance"))
    await server.exchange(maria, lambda: maria.share_contact(rossi.phone.lstrip("+")))
    await server.exchange(maria, lambda: maria.say("/appeal"))
    [again] = await server.exchange(maria, maria.send_voice)
    assert again["text"].startswith(
        "Voice messages cannot be listened to, and they do not reach the office: write the "
        "reason in words."
    )
    assert "write in one message why you ask" in again["text"]
    assert await appeals_of(server, rossi.codice_fiscale) == []


async def test_a_typo_corrected_by_editing_the_last_message_is_read(
    telegram_server_any_db: TelegramServer,
) -> None:
    """Editing was not received at all: a citizen who corrected her codice fiscale by
    editing it got no answer. An edit of the chat's latest message, soon after, is read as
    a new message (once, even when Telegram delivers it again); an edit of an older one,
    or a late one, is told to send it again."""
    server = telegram_server_any_db
    nonna = server.user(5025, language="it", name="Giuseppina")
    await at_the_codice_fiscale_question(server, nonna, "393478885025")
    cf = make_cf(5025)
    typo = nonna.text_update(cf[:-1])
    [wrong] = await server.exchange(nonna, lambda: nonna.api.deliver(typo))
    assert "codice fiscale" in wrong["text"]

    edited = nonna.edited_update(typo, cf)
    [members] = await server.exchange(nonna, lambda: nonna.api.deliver(edited))
    assert "persone" in members["text"], members["text"]
    before = await server.counts()
    assert await server.api.deliver(dict(edited)) == 200  # Telegram's retry: not run twice
    await server.settle()
    assert await server.counts() == before

    # The codice fiscale message is no longer the latest: its edit is not an answer now.
    await server.exchange(nonna, lambda: nonna.say("3"))
    [told] = await server.exchange(nonna, lambda: nonna.edit(typo, make_cf(5026)))
    assert told["text"] == render_text(ONLY_NEW_MESSAGES, "it")
    # Nor is an edit made long after sending, of the latest message.
    late = nonna.text_update("Sì")
    await server.exchange(nonna, lambda: nonna.api.deliver(late))
    [told] = await server.exchange(nonna, lambda: nonna.edit(late, "No", after=3600))
    assert told["text"] == render_text(ONLY_NEW_MESSAGES, "it")


async def test_a_live_location_moving_is_no_message(telegram_server_any_db: TelegramServer) -> None:
    """A live location sends an edit every few seconds while it moves: none is answered."""
    server = telegram_server_any_db
    nonna = await server.started(5027, language="it", name="Giuseppina")
    shared = nonna.message_update(
        location={"latitude": 43.12, "longitude": 13.2, "live_period": 900}
    )
    await server.exchange(nonna, lambda: nonna.api.deliver(shared))
    before = await server.counts()
    moved = dict(shared["message"], location={"latitude": 43.13, "longitude": 13.2}, edit_date=1)
    update = {"update_id": server.api.next_update_id(), "edited_message": moved}
    assert await server.api.deliver(update) == 200
    await server.settle()
    assert await server.counts() == before
