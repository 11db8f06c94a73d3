"""A new number's first message names shops without NEGOZI: "FARMACIA BELFORTE",
"alimentari belforte", "negozio via roma", "SUPERMERCATO". She is looking for shops, and
got the welcome. Now the shops of that kind or place, as NEGOZI with those words finds
them, and, for a number holding no vouchers while applications are open, one short line
on how to apply. A citizen's own number, or a second message, gets no such line."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.shops import ShopCategory
from tests.dialogue.harness import Chat, msgids, town_with_open_window
from tests.dialogue.test_places_after_the_shop_list import _shop_in, _shops_named
from tests.factories import make_town

FOUND = "{count} shop found:"
FOUND_MANY = "{count} shops found:"
WELCOME = "Welcome to the grocery vouchers of {town}."
HOW_TO_APPLY = "No vouchers yet? To apply, write DOMANDA."


async def _town(core: Core, *, open_window: bool = True) -> int:
    town = await (town_with_open_window(core) if open_window else make_town(core))
    await _shop_in(
        core, town.municipality_id, "Farmacia Rossi", "Piazza Garibaldi 2", "Belforte",
        ShopCategory.PHARMACY,
    )  # fmt: skip
    await _shop_in(
        core, town.municipality_id, "Alimentari Bianchi", "Via Verdi 3", "Belforte",
        ShopCategory.GROCERY,
    )  # fmt: skip
    return town.municipality_id


@pytest.mark.parametrize(
    ("said", "shops"),
    [
        ("FARMACIA BELFORTE", ["Farmacia Rossi"]),
        ("farmacia belforte", ["Farmacia Rossi"]),
        ("alimentari belforte", ["Alimentari Bianchi"]),
        ("ALIMENTARI A BELFORTE", ["Alimentari Bianchi"]),
        ("negozio via roma", ["Alimentari Test"]),
        ("negozi belforte", ["Alimentari Bianchi", "Farmacia Rossi"]),
    ],
)
@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM])
async def test_the_first_message_naming_shops_finds_them(
    core: Core, channel: Channel, said: str, shops: list[str]
) -> None:
    await _town(core)
    chat = Chat(core, "+393471230401" if channel == Channel.SMS else "7770401", channel=channel)
    replies = await chat.send(said)
    said_ids = msgids(replies)
    assert WELCOME not in said_ids, said_ids
    assert said_ids[0] in (FOUND, FOUND_MANY), said_ids
    assert sorted(_shops_named(replies)) == shops
    # One short line on how to apply, last.
    assert said_ids[-1] == HOW_TO_APPLY


async def test_a_kind_alone_as_the_first_message_says_how_to_apply_too(core: Core) -> None:
    await _town(core)
    chat = Chat(core, "+393471230402")
    replies = await chat.expect("FARMACIA", FOUND, HOW_TO_APPLY)
    assert _shops_named(replies) == ["Farmacia Rossi"]
    # Not twice: a second search is only the shops.
    replies = await chat.expect("alimentari belforte", FOUND)
    assert HOW_TO_APPLY not in msgids(replies)


async def test_no_line_on_applying_for_a_citizen_or_with_applications_closed(core: Core) -> None:
    await _town(core, open_window=False)
    # make_town's citizens hold vouchers; applications are closed for a new number.
    for phone in ("+393332000000", "+393471230403"):
        replies = await Chat(core, phone).expect("FARMACIA BELFORTE", FOUND)
        assert HOW_TO_APPLY not in msgids(replies)
        assert WELCOME not in msgids(replies)


@pytest.mark.parametrize("said", ["ciao", "buongiorno sono Maria", "Maria Rossi"])
async def test_other_first_words_still_get_the_welcome(core: Core, said: str) -> None:
    await _town(core)
    replies = await Chat(core, "+393471230404").send(said)
    assert WELCOME in msgids(replies)
    assert HOW_TO_APPLY not in msgids(replies)
