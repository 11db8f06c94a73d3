"""An elderly citizen on an old phone, through the SMS webhook of the demo town (Belforte
del Chienti): her town misspelt in a shop search, a place no shop is in, where the office
is, and a support named beside its amount while applying. Every reply one GSM-7 SMS."""

from __future__ import annotations

import pytest

from buonispesa.demo import DEMO_CITIZENS
from tests.e2e.sms_harness import SmsServer, assert_one_gsm7_segment
from tests.factories import make_cf

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:twilio.*",
    "ignore:BasicAuth is deprecated:DeprecationWarning",
)

CITIZEN = DEMO_CITIZENS[0]


async def test_her_town_misspelt_and_where_the_office_is(sms_server_any_db: SmsServer) -> None:
    server = sms_server_any_db
    for typed in ("NEGOZI BELFORTTE", "negozi belforte del chenti", "NEGOZI BELFORTE DEL CHIENT"):
        found = await server.exchange(CITIZEN.phone, typed)
        assert "trovat" in found and "Nessun negozio" not in found, (typed, found)
    towns = await server.exchange(CITIZEN.phone, "NEGOZI MACERATA")
    assert towns.startswith('Nessun negozio per "MACERATA". I negozi della lista sono a:'), towns
    assert "\nBelforte del Chienti\n" in towns and towns.endswith("farmacia."), towns
    office = await server.exchange(CITIZEN.phone, "dove si trova l'ufficio")
    assert office.startswith("Servizi sociali di Belforte del Chienti"), office
    assert_one_gsm7_segment(server.twilio.accepted)


async def test_a_support_named_beside_its_amount_while_applying(sms_server: SmsServer) -> None:
    server = sms_server
    phone = "+393339990041"
    for said in ("DOMANDA", "SI", make_cf(4341), "2", "NO", "SI", "1500"):
        await server.say(phone, said)
    rent = await server.exchange(phone, "pensione di cittadinanza 300")
    assert rent.startswith("Quanto paga il nucleo di affitto al mese?"), rent
    summary = "\n".join(await server.say(phone, "NON PAGO AFFITTO CASA MIA"))
    assert "Sostegno: 300,00 €/mese" in summary and "Affitto: 0,00 €/mese" in summary, summary
    assert_one_gsm7_segment(server.twilio.accepted)


async def test_a_kind_of_shop_and_her_town_as_her_first_message(sms_server: SmsServer) -> None:
    # "FARMACIA BELFORTE" from a new number got the welcome: she was looking for shops.
    server = sms_server
    said = await server.say("+393339990043", "FARMACIA BELFORTE")
    assert said[0].startswith("1 negozio trovato:") and "Farmacia Comunale" in said[0], said
    assert said[-1] == "Non hai ancora i buoni? Per fare domanda scrivi DOMANDA.", said
    assert not any("benvenuto" in reply for reply in said), said
    assert_one_gsm7_segment(server.twilio.accepted)
