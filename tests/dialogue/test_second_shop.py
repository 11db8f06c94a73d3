"""A chat that charges for a shop and registers another (an owner's second outlet, a
cashier opening a shop of his own): it keeps charging where it did while the new one
waits, and MENU lets it change shop (user trial, 4 Dec 2026: the approved shop could not
charge until the office approved the new one, and a refused one still read as waiting)."""

from __future__ import annotations

from buonispesa.demo import shop_iban
from core.bootstrap import Core
from core.services import shops
from tests.dialogue.harness import Chat, open_till
from tests.dialogue.test_shop import ASK_CODE, own_code
from tests.factories import make_partita_iva, make_town

SENT = "Registration of {shop} sent. The municipality will check it and write to you here."
WAITING = "{shop} is waiting for the municipality's approval. We will write to you."
NOT_APPROVED = "The municipality did not approve {shop}: it cannot charge vouchers."


async def register_by_sms(chat: Chat, name: str, vat_number: str, iban: str) -> None:
    for text in ("REGISTRA", name, vat_number, "1", "Via Roma 2", "1", "62020", iban, "1"):
        await chat.send(text)
    await chat.expect(await own_code(chat), SENT)


async def test_the_owner_keeps_charging_while_a_second_outlet_waits(core: Core) -> None:
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    await register_by_sms(owner, "Alimentari Test 2", make_partita_iva(1), shop_iban(20))
    till = await open_till(owner)
    await till.expect(f"PAGA {town.citizen_cfs[0]} 5", ASK_CODE)
    await owner.expect("ANNULLA")
    menu = await owner.expect("MENU", "{shop}: what do you want to do?")
    assert "switch" in [o.key for reply in menu for o in reply.options]


async def test_a_refused_second_shop_says_so_and_offers_the_first(core: Core) -> None:
    town = await make_town(core, citizens=1)
    owner = Chat(core, town.shop_phone)
    await register_by_sms(owner, "Alimentari Test 2", make_partita_iva(1), shop_iban(21))
    async with core.uow() as uow:
        [(_, second)] = [
            (member, shop)
            for member, shop in await uow.shops.membership("sms", town.shop_phone)
            if shop.id != town.shop_id
        ]
        await shops.refuse_shop(uow, town.municipality_id, second.id, "dati errati", core.now())
        await uow.commit()
    await owner.send("MENU")
    await owner.send("CAMBIA NEGOZIO")
    replies = await owner.send("2")
    said = [text.msgid for reply in replies for text in reply.texts]
    assert NOT_APPROVED in said and WAITING not in said, said
    assert "switch" in [o.key for reply in replies for o in reply.options]


async def test_stato_from_a_shop_waiting_for_approval_says_so(core: Core) -> None:
    """Shops' trial: STATO from a shop waiting for approval answered as to a citizen with
    no vouchers ("write DOMANDA")."""
    await make_town(core, citizens=0)
    newcomer = Chat(core, "+393339990011")
    await register_by_sms(newcomer, "Frutta da Peppe", make_partita_iva(7), shop_iban(22))
    await newcomer.expect("STATO", WAITING)


async def test_the_town_typed_as_its_first_word_is_the_municipalitys_name(core: Core) -> None:
    """Shops' trial: "belforte" was stored as typed, and a search for the municipality's
    name missed the shop."""
    town = await make_town(core, citizens=0)
    newcomer = Chat(core, "+393339990012")
    for text in ("REGISTRA", "Frutta da Gina", make_partita_iva(8), "1", "Via Roma 3"):
        await newcomer.send(text)
    await newcomer.send("testv")
    for text in ("62020", shop_iban(23), "1"):
        await newcomer.send(text)
    await newcomer.expect(await own_code(newcomer), SENT)
    async with core.uow() as uow:
        [(_, shop)] = await uow.shops.membership("sms", "+393339990012")
        assert shop.town == "Testville" and shop.municipality_id == town.municipality_id
