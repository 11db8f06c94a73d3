"""A language asked for in a sentence, and words in a language we do not speak at a
question, end to end: by SMS through the signed webhook and the fake Twilio API, on
Telegram through the fake Bot API; what each person reads."""

from __future__ import annotations

from functools import partial

import pytest

from tests.e2e.sms_harness import SmsServer, assert_one_gsm7_segment
from tests.e2e.telegram_harness import TelegramServer
from tests.e2e.test_telegram_citizen import buttons
from tests.e2e.test_telegram_day_trial import CITIZEN_MENU, text_of
from tests.e2e.test_telegram_her_words import newcomer
from tests.factories import make_cf

pytestmark = pytest.mark.filterwarnings(
    # twilio's asyncio client still uses aiohttp's deprecated BasicAuth.
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

# Said in both languages, the chat's first.
OUR_LANGUAGES = "English: write LANGUAGE EN. Italiano: scrivi LINGUA IT."
NOSTRE_LINGUE = "Italiano: scrivi LINGUA IT. English: write LANGUAGE EN."


async def test_by_sms_english_asked_for_at_the_consent(sms_server: SmsServer) -> None:
    server = sms_server
    phone = "+393339990201"
    [privacy] = await server.say(phone, "DOMANDA")
    assert "Acconsenti?" in privacy
    # Before, "Non ho capito" and the Italian question again.
    replies = await server.say(phone, "please write in English")
    text = "\n".join(replies)
    assert text.startswith("Done: I will write to you in English.")
    assert "Agree?" in text and "Non ho capito" not in text
    [asked] = await server.say(phone, "1")
    assert asked.startswith("Write your codice fiscale")
    [members] = await server.say(phone, make_cf(4390))
    assert members.startswith("How many people")
    # French at the question: its hint and our two languages, not "I did not understand".
    replies = await server.say(phone, "je ne sais pas")
    text = "\n".join(replies)
    assert OUR_LANGUAGES in text
    assert "did not understand" not in text
    assert "How many people" in text
    replies = await server.say(phone, "parla italiano?")
    text = "\n".join(replies)
    assert text.startswith("Fatto: ti scriverò in italiano.")
    assert "Quante persone" in text
    assert_one_gsm7_segment(server.twilio.accepted)


async def test_on_telegram_english_asked_for_at_the_menu(telegram_server: TelegramServer) -> None:
    server = telegram_server
    nonna = await newcomer(server, 9301)
    # Before, "Non ho capito", the help and the Italian menu.
    [done] = await server.exchange(nonna, partial(nonna.say, "can you write in english please"))
    assert text_of(done).startswith("Done: I will write to you in English.")
    assert buttons(done)[:4] == ["Balance", "Shops", "Apply", "Status"]
    [back] = await server.exchange(nonna, partial(nonna.say, "scrivimi in italiano per favore"))
    assert text_of(back).startswith("Fatto: ti scriverò in italiano.")
    assert buttons(back)[:4] == CITIZEN_MENU
    # Spanish at the consent: the hint and our two languages, the question's buttons kept.
    await server.exchange(nonna, lambda: nonna.tap("Domanda"))
    replies = await server.exchange(nonna, partial(nonna.say, "no tengo"))
    text = "\n".join(text_of(message) for message in replies)
    assert NOSTRE_LINGUE in text and "Non ho capito" not in text
    assert buttons(replies[-1]) == ["Acconsento", "Non acconsento"]
