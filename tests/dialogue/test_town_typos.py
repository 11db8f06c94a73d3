"""A town misspelt in a shop search by SMS ("NEGOZI BELFORTTE", "negozi belforte del
chenti", "FARMACIA BELFORTTE"): the shops there, as for the town written right; a place
no shop of the list is in: the towns the shops are in."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.bootstrap import Core
from core.dialogue.flows.shop_finder import town_near
from core.storage import models as m
from tests.dialogue.harness import Chat, param
from tests.factories import make_town

BELFORTE = "Belforte del Chienti"
SHOPS = "{count} shop found:"
NO_PHARMACY_THERE = 'No shop of that type in "{place}". {count} other shop there:'
TOWNS = 'No shop found for "{query}". The shops of the list are in:'
WRITE_A_TOWN = "Write NEGOZI and a town, or a type: alimentari, panetteria, farmacia."


async def _belforte(core: Core) -> str:
    """The factories' town named Belforte del Chienti, its shop there: a citizen's phone."""
    town = await make_town(core)
    async with core.uow() as uow:
        await uow.session.execute(
            update(m.Municipality)
            .where(m.Municipality.id == town.municipality_id)
            .values(name=BELFORTE)
        )
        await uow.session.execute(
            update(m.Shop).where(m.Shop.id == town.shop_id).values(town=BELFORTE)
        )
        await uow.commit()
    return town.citizen_phones[0]


def test_a_town_near_is_a_slip_or_two_from_its_words() -> None:
    for typed in ("belfortte", "BELFROTE", "belforte del chenti", "belforte chienit"):
        assert town_near(typed, BELFORTE), typed
    # Short words only exactly (town_matches), another town, words in the wrong order: no.
    for typed in ("belf", "del", "rome", "macerata", "chienti belforte", "beltorte caldarola"):
        assert not town_near(typed, BELFORTE), typed


@pytest.mark.parametrize(
    "said",
    ["NEGOZI BELFORTE DEL CHIENT", "negozi belforte chienti", "NEGOZI BELFORTTE",
     "negozi belforte del chenti", "NEGOZI A BELFROTE"],
)  # fmt: skip
async def test_a_town_misspelt_finds_its_shops(core: Core, said: str) -> None:
    # "NEGOZI BELFORTTE" was "No shop found": she had the town right but for a letter.
    phone = await _belforte(core)
    replies = await Chat(core, phone).expect(said, SHOPS)
    assert param(replies, "count") == 1


async def test_a_kind_of_shop_in_a_town_misspelt(core: Core) -> None:
    # Right after a list, "FARMACIA BELFORTTE" was "No shop for ...: the vouchers are spent
    # only in the shops of the list". Now the town's shops, since none is a pharmacy.
    phone = await _belforte(core)
    chat = Chat(core, phone)
    await chat.expect("NEGOZI", SHOPS)
    await chat.expect("FARMACIA BELFORTTE", NO_PHARMACY_THERE, "{shop}, {address}")
    await Chat(core, phone).expect(
        "NEGOZI FARMACIA BELFORTTE", NO_PHARMACY_THERE, "{shop}, {address}"
    )


async def test_a_place_with_no_shop_of_the_list_hears_the_towns_there_are(core: Core) -> None:
    phone = await _belforte(core)
    replies = await Chat(core, phone).expect("NEGOZI MACERATA", TOWNS, "{town}", WRITE_A_TOWN)
    assert param(replies, "town") == BELFORTE
