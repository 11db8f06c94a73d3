"""How things are said: dates with the year, distances, STOP's promise kept, the privacy
notice's link, towns found as people write them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.messages import Day, Distance, Moment
from core.i18n import format_param
from core.services import allocation, municipalities
from tests.dialogue.harness import Chat, outbox_of, param, town_with_open_window
from tests.factories import make_town

CREDITED = "{town}: {amount} of grocery vouchers have been credited to you. Balance: {balance}."
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
    assert format_param(moment, "it") == "31/03/2020 10:05"
    assert format_param(Distance(10_000), "it") == "10 km"
    assert format_param(Distance(2_500), "it") == "2,5 km"
    assert format_param(Distance(12_340), "en") == "12.3 km"


async def test_after_stop_no_credit_notice_but_the_others_get_theirs(core: Core) -> None:
    town = await make_town(core)
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
    await telegram.send("DOMANDA")
    replies = await telegram.expect("1", PRIVACY_LINKED)
    assert param(replies, "url") == "https://testville.it/privacy"
    sms = Chat(core, "+393478800001")
    await sms.send("DOMANDA")
    await sms.expect("1", PRIVACY_LINKED)  # a short link fits the SMS
    long_url = "https://www.comune.testville.it/amministrazione/privacy/informativa-buoni-spesa"
    async with core.uow() as uow:
        await municipalities.set_privacy_url(uow, town.code, long_url + "-2026.pdf")
        await uow.commit()
    other = Chat(core, "+393478800002")
    await other.send("DOMANDA")
    await other.expect("1", PRIVACY_TOWN_HALL)  # too long for one SMS: ask at the town hall
    telegram_too = Chat(core, "880002", channel=Channel.TELEGRAM)
    await telegram_too.send("DOMANDA")
    await telegram_too.expect("1", PRIVACY_LINKED)


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
    await chat.expect(
        "negozi pollenza",
        'No shop found for "{query}". Try a town, a postcode (CAP) or a type: alimentari, '
        "panetteria, macelleria, frutta, farmacia.",
    )
