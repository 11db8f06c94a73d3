"""Every Italian sentence says "tu", never "voi", and names nobody's gender where it need
not: the decision letter and the receipt said "vostra domanda", "potete", "Conservate …
scrivete STATO" beside the chat's "scrivi RICORSO", and the office's delegate field "paga
per lui" (usertest item 16). The office's own check is tests/office/test_words.py."""

from __future__ import annotations

import re

from core.domain.messages import t
from core.i18n import render_text
from tests.dialogue.test_catalogs import catalog

# Second person plural, as imperative, present or future ("scrivete", "potete", "restate",
# "riceverete"), or a plural pronoun or possessive.
VOI = re.compile(
    r"\b(scrivete|conservate|pagate|restate|chiedete|potete|dovete|avete|siete|riceverete|"
    r"rivolgetevi|contattate|presentate|voi|vi|vostr[oaie])\b",
    re.IGNORECASE,
)
# A person referred to as "lui"/"lei" where the text could say "suo conto", "al suo posto".
GENDERED = re.compile(r"\bper (lui|lei)\b", re.IGNORECASE)


def test_the_check_notices_voi_and_a_gendered_pronoun() -> None:
    assert VOI.search("Conservate questa ricevuta (scrivete STATO).")
    assert VOI.search("Esito della vostra domanda")
    assert not VOI.search("Conserva questa ricevuta (scrivi STATO).")
    assert GENDERED.search("chi assiste il richiedente e paga per lui")


def test_no_italian_sentence_says_voi_or_lui() -> None:
    found = []
    for entry in catalog("it"):
        if not entry.id:
            continue
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        found += [form for form in strings if form and (VOI.search(form) or GENDERED.search(form))]
    assert found == []


def test_a_shops_name_after_a_preposition_needs_no_elision() -> None:
    # "si è unita a Alimentari Da Rita" wanted "ad"; "alla cassa del negozio {shop}" never does.
    said = render_text(
        t(
            "A cashier joined {shop} from {who}. If you did not give them the code, write to the "
            "municipality.",
            shop="Alimentari Da Rita",
            who="SMS ***567",
        ),
        "it",
        sms=True,
    )
    assert " a Alimentari" not in said and "negozio Alimentari Da Rita" in said, said
