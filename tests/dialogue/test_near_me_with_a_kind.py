"""Words24: "farmacia vicino a me", "supermercato vicino a me", "pharmacy near me", "negozi
qui", "negozi a casa mia" read "me", "qui" or "casa mia" as a town: 'no shop found for
"farmacia vicino a me"'. Where the person is is no place to search: a citizen of the town
gets its shops of that kind (or that none of that kind takes the vouchers, with the shops
there) and how to narrow them to her street; a number of no citizen the list's shops of
the kind it names, or how to write its CAP or town; a Telegram chat the button to share
its position. Real places still search."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.domain.shops import ShopCategory
from tests.dialogue.harness import Chat, msgids
from tests.dialogue.test_near_me_and_a_late_code import FOUND, NARROW, NEAR_SMS, NEAR_TELEGRAM
from tests.dialogue.test_places_after_the_shop_list import _shop_in, _shops_named
from tests.factories import make_town

NOT_FOUND = (
    'No shop found for "{query}". Try a town, a postcode (CAP) or a type: alimentari, '
    "panetteria, macelleria, frutta, farmacia."
)
NO_TOWN_HAS_IT = 'No shop found for "{query}". The shops of the list are in:'
NONE_OF_THAT_KIND = 'No shop of that type in "{place}". {count} other shop there:'


async def _town_with_a_pharmacy(core: Core) -> list[str]:
    town = await make_town(core)
    await _shop_in(
        core, town.municipality_id, "Farmacia Comunale", "Via Veneto 5", "Testville",
        ShopCategory.PHARMACY,
    )  # fmt: skip
    return town.citizen_phones


@pytest.mark.parametrize(
    ("said", "shops"),
    [
        ("farmacia vicino a me", ["Farmacia Comunale"]),
        ("Farmacia vicino a me?", ["Farmacia Comunale"]),
        ("pharmacy near me", ["Farmacia Comunale"]),
        ("supermercato vicino a me", ["Alimentari Test"]),
        ("c'è un alimentari qui vicino?", ["Alimentari Test"]),
        ("supermarket near my house", ["Alimentari Test"]),
        ("negozi qui", ["Alimentari Test", "Farmacia Comunale"]),
        ("negozi a casa mia", ["Alimentari Test", "Farmacia Comunale"]),
    ],
)
async def test_a_citizen_near_me_with_a_kind_gets_her_towns_shops_of_it(
    core: Core, said: str, shops: list[str]
) -> None:
    [phone, *_] = await _town_with_a_pharmacy(core)
    replies = await Chat(core, phone).send(said)
    said_ids = msgids(replies)
    assert NOT_FOUND not in said_ids and NO_TOWN_HAS_IT not in said_ids, said_ids
    assert said_ids[0] in (FOUND, "{count} shops found:"), said_ids
    assert NARROW in said_ids
    assert sorted(_shops_named(replies)) == shops


async def test_a_kind_none_of_the_town_has_near_her_says_so_with_the_shops_there(
    core: Core,
) -> None:
    town = await make_town(core)
    replies = await Chat(core, town.citizen_phones[0]).expect(
        "macelleria vicino a me", NONE_OF_THAT_KIND
    )
    assert _shops_named(replies) == ["Alimentari Test"]


async def test_a_number_of_no_citizen_is_asked_where(core: Core) -> None:
    await _town_with_a_pharmacy(core)
    replies = await Chat(core, "+393472400001").send("negozi qui")
    said_ids = msgids(replies)
    assert NEAR_SMS in said_ids, said_ids
    assert NOT_FOUND not in said_ids and NO_TOWN_HAS_IT not in said_ids


@pytest.mark.parametrize("said", ["farmacia vicino a me", "pharmacy near me"])
async def test_a_number_of_no_citizen_naming_a_kind_gets_the_lists_shops_of_it(
    core: Core, said: str
) -> None:
    # Where she is cannot be known, what she looks for can: the list's pharmacies and how
    # to narrow them beat a question (as "un supermercato vicino" at NEGOZI's question).
    await _town_with_a_pharmacy(core)
    replies = await Chat(core, "+393472400001").send(said)
    said_ids = msgids(replies)
    assert said_ids[0] == FOUND and NARROW in said_ids, said_ids
    assert _shops_named(replies) == ["Farmacia Comunale"]


async def test_on_telegram_near_me_with_a_kind_asks_for_the_position(core: Core) -> None:
    await _town_with_a_pharmacy(core)
    chat = Chat(core, "7772401", channel=Channel.TELEGRAM)
    await chat.send("/start")
    [reply] = await chat.expect("farmacia vicino a me", NEAR_TELEGRAM)
    assert reply.request == "location"


@pytest.mark.parametrize(
    ("said", "shops"),
    [
        ("farmacia vicino a Testville", ["Farmacia Comunale"]),
        ("negozi vicino via roma", ["Alimentari Test"]),
        ("NEGOZI via veneto", ["Farmacia Comunale"]),
    ],
)
async def test_a_real_place_near_which_is_still_searched(
    core: Core, said: str, shops: list[str]
) -> None:
    [phone, *_] = await _town_with_a_pharmacy(core)
    replies = await Chat(core, phone).expect(said, FOUND)
    assert NARROW not in msgids(replies)
    assert _shops_named(replies) == shops
