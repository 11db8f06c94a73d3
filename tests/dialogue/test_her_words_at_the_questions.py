"""An elderly citizen writing by SMS in her own words, at the application's questions and
at the shop search, as a first message, with her own codice fiscale and her thanks on
Telegram (trial of December 2026): what she meant is read, and what is not an answer
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from core.bootstrap import Core
from core.dialogue.context import NOT_UNDERSTOOD as SORRY
from core.dialogue.flows.citizen import ASK_FROM_OWN_PHONE
from core.dialogue.inbound import Channel
from core.dialogue.menus import NOT_UNDERSTOOD
from core.dialogue.render import render_plain
from core.domain.shops import ShopCategory
from core.services import delegates
from core.services.shops import ShopInput, approve_shop, register_shop
from tests.dialogue.harness import Chat, msgids, options, town_with_open_window
from tests.dialogue.test_apply import (
    CF,
    CF_CHECKSUM,
    LIQUIDITY,
    MEMBERS,
    PENSION,
    PRIVACY,
    SUPPORT,
    WORK,
)
from tests.factories import approved_request, make_cf, make_partita_iva, make_town

DELEGATE = "+393471230077"

YES_OR_NO = "Reply 1 for yes or 2 for no."
OTHERS_WORK = (
    "And the others in the household ({count} besides you): does any of them have income from work?"
)
OTHERS_PENSION = (
    "And the others in the household ({count} besides you): does any of them receive a pension?"
)
ROUGHLY = (
    "An approximate figure is fine: about how much the household had in bank and post "
    "office accounts on {day}. Write it in euro, e.g. {example}, or 0 if none."
)
NOT_AN_AMOUNT = "This is not an amount. Write it in euro, in figures or in words, e.g. {example}."
KNOWN_HERE = (
    "Your number is already registered for your vouchers: no codice fiscale needed. Write "
    "SALDO for the balance, STATO for the application, AIUTO for more."
)
FOUND = "{count} shop found:"
# No shop of the kind in the list: said so, with the list's shops.
NONE_OF_THAT_KIND = "No shop of that type takes the vouchers. {count} shop of the list:"
NO_SHOP = (
    'No shop found for "{query}". Try a town, a postcode (CAP) or a type: alimentari, '
    "panetteria, macelleria, frutta, farmacia."
)
# A place no shop of the list is in: the towns the shops are in.
NO_SHOP_THERE = 'No shop found for "{query}". The shops of the list are in:'
THANKS = "You're welcome! Write SALDO, NEGOZI or AIUTO when you need."
MENU_BUTTONS = {"balance", "shops", "apply", "status"}


async def at_work(core: Core, members: str, phone: str = "+393479990001") -> Chat:
    """A new applicant by SMS at the question whether anyone in the household works."""
    await town_with_open_window(core)
    chat = Chat(core, phone)
    await chat.expect("DOMANDA", PRIVACY)
    await chat.expect("1", CF)
    await chat.expect(make_cf(700), MEMBERS)
    await chat.expect(members, WORK)
    return chat


async def answers(chat: Chat) -> dict[str, Any]:
    _flow, _step, data = await chat.state()
    state: dict[str, Any] = data.get("state", {})
    return state


# 1. "Non lavoro": about herself. Alone, a no; with others at home, asked about them.


@pytest.mark.parametrize("said", ["non lavoro", "nn lavoro", "io non lavoro", "No, non lavoro"])
async def test_living_alone_i_do_not_work_is_a_no(core: Core, said: str) -> None:
    chat = await at_work(core, "1")
    replies = await chat.expect(said, PENSION)
    assert SORRY.msgid not in msgids(replies)
    assert (await answers(chat))["work"] is False
    # The pension alike: "non ho la pensione" from someone alone is a no.
    await chat.expect("non ho la pensione", LIQUIDITY)
    assert (await answers(chat))["pension"] is False


@pytest.mark.parametrize("said", ["non lavoro", "nn lavoro", "io non lavoro"])
async def test_with_others_at_home_i_do_not_work_asks_about_them(core: Core, said: str) -> None:
    chat = await at_work(core, "3")
    replies = await chat.send(said)
    said_ids = msgids(replies)
    assert said_ids == [OTHERS_WORK], said_ids
    assert replies[0].texts[0].params["count"] == 2
    assert options(replies) == ["yes", "no"]
    assert render_plain(replies[0], "it", sms=True).startswith(
        "E gli altri del nucleo familiare (2 oltre te): qualcuno ha un reddito da lavoro?"
    )
    # Nothing was recorded: the step waits for the household's answer.
    assert (await chat.state())[:2] == ("apply", "work")
    assert "work" not in await answers(chat)
    await chat.expect("no", PENSION)
    assert (await answers(chat))["work"] is False
    # The pension likewise, and a yes for the others is a yes.
    await chat.expect("io non prendo la pensione", OTHERS_PENSION)
    await chat.expect("si", LIQUIDITY)
    assert (await answers(chat))["pension"] is True


async def test_others_words_about_work_are_still_not_understood(core: Core) -> None:
    chat = await at_work(core, "2")
    for said in ("non lavoro ma mio marito si", "non lo so", "lavoro"):
        await chat.expect(said, SORRY.msgid, YES_OR_NO, WORK)
        assert "work" not in await answers(chat)


# 1b. Said for everyone at home ("non lavoriamo", "non abbiamo pensioni"): a no for all of
# them, however many they are; nobody is asked about the others.


@pytest.mark.parametrize(
    "said", ["non lavoriamo", "nessuno di noi lavora", "nn lavoriamo", "No, noi non lavoriamo"]
)
async def test_we_do_not_work_is_a_no_for_everyone(core: Core, said: str) -> None:
    chat = await at_work(core, "3")
    replies = await chat.expect(said, PENSION)
    assert SORRY.msgid not in msgids(replies) and OTHERS_WORK not in msgids(replies)
    assert (await answers(chat))["work"] is False
    replies = await chat.expect("non abbiamo pensioni", LIQUIDITY)
    assert OTHERS_PENSION not in msgids(replies)
    assert (await answers(chat))["pension"] is False


async def test_we_do_not_work_says_nothing_of_the_pension(core: Core) -> None:
    """Each question's own words: "non lavoriamo" at the pension question is not
    understood; "non abbiamo pensioni" at the work question hears that the pension is
    asked next; nothing is recorded."""
    chat = await at_work(core, "2")
    await chat.expect(
        "non abbiamo pensioni",
        "The pension is the next question: this one is only about income from work.",
        WORK,
    )
    assert "work" not in await answers(chat)
    await chat.expect("no", PENSION)
    await chat.expect("non lavoriamo", SORRY.msgid, YES_OR_NO, PENSION)
    assert "pension" not in await answers(chat)


# 2. The shop search: the words of the question are no town, and "tutti" lists them all.


async def test_where_do_i_find_a_grocery_searches_the_grocery(core: Core) -> None:
    await make_town(core)
    chat = Chat(core, "+393479999996")
    for said in (
        "dove trovo un alimentari?",
        "dove posso trovare un alimentari",
        "un supermercato vicino",
    ):
        await chat.send("NEGOZI")
        replies = await chat.expect(said, FOUND)
        assert NO_SHOP not in msgids(replies), said


@pytest.mark.parametrize(
    ("said", "answer"),
    [("c'è ancora soldi sulla tessera?", "We have no vouchers"), ("mi hanno dato i buoni?", "")],
)
async def test_another_request_at_the_shop_question_is_that_request(
    core: Core, said: str, answer: str
) -> None:
    # "Which town or type?" took her balance question as words to search for: "No shop
    # found for "ce ancora soldi sulla tessera"".
    await make_town(core)
    chat = Chat(core, "+393479999993")
    await chat.send("NEGOZI")
    assert (await chat.state())[:2] == ("shops", "query")
    replies = await chat.send(said)
    assert NO_SHOP not in msgids(replies), msgids(replies)
    assert NO_SHOP_THERE not in msgids(replies), msgids(replies)
    assert any(msgid.startswith(answer) for msgid in msgids(replies)), msgids(replies)
    assert (await chat.state())[:2] == (None, None)
    # Words of a search are searched as before.
    await chat.send("NEGOZI")
    await chat.expect("dove trovo un alimentari?", FOUND)


@pytest.mark.parametrize("said", ["farmacia", "Alimentari?", "pane"])
async def test_a_kind_of_shop_alone_searches_it(core: Core, said: str) -> None:
    # With nothing asked, a kind of shop alone got "Non ho capito" and the help.
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    replies = await chat.send(said)
    assert NOT_UNDERSTOOD.msgid not in msgids(replies), said
    assert msgids(replies)[0] in (FOUND, NONE_OF_THAT_KIND), msgids(replies)


@pytest.mark.parametrize("said", ["dove sta il forno?", "dov'è l'alimentari", "dove è la farmacia"])
async def test_where_is_a_kind_of_shop_searches_it(core: Core, said: str) -> None:
    # With nothing asked, "dove" and a kind of shop, without a word of buying, got "Non
    # ho capito" and the help.
    await make_town(core)
    chat = Chat(core, "+393479999994")
    replies = await chat.send(said)
    assert NOT_UNDERSTOOD.msgid not in msgids(replies), said
    assert msgids(replies)[0] in (FOUND, NONE_OF_THAT_KIND), msgids(replies)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM])
async def test_all_the_shops_lists_them(core: Core, channel: Channel) -> None:
    town = await make_town(core)
    await more_shops(core, town.municipality_id, 7)
    chat = Chat(core, "+393479999995" if channel == Channel.SMS else "5550009", channel=channel)
    for said in ("tutti", "tutti i negozi", "Tutti!"):
        await chat.send("NEGOZI")
        replies = await chat.send(said)
        said_ids = msgids(replies)
        assert NO_SHOP not in said_ids, said
        assert said_ids[0] == FOUND, said_ids
        assert replies[0].texts[0].params["count"] == 8
    if channel == Channel.SMS:
        # Paged as any list by SMS: ALTRI goes on.
        assert "ALTRI for more." in msgids(replies)
        more = msgids(await chat.send("ALTRI"))
        assert more[0] == "Shops from no. {first} of {count}:", more


async def more_shops(core: Core, municipality_id: int, count: int) -> None:
    async with core.uow() as uow:
        for index in range(count):
            shop = await register_shop(
                uow,
                municipality_id,
                ShopInput(
                    f"Bottega numero {index}",
                    make_partita_iva(60 + index),
                    ShopCategory.GROCERY,
                    f"Via Garibaldi {index + 1}",
                    "Testville",
                    "62020",
                    None,
                    None,
                    "IT60X0542811101000000123456",
                ),
                owner_channel="sms",
                owner_address=f"+3934700003{index:02d}",
                now=core.now(),
            )
            await approve_shop(uow, municipality_id, shop.id, core.now())
        await uow.commit()


# 3. A first message asking for the vouchers for a couple or a family: the application.


@pytest.mark.parametrize(
    "said",
    ["io e mio marito vorremmo i buoni", "vorrei fare domanda per la mia famiglia",
     "vorremmo chiedere i buoni spesa"],
)  # fmt: skip
async def test_a_couple_asking_for_the_vouchers_applies(core: Core, said: str) -> None:
    await town_with_open_window(core)
    chat = Chat(core, "+393479990002")
    await chat.expect(said, PRIVACY)
    assert (await chat.state())[:2] == ("apply", "privacy")


# 4. "Boh, non lo so" where the savings are asked: what is asked, explained.


@pytest.mark.parametrize("said", ["boh non lo so", "non so", "nn lo so", "boh", "non saprei"])
async def test_not_knowing_the_savings_is_told_a_rough_figure_is_fine(
    core: Core, said: str
) -> None:
    chat = await at_work(core, "1")
    await chat.expect("no", PENSION)
    await chat.expect("no", LIQUIDITY)
    replies = await chat.send(said)
    assert msgids(replies) == [ROUGHLY]
    assert "liquidity" not in await answers(chat)
    assert (await chat.state())[:2] == ("apply", "liquidity")
    # A figure is the answer as before.
    await chat.expect("circa 300", SUPPORT)


async def test_other_words_at_the_savings_are_still_not_an_amount(core: Core) -> None:
    chat = await at_work(core, "1")
    await chat.expect("no", PENSION)
    await chat.expect("no", LIQUIDITY)
    replies = await chat.send("tanti")
    assert ROUGHLY not in msgids(replies)
    assert msgids(replies)[0] == NOT_AN_AMOUNT


# 5. Her own codice fiscale from her own phone: she is known here.


async def test_her_own_codice_fiscale_from_her_phone_says_she_is_known(core: Core) -> None:
    town = await make_town(core, citizens=2)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    for said in (town.citizen_cfs[0], f"il mio codice fiscale è {town.citizen_cfs[0].lower()}"):
        replies = await chat.send(said)
        assert msgids(replies) == [KNOWN_HERE], said
        body = render_plain(replies[0], "it", sms=True)
        assert "SALDO" in body
        assert town.citizen_cfs[0] not in body
    assert (await chat.state())[:2] == (None, None)


async def test_another_codice_fiscale_from_a_holders_phone_says_nothing_of_it(
    core: Core,
) -> None:
    # Another holder's code and a code nobody holds get the same words, which are not
    # "you are known": nothing says whether either is registered.
    town = await make_town(core, citizens=2)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    said = [msgids(await chat.send(cf)) for cf in (town.citizen_cfs[1], make_cf(901))]
    assert said[0] == said[1] == [ASK_FROM_OWN_PHONE.msgid]


async def test_a_mistyped_codice_fiscale_is_said_mistyped_whoever_writes_it(core: Core) -> None:
    """Her own codice fiscale with a slip in its check letter, from her own phone, got the
    words for somebody else's ("The balance is asked from the phone of whoever holds the
    vouchers"), and so did anybody's. A check letter that does not match is public math:
    it is said to be mistyped, to check it, the same to her, to a stranger, to a delegate,
    for her code and for a code nobody has, never saying whether a code is registered."""
    town = await make_town(core, citizens=2)
    async with core.uow() as uow:
        municipality = await uow.municipalities.by_id(town.municipality_id)
        assert municipality is not None
        cf = town.citizen_cfs[1]
        yes = await approved_request(uow, municipality, cf, "delegate", DELEGATE)
        await delegates.add_delegate(uow, municipality, cf, DELEGATE, core.now(), approved=yes)
        await uow.commit()
    own, nobodys = town.citizen_cfs[0], make_cf(901)
    said = []
    for phone in (town.citizen_phones[0], "+393471230999", DELEGATE):
        for cf in (_slip(own), _slip(nobodys), f"il mio codice fiscale è {_slip(own).lower()}"):
            replies = await Chat(core, phone).send(cf)
            assert msgids(replies) == [CF_CHECKSUM], (phone, cf)
            said.append("\n".join(render_plain(reply, "it", sms=True) for reply in replies))
    assert len(set(said)) == 1
    assert "controllalo" in said[0].lower()
    # Written right, each is answered as before.
    assert msgids(await Chat(core, town.citizen_phones[0]).send(own)) == [KNOWN_HERE]
    assert msgids(await Chat(core, "+393471230999").send(own)) == [ASK_FROM_OWN_PHONE.msgid]


def _slip(cf: str) -> str:
    """The code with another check letter: its shape, and a slip stdnum sees."""
    return cf[:-1] + ("A" if cf[-1] != "A" else "B")


# 6. Thanks and "prego" on Telegram: the menu's buttons under the answer.


@pytest.mark.parametrize("said", ["grazie mille", "Prego!", "grazie"])
async def test_thanks_on_telegram_leave_the_menu_buttons(core: Core, said: str) -> None:
    await make_town(core)
    chat = Chat(core, "5550011", channel=Channel.TELEGRAM)
    await chat.send("MENU")
    await chat.send("NEGOZI")
    await chat.send("alimentari")
    replies = await chat.send(said)
    assert set(options(replies)) >= MENU_BUTTONS, msgids(replies)
    assert NOT_UNDERSTOOD.msgid not in msgids(replies)


async def test_thanks_by_sms_are_as_before(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    assert msgids(await chat.send("grazie mille")) == [THANKS]
