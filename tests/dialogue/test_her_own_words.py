"""A 75-year-old citizen in her own words (trial of December 2026): what she writes at the
question of which shop she looks for, the balance, a person to talk to and whether the
money came, in Italian and English; and the neighbouring sentences that mean something else."""

from __future__ import annotations

import pytest

from core.bootstrap import Core
from core.dialogue.inbound import Channel
from core.dialogue.render import render_plain
from tests.dialogue.harness import Chat, msgids
from tests.factories import make_town

WHAT_TO_WRITE = (
    "To see the shops, write the name of your town, e.g. {town}, or a type of shop, e.g. "
    "alimentari."
)
WHAT_TO_WRITE_IN = {
    "it": "Per vedere i negozi scrivi il nome del tuo comune, per esempio Testville, o un "
    "tipo di negozio, per esempio alimentari.",
    "en": "To see the shops, write the name of your town, e.g. Testville, or a type of shop, "
    "e.g. alimentari.",
}
NO_SHOP = (
    'No shop found for "{query}". Try a town, a postcode (CAP) or a type: alimentari, '
    "panetteria, macelleria, frutta, farmacia."
)
# A place no shop of the list is in: the towns the shops are in.
NO_SHOP_THERE = 'No shop found for "{query}". The shops of the list are in:'
FOUND = "{count} shop found:"
NONE_OF_THAT_KIND = "No shop of that type takes the vouchers. {count} shop of the list:"
BALANCE = "Your balance: {balance}."
NO_CONTACT = (
    "Social services of {town}: ask at the town hall, they will tell you how to reach them."
)
LOST_AT_THE_QUESTION = {
    "it": ("scusi non ho capito", "si", "no", "dove li posso spendere", "Sì grazie", "boh",
           "cosa devo scrivere?"),
    "en": ("sorry I don't understand", "yes", "no", "where can I spend them?", "ok",
           "what do I write?"),
}  # fmt: skip


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.TELEGRAM])
@pytest.mark.parametrize("language", ["it", "en"])
async def test_the_shop_question_explains_what_to_write(
    core: Core, channel: Channel, language: str
) -> None:
    """Trial: "scusi non ho capito", "sì", "dove li posso spendere" got "Nessun negozio"."""
    await make_town(core)
    # Not a citizen of the town (whose NEGOZI by SMS lists the town's shops at once).
    chat = Chat(core, "+393479999997" if channel == Channel.SMS else "5550001", channel=channel)
    await chat.send("MENU")
    if language == "en":
        await chat.send("LANGUAGE EN")
    for text in LOST_AT_THE_QUESTION[language]:
        await chat.send("NEGOZI")
        replies = await chat.send(text)
        said = msgids(replies)
        assert NO_SHOP not in said, text
        assert said[0] == WHAT_TO_WRITE, text
        assert render_plain(replies[0], language, sms=True) == WHAT_TO_WRITE_IN[language]
        assert (await chat.state())[:2] == ("shops", "query"), text
        # The question still waits for its answer: a town finds the shops.
        await chat.expect("testville", FOUND)
    # Neighbours: a town, a postcode, a kind of shop are searches, and
    # what the town has not is said so, with the shops it has.
    for text in ("62020", "Testville", "alimentari", "l'alimentari"):
        await chat.send("NEGOZI")
        await chat.expect(text, FOUND)
    await chat.send("NEGOZI")
    await chat.expect("panetteria", NONE_OF_THAT_KIND, "{shop}, {address}")


async def test_balance_questions_in_her_words(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    for text in (
        "quanto posso spendere ancora?",
        "vorrei sapere quanto ho",
        "quanto mi resta da spendere",
        "ho finito i soldi?",
        "how much can I still spend?",
        "I'd like to know how much I have",
        "have I finished my money?",
    ):
        assert msgids(await chat.send(text))[0] == BALANCE, text
    # At a question too (the shop search): the balance, not a search for these words.
    telegram = Chat(core, "5550002", channel=Channel.TELEGRAM)
    await telegram.send("MENU")
    await telegram.send("NEGOZI")
    said = msgids(await telegram.send("quanto mi resta da spendere"))
    assert NO_SHOP not in said
    assert NO_SHOP_THERE not in said
    # A shop owner's takings are no balance, asked plainly or with "vorrei sapere".
    owner = Chat(core, town.shop_phone)
    await owner.send("MENU")
    for text in ("quanto ho incassato", "vorrei sapere quanto ho incassato oggi"):
        said = msgids(await owner.send(text))
        assert BALANCE not in said, text
        assert said[0] in ("Statement of which period?", "Today: {count} payment, {amount}.")
        await owner.send("ANNULLA")


async def test_a_person_to_talk_to_and_whether_the_money_came(core: Core) -> None:
    town = await make_town(core, citizens=1)
    chat = Chat(core, town.citizen_phones[0])
    await chat.send("MENU")
    for text in (
        "voglio parlare con una persona",
        "posso parlare con qualcuno?",
        "vorrei parlare con l'assistente sociale",
        "I want to talk to a person",
        "I'd like to talk to the social worker",
    ):
        assert msgids(await chat.send(text))[0] == NO_CONTACT, text
    # Someone else to talk to is not the office.
    assert NO_CONTACT not in msgids(await chat.send("voglio parlare con mia figlia"))
    status = msgids(await chat.send("STATO"))
    assert msgids(await chat.send("sono arrivati i buoni?")) == status
    for text in ("mi sono arrivati i soldi?", "has my money arrived?"):
        assert msgids(await chat.send(text)) == status, text
    # Money she says she gave or received is no question after her application.
    assert msgids(await chat.send("ho dato i soldi al negozio")) != status
    assert msgids(await chat.send("non ho ancora ricevuto i soldi")) != status
    # From a shop the money arrived is its reimbursement.
    owner = Chat(core, town.shop_phone)
    await owner.send("MENU")
    said = msgids(await owner.send("sono arrivati i soldi?"))
    assert said[0] == "To be reimbursed by the municipality: {amount}."
