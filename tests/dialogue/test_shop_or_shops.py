"""A shop named with nothing asked: "negozio" alone could be a citizen after the shops or
a shopkeeper after registering hers, and is asked (buttons on Telegram, numbers by SMS);
"ho un negozio", "voglio registrare il mio negozio" are registering; "negozi" and "dove
posso spendere" stay the shops where vouchers are spent."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.words import shop_or_shops
from tests.dialogue.harness import Chat, add_member, options
from tests.factories import make_town

ASKED = (
    "Are you looking for shops where to spend the vouchers, or do you want to register your shop?"
)
SHOP_QUERY = (
    "Write a town, a postcode (CAP) or a type of shop: alimentari, panetteria, macelleria, "
    "frutta, farmacia."
)
REGISTRATION = "Shop registration. Write the name of the shop, as customers know it."
FOR_SHOPKEEPERS = (
    "For shopkeepers: register your shop with the municipality, or join a shop with the code "
    "its owner gave you."
)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("negozio", "ask"),
        ("NEGOZIO?", "ask"),
        ("Negozio.", "ask"),
        ("il mio negozio", "ask"),
        ("un negozio", "ask"),
        ("my shop", "ask"),
        ("ho un negozio", "register"),
        ("Ho un negozio di alimentari, come faccio?", "register"),
        ("c'ho un negozio", "register"),
        ("voglio registrare il mio negozio", "register"),
        ("Buongiorno, vorrei iscrivere la mia attività", "register"),
        ("come registro il negozio", "register"),
        ("I have a shop", "register"),
        ("register my shop", "register"),
        ("sono un negoziante", "shopkeeper"),
        ("Sono la titolare del negozio", "shopkeeper"),
        ("I am a shopkeeper", "shopkeeper"),
        ("ho un codice cassiere", "join"),
        ("mi hanno dato il codice cassiere", "join"),
        ("I have a cashier code", "join"),
        ("il codice cassiere non funziona", None),
        ("ho perso il codice cassiere", None),
        ("negozi", None),
        ("dove posso spendere", None),
        ("il negozio non accetta i buoni", None),
        ("negozio 12", None),
        ("ho un figlio", None),
        ("sono Maria", None),
    ],
)
def test_what_a_message_says_of_a_shop(text: str, said: str | None) -> None:
    assert shop_or_shops(text) == said


async def test_negozio_alone_asks_which_by_sms_and_each_number_answers(core: Core) -> None:
    await make_town(core, citizens=1)
    chat = Chat(core, "+393478888870")
    replies = await chat.expect("negozio", ASKED)
    assert options(replies) == ["shops", "register"]
    await chat.expect("1", SHOP_QUERY)
    other = Chat(core, "+393478888871")
    await other.expect("Negozio?", ASKED)
    await other.expect("2", REGISTRATION)


async def test_negozio_alone_on_telegram_asks_with_two_buttons(core: Core) -> None:
    await make_town(core, citizens=1)
    chat = Chat(core, "4270", channel=Channel.TELEGRAM)
    replies = await chat.expect("il mio negozio", ASKED)
    assert options(replies) == ["shops", "register"]
    await chat.expect(None, REGISTRATION, option="register")


async def test_a_shopkeepers_sentence_registers_and_the_shops_words_stay(core: Core) -> None:
    await make_town(core, citizens=1)
    chat = Chat(core, "+393478888872")
    await chat.expect("Ho un negozio di alimentari, come faccio?", REGISTRATION)
    await chat.expect("ANNULLA", "Cancelled.")
    await chat.expect("voglio registrare il mio negozio", REGISTRATION)
    await chat.expect("ANNULLA", "Cancelled.")
    await chat.expect("sono un negoziante", FOR_SHOPKEEPERS)
    await chat.expect("ANNULLA", "Cancelled.")
    await chat.expect("negozi", SHOP_QUERY)
    await chat.expect("ANNULLA", "Cancelled.")
    await chat.expect("dove posso spendere", SHOP_QUERY)


async def test_at_a_question_negozio_is_the_answer_not_asked_again(core: Core) -> None:
    await make_town(core, citizens=1)
    chat = Chat(core, "+393478888873")
    await chat.expect("REGISTRA", REGISTRATION)
    # The shop's name asked: "Negozio" is no new request.
    said = await chat.send("Negozio")
    assert ASKED not in [text.msgid for reply in said for text in reply.texts]
    assert (await chat.state())[:2] != (None, None)


async def test_a_shops_own_chat_hears_its_menu(core: Core) -> None:
    town = await make_town(core, citizens=1)
    await add_member(core, town.shop_id, "4271", "owner", channel="telegram")
    chat = Chat(core, "4271", channel=Channel.TELEGRAM)
    said = await chat.send("il mio negozio")
    assert ASKED not in [text.msgid for reply in said for text in reply.texts]
    assert "charge" in options(said) or "statement" in options(said)


async def test_at_the_shop_searchs_question_negozio_is_a_search(core: Core) -> None:
    await make_town(core, citizens=1)
    chat = Chat(core, "+393478888874")
    await chat.expect("NEGOZI", SHOP_QUERY)
    said = await chat.send("negozio")
    assert ASKED not in [text.msgid for reply in said for text in reply.texts]
    assert "{count} shop found:" in [text.msgid for reply in said for text in reply.texts]
