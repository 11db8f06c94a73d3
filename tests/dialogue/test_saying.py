"""How things are said: dates with the year, distances, STOP's promise kept, the privacy
notice's link, towns found as people write them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.messages import Day, Distance, Moment
from core.i18n import format_in_sentence, format_param
from core.services import allocation, municipalities
from tests.dialogue.harness import Chat, outbox_of, param, town_with_open_window
from tests.factories import make_town

CREDITED = (
    "{town}: {amount} of grocery vouchers have been credited to you. Balance: {balance}. "
    "To find shops, write NEGOZI."
)
PRIVACY_LINKED = (
    "Privacy (GDPR): {town} uses your data only for the grocery vouchers. Notice: {url} Agree?"
)
PRIVACY_TOWN_HALL = (
    "Privacy (GDPR): {town} uses your data only for the grocery vouchers; notice at the town "
    "hall. Agree?"
)


def test_dates_have_four_digit_years_and_whole_kilometres_no_decimal() -> None:
    assert format_param(Day(date(2020, 3, 31)), "it") == "31/03/2020"
    assert format_param(Day(date(2020, 3, 31)), "en") == "31/03/2020"
    moment = Moment(datetime(2020, 3, 31, 8, 5, tzinfo=UTC))
    assert format_param(moment, "it") == "31/03/2020 10:05"  # a table cell
    assert format_in_sentence(moment, "it") == "31/03/2020 alle 10:05"
    assert format_in_sentence(moment, "en") == "31/03/2020 at 10:05"
    assert format_param(Distance(10_000), "it") == "10 km"
    assert format_param(Distance(2_500), "it") == "2,5 km"
    assert format_param(Distance(12_340), "en") == "12.3 km"


def test_a_text_puts_each_kind_of_value_as_a_sentence_says_it() -> None:
    """render_text formats names, amounts and days itself (the balance's values): the same
    words format_in_sentence gives them, and every other kind through it, in both
    languages."""
    from core.domain.messages import Money, Param, t, tn
    from core.i18n import render_text

    class Name(str):
        pass

    at = Moment(datetime(2026, 12, 6, 13, 5, 7, tzinfo=UTC), seconds=True)
    values: dict[str, Param] = {
        "shop": "Forno “Rita”",
        "name": Name("Caffè"),
        "amount": Money(1_234_56),
        "day": Day(date(2026, 12, 6)),
        "far": Distance(2_500),
        "at": at,
        "count": 3,
    }
    msgid = " | ".join(f"{{{key}}}" for key in values)
    for language in ("it", "en"):
        said = {key: format_in_sentence(value, language) for key, value in values.items()}
        assert render_text(t(msgid, **values), language) == msgid.format(**said)
        assert render_text(t("{{x}} {day}", day=Day(date(2026, 1, 2))), language) == (
            "{x} 02/01/2026"
        )
        assert render_text(t("{{x}}"), language) == "{{x}}"  # no values: the text as it is
        plural = tn("{count} day", "{count} days", 2_000, amount=Money(5))
        said = {key: format_in_sentence(value, language) for key, value in plural.params.items()}
        assert render_text(plural, language) == "{count} days".format(**said)


async def test_after_stop_no_credit_notice_but_the_others_get_theirs(core: Core) -> None:
    # The first tranche pays half of every 150 €; the second one the other half.
    town = await make_town(core, budget_cents=225_00)
    await Chat(core, town.citizen_phones[0]).send("STOP")
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        await allocation.approve(uow, municipality, 100_000_00, core.now())
        await allocation.credit(uow, municipality, core.now())
        await uow.commit()

    async def notices(phone: str) -> int:
        rows = await outbox_of(core, "sms", phone)
        return sum(1 for _, reply in rows for x in reply.texts if x.msgid == CREDITED)

    assert await notices(town.citizen_phones[0]) == 1  # the first tranche, before STOP
    assert await notices(town.citizen_phones[1]) == 2


async def test_the_consent_links_the_municipalitys_notice(core: Core) -> None:
    town = await town_with_open_window(core)
    async with core.uow() as uow:
        await municipalities.set_privacy_url(uow, town.code, "https://testville.it/privacy")
        await uow.commit()
    telegram = Chat(core, "880001", channel=Channel.TELEGRAM)
    replies = await telegram.expect("DOMANDA", PRIVACY_LINKED)
    assert param(replies, "url") == "https://testville.it/privacy"
    sms = Chat(core, "+393478800001")
    await sms.expect("DOMANDA", PRIVACY_LINKED)  # a short link fits the SMS
    long_url = "https://www.comune.testville.it/amministrazione/privacy/informativa-buoni-spesa"
    async with core.uow() as uow:
        await municipalities.set_privacy_url(uow, town.code, long_url + "-2026.pdf")
        await uow.commit()
    other = Chat(core, "+393478800002")
    await other.expect("DOMANDA", PRIVACY_TOWN_HALL)  # too long for one SMS: ask at the town hall
    telegram_too = Chat(core, "880002", channel=Channel.TELEGRAM)
    await telegram_too.expect("DOMANDA", PRIVACY_LINKED)


async def test_towns_are_found_by_their_start_and_without_accents(core: Core) -> None:
    town = await make_town(core)
    async with core.uow() as uow:
        shop = await uow.shops.by_id(town.shop_id)
        assert shop is not None
        shop.town = "Sant'Angelo in Pontano Città"
        await uow.commit()
    chat = Chat(core, town.citizen_phones[0])
    for text in (
        "negozi sant'angelo",
        "NEGOZI Sant Angelo",
        "negozi santangelo in",
        "shops in sant'angelo pontano",
        "negozi citta",
        "Vorrei sapere i negozi a sant'angelo",
    ):
        replies = await chat.expect(text, "{count} shop found:")
        assert param(replies, "shop") == "Alimentari Test", text
    # A town no shop of the list is in: the towns there are.
    replies = await chat.expect(
        "negozi pollenza", 'No shop found for "{query}". The shops of the list are in:', "{town}"
    )
    assert param(replies, "town") == "Sant'Angelo in Pontano Città"
    # Words naming no place at all: how to search.
    await chat.expect(
        "negozi 99999",
        'No shop found for "{query}". Try a town, a postcode (CAP) or a type: alimentari, '
        "panetteria, macelleria, frutta, farmacia.",
    )


def test_italian_is_gender_neutral_and_says_what_happened_to_the_citizen() -> None:
    from core.domain.messages import Money, t
    from core.i18n import render_text

    welcome = render_text(t("Welcome to the grocery vouchers of {town}.", town="Belforte"), "it")
    assert welcome.startswith("Ti diamo il benvenuto")
    paid = t(
        "Paid {amount} at {shop}. Remaining balance: {balance}.",
        amount=Money(1250),
        shop="Alimentari Da Rita",
        balance=Money(10000),
    )
    assert "12,50\xa0€ al negozio Alimentari Da Rita" in render_text(paid, "it")
    refunded = t(
        "{shop} refunded {amount}. Balance: {balance}.",
        shop="Alimentari Da Rita",
        amount=Money(1250),
        balance=Money(10000),
    )
    assert "ti ha restituito" in render_text(refunded, "it")
    assert "stornat" not in render_text(refunded, "it")


def test_every_keyword_a_help_names_works_in_both_languages() -> None:
    import re

    from core.dialogue import commands
    from core.dialogue.menus import CITIZEN_HELP, COMMUNITY_HELP, SHOP_HELP
    from core.i18n import render_text

    english = render_text(CITIZEN_HELP, "en")
    assert "BALANCE" in english and "SALDO" not in english
    assert "PAY" in render_text(SHOP_HELP, "en")
    assert "BUY" in render_text(COMMUNITY_HELP, "en")
    for text in (CITIZEN_HELP, COMMUNITY_HELP, SHOP_HELP):
        for language in ("it", "en"):
            words = re.findall(r"\b[A-Z]{3,}\b", render_text(text, language))
            for word in words:
                if word in ("CAP", "RSSMRA85T10A562S"):
                    continue
                assert commands.parse(word) is not None, (language, word)
    # Each language's words work whatever language the chat speaks.
    for it, en in (("SALDO", "BALANCE"), ("NEGOZI", "SHOPS"), ("ALTRI", "MORE")):
        assert commands.parse(it)[0] == commands.parse(en)[0]  # type: ignore[index]


def test_telegram_never_asks_to_type_a_number() -> None:
    from bot.callbacks import CallbackSigner
    from bot.render import SendText, plan
    from core.dialogue.hints import numbered_hints
    from core.domain.messages import Option, Reply, t

    signer = CallbackSigner(b"k")
    for msgid in numbered_hints():
        reply = Reply((t(msgid),), (Option("yes", t("Yes")),))
        for language in ("it", "en"):
            steps = plan(reply, "7", language, signer)
            text = " ".join(s.text for s in steps if isinstance(s, SendText))
            assert "1" not in text and "numer" not in text.lower(), (msgid, text)


async def test_a_shops_summary_is_one_labelled_message_on_telegram(core: Core) -> None:
    from bot.callbacks import CallbackSigner
    from bot.render import SendText, plan
    from tests.factories import make_partita_iva

    await make_town(core)
    chat = Chat(core, "880003", channel=Channel.TELEGRAM)
    for text in ("REGISTRA", "Bottega “È Buono” – Frutta 🍎", make_partita_iva(7)):
        await chat.send(text)
    await chat.send(None, option="cat:greengrocer")
    for text in ("Via Roma 3", "1", "62020"):
        await chat.send(text)
    await chat.send(None, option="skip")
    [summary] = await chat.send("IT60X0542811101000000123456")
    steps = plan(summary, "880003", "it", CallbackSigner(b"k"))
    [message] = [s for s in steps if isinstance(s, SendText)]
    lines = message.text.split("\n")
    assert lines[:3] == [
        "Nome: Bottega “È Buono” – Frutta 🍎",  # as typed: Telegram shows it all
        "Tipo: frutta e verdura",
        f"P.IVA: {make_partita_iva(7)}",
    ]
    assert lines[3].startswith("Indirizzo: Via Roma 3, 62020 ")
    assert lines[4] == "IBAN: IT60X0542811101000000123456"
    assert [o.key for o in summary.options] == ["send", "change", "cancel"]


def test_no_italian_sentence_assumes_the_readers_gender() -> None:
    """Italian speaks to the reader without a gender: "Non l'hai chiesto tu?", never
    "Non sei stato tu?"."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    with (root / "locales/it/LC_MESSAGES/messages.po").open("rb") as po:
        catalog = read_po(po)
    gendered = [
        message.id
        for message in catalog
        if message.id
        and any(
            form in str(message.string).lower()
            for form in ("sei stato", "sei stata", "sei sicuro", "sei sicura")
        )
    ]
    assert gendered == []
