"""Right after the shop list (NEGOZI, ALTRI), an elderly citizen by SMS writes where she
means: her town's name ("TESTVILLE"), a hamlet's, a street ("VIA GARIBALDI") or another
town. That was "I did not understand" and the list of words; it is now the list's shops
there, or that no shop of the list is there. After "NEGOZI FARMACIA" the place is where
she looks for a pharmacy. Elsewhere the same words read as before."""

from __future__ import annotations

from core.bootstrap import Core
from core.dialogue.menus import NOT_UNDERSTOOD as NOT_UNDERSTOOD_TEXT
from core.domain.messages import Reply
from core.domain.shops import ShopCategory
from core.services.shops import ShopInput, approve_shop, register_shop
from tests.dialogue.harness import Chat, msgids
from tests.factories import make_partita_iva, make_town

ONE = "{count} shop found:"
NOT_UNDERSTOOD = NOT_UNDERSTOOD_TEXT.msgid
NOT_IN_THE_LIST = (
    'No shop for "{query}": the vouchers are spent only in the shops of the list. To see '
    "it again, write NEGOZI."
)


async def _shop_in(
    core: Core,
    municipality_id: int,
    name: str,
    address: str,
    town: str,
    category: ShopCategory = ShopCategory.BAKERY,
) -> None:
    async with core.uow() as uow:
        shop = await register_shop(
            uow,
            municipality_id,
            ShopInput(
                name,
                make_partita_iva(70 + len(name)),
                category,
                address,
                town,
                "62021",
                None,
                None,
                "IT60X0542811101000000123456",
            ),
            owner_channel="sms",
            owner_address=f"+39347000{len(name):04d}",
            now=core.now(),
        )
        await approve_shop(uow, municipality_id, shop.id, core.now())
        await uow.commit()


def _shops_named(replies: list[Reply]) -> list[str]:
    return [
        str(text.params["shop"])
        for reply in replies
        for text in reply.texts
        if "shop" in text.params
    ]


async def test_a_town_or_a_street_after_the_list_is_the_shops_there(core: Core) -> None:
    town = await make_town(core)
    await _shop_in(core, town.municipality_id, "Forno del Borgo", "Via Garibaldi 3", "Borgo Alto")
    chat = Chat(core, town.citizen_phones[0])
    # NEGOZI from a citizen: her town's own shops.
    assert _shops_named(await chat.expect("NEGOZI", ONE)) == ["Alimentari Test"]
    # The hamlet, the town, a street: each the list's shops there.
    assert _shops_named(await chat.expect("BORGO ALTO", ONE)) == ["Forno del Borgo"]
    assert _shops_named(await chat.expect("TESTVILLE", ONE)) == ["Alimentari Test"]
    assert _shops_named(await chat.expect("via garibaldi", ONE)) == ["Forno del Borgo"]
    assert _shops_named(await chat.expect("Via Roma", ONE)) == ["Alimentari Test"]
    # As she types it: a question mark, a kind of shop with the place, after ALTRI.
    assert _shops_named(await chat.expect("TESTVILLE?", ONE)) == ["Alimentari Test"]
    assert _shops_named(await chat.expect("FORNO BORGO ALTO", ONE)) == ["Forno del Borgo"]
    await chat.send("ALTRI")
    assert _shops_named(await chat.expect("BORGO ALTO", ONE)) == ["Forno del Borgo"]
    # Another town: no shop of the list is there, and the way back to it.
    await chat.expect("MACERATA", NOT_IN_THE_LIST)
    await chat.expect("camerino", NOT_IN_THE_LIST)
    assert (await chat.state())[:2] == (None, None)


async def test_the_town_alone_after_the_list_of_a_town_whose_shops_are_all_in_hamlets(
    core: Core,
) -> None:
    town = await make_town(core)
    await _shop_in(core, town.municipality_id, "Forno del Borgo", "Via Garibaldi 3", "Borgo Alto")
    async with core.uow() as uow:
        shop = await uow.shops.by_id(town.shop_id)
        assert shop is not None
        shop.town = "Borgo Basso"
        await uow.commit()
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("NEGOZI BORGO ALTO")
    # The municipality's name, where no shop is itself: the whole list, every hamlet.
    named = _shops_named(await chat.expect("Testville", ONE))
    assert sorted(named) == ["Alimentari Test", "Forno del Borgo"]


async def test_the_same_words_not_after_a_list_read_as_before(core: Core) -> None:
    town = await make_town(core)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")  # (a first message is welcomed)
    await chat.expect("TESTVILLE", NOT_UNDERSTOOD)
    await chat.send("NEGOZI")
    await chat.send("SALDO")  # something else in between: the list is no longer the last
    await chat.expect("TESTVILLE", NOT_UNDERSTOOD)
    await chat.send("NEGOZI")
    # A slip of a keyword stays that keyword; a question, a yes, a figure are not places.
    assert "Your balance: {balance}." in msgids(await chat.send("SALDOO"))
    await chat.send("NEGOZI")
    await chat.expect("quando aprono?", NOT_UNDERSTOOD)
    await chat.send("NEGOZI")
    assert NOT_IN_THE_LIST not in msgids(await chat.send("si"))


NONE_OF_THAT_KIND_THERE = 'No shop of that type in "{place}". {count} other shop there:'
NONE_OF_THAT_KIND = "No shop of that type takes the vouchers. {count} shop of the list:"


async def test_a_kind_of_shop_then_a_town_is_that_kind_there(core: Core) -> None:
    # "NEGOZI FARMACIA" then "TESTVILLE" was every shop of Testville, the grocery too.
    town = await make_town(core)
    await _shop_in(
        core, town.municipality_id, "Farmacia Rossi", "Via Dante 1", "Testville",
        ShopCategory.PHARMACY,
    )  # fmt: skip
    await _shop_in(
        core, town.municipality_id, "Farmacia del Borgo", "Via Po 2", "Borgo Alto",
        ShopCategory.PHARMACY,
    )  # fmt: skip
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("NEGOZI FARMACIA")
    assert _shops_named(await chat.expect("TESTVILLE", ONE)) == ["Farmacia Rossi"]
    # The kind holds for the next place too, and written in one message.
    assert _shops_named(await chat.expect("BORGO ALTO", ONE)) == ["Farmacia del Borgo"]
    await chat.send("SALDO")
    replies = await chat.expect("NEGOZI FARMACIA TESTVILLE", ONE)
    assert _shops_named(replies) == ["Farmacia Rossi"]


async def test_a_kind_of_shop_none_of_the_list_is_says_so_with_the_shops_there(
    core: Core,
) -> None:
    # With no pharmacy in the list: "No shop found for "FARMACIA TESTVILLE". Try a town..."
    # as though Testville had no shop; now that none is a pharmacy, and those there.
    town = await make_town(core)
    await _shop_in(core, town.municipality_id, "Forno del Borgo", "Via Garibaldi 3", "Borgo Alto")
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("SALDO")
    for first, then in (("NEGOZI FARMACIA", "TESTVILLE"), ("NEGOZI", "FARMACIA TESTVILLE")):
        await chat.send(first)
        replies = await chat.expect(then, NONE_OF_THAT_KIND_THERE)
        assert _shops_named(replies) == ["Alimentari Test"]
    replies = await chat.expect("NEGOZI FARMACIA TESTVILLE", NONE_OF_THAT_KIND_THERE)
    assert _shops_named(replies) == ["Alimentari Test"]
    # No place written: the whole list, paged by ALTRI as NEGOZI's.
    replies = await chat.expect("NEGOZI FARMACIA", NONE_OF_THAT_KIND)
    assert sorted(_shops_named(replies)) == ["Alimentari Test", "Forno del Borgo"]
    # A place with no shop of the list at all: as before.
    await chat.expect("MACERATA", NOT_IN_THE_LIST)
