"""Words24: a Telegram chat nobody knows yet asks for its money in words ("quanto ho?",
"how much do I have?", "saldo", "ho ancora buoni?"). The button to share the phone number
came with "to find your vouchers we need your phone number", which does not say why a
chat cannot simply be told: now the same message says that only the number the town
registered sees the vouchers. The contact shared, the balance asked comes at once,
without asking again."""

from __future__ import annotations

import pytest

from buonispesa.demo import DEMO_CITIZENS
from tests.e2e.telegram_harness import TelegramServer
from tests.e2e.test_telegram_citizen import request_button

WHY = {
    "it": "I tuoi buoni si vedono solo dal numero di telefono registrato dal Comune",
    "en": "Only the phone number registered with the municipality can see your vouchers",
}
THANKS = {
    "it": "Grazie: abbiamo riconosciuto il tuo numero.",
    "en": "Thank you: we recognised your number.",
}
BALANCE = {"it": "Il tuo saldo: ", "en": "Your balance: €"}


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("it", "quanto ho?"),
        ("it", "saldo"),
        ("it", "ho ancora buoni?"),
        ("en", "how much do I have?"),
        ("en", "do I still have vouchers?"),
    ],
)
async def test_the_number_asked_says_why_and_the_shared_contact_gets_the_balance(
    telegram_server: TelegramServer, language: str, said: str
) -> None:
    server = telegram_server
    rossi = DEMO_CITIZENS[0]
    person = server.user(5241, language=language)
    [ask] = await server.exchange(person, lambda: person.say(said))
    assert ask["text"].startswith(WHY[language]), ask["text"]
    assert request_button(ask)["request_contact"] is True
    thanks, balance = await server.exchange(
        person, lambda: person.share_contact(rossi.phone.lstrip("+"))
    )
    assert thanks["text"] == THANKS[language]
    assert balance["text"].startswith(BALANCE[language]), balance["text"]
