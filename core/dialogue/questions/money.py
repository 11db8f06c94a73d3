"""The money in a question's words: the balance asked ("quanto mi resta?", "ho ancora
soldi?", "sono senza soldi"), money short ("credito insufficiente"), and the bills and the
lost job the vouchers do not pay for ("non riesco a pagare la luce", "ho perso il lavoro")."""

from __future__ import annotations

from core.dialogue import failure_words as failing

# "Quanto c'ho sulla tessera", "mi dici quanti soldi mi restano": the balance.
_HOW_MUCH = frozenset({"quanto", "quanti", "quanta", "quante"})
_ENGLISH_HOW_MUCH = (("how", "much"), ("how", "many"))
_MONEY = frozenset(
    {
        "soldi", "sordi", "credito", "saldo", "tessera", "carta", "buoni", "buono", "resta",
        "restano", "rimane", "rimangono", "rimasto", "rimasti", "avanza", "avanzano",
        "avanzato", "speso", "spesi", "money", "credit", "balance", "card", "left",
        "vouchers", "spent",
    }
)  # fmt: skip
# "Ho ancora soldi?", "c'ho ancora li sordi?", "do I still have money?": the balance, when
# the sentence holds no "non" ("non ho ancora la tessera" asks something else) and its
# money word is money, not the card or the vouchers one may still be waiting for.
_STILL = frozenset({"ancora", "still"})
_CASH = frozenset({"soldi", "sordi", "credito", "saldo", "money", "credit", "balance"})
_NEGATION = frozenset({"non", "not", "dont", "no"})
# "Mi resta qualcosa?", "non mi è rimasto niente?", "is there anything left?": the balance.
_REMAINS = frozenset(
    {"resta", "restano", "rimane", "rimangono", "rimasto", "rimasti", "avanza", "left"}
)  # fmt: skip
_ANYTHING = frozenset({"qualcosa", "niente", "nulla", "anything", "something", "nothing"})
# "Non ho più soldi?", "non c'ho più credito", "no money left", "have I run out of money?".
_RUN_OUT = frozenset({("run", "out"), ("no", "more"), ("out", "of")})


def _penniless(said: frozenset[str], pairs: set[tuple[str, str]]) -> bool:
    """ "Sono senza soldi", "siamo senza una lira", "I have no money": the balance, which
    says what to do when there is none (an application, else what is left)."""
    return bool(said & _WITHOUT and said & (_CASH | {"lira", "euro"})) or bool(pairs & _NO_MONEY)


_WITHOUT = frozenset({"senza", "without"})
# "Non riesco a pagare le bollette", "ho l'affitto da pagare", "mi hanno tagliato la luce",
# "I can't pay the rent": bills and rent, which the vouchers never pay.
_BILLS = frozenset(
    {"bolletta", "bollette", "bollete", "affitto", "laffitto", "affitti", "bill", "bills",
     "rent"}
)  # fmt: skip
_UTILITIES = frozenset(
    {"luce", "gas", "acqua", "lacqua", "corrente", "elettricita", "riscaldamento",
     "electricity", "power", "water", "heating"}
)  # fmt: skip
_CUT_OFF = frozenset(
    {"tagliato", "tagliata", "tagliati", "staccato", "staccata", "staccati", "sospeso",
     "sospesa", "cut", "disconnected"}
)  # fmt: skip
_TO_PAY_BILLS = frozenset({"pagare", "pago", "pay"})
# "Il cliente non ha abbastanza soldi", "credito insufficiente", "not enough money".
_ENOUGH = frozenset({"abbastanza", "sufficiente", "sufficienti", "bastano", "basta", "enough"})
_INSUFFICIENT = frozenset({"insufficiente", "insufficienti", "insufficient"})
_NOT_HAVE = failing.NEGATION | {"hasnt", "havent", "lacks"}
# "Sono rimasta senza lavoro", "ho perso il lavoro", "sono disoccupata", "I lost my job".
_WORK = frozenset({"lavoro", "impiego", "job", "work"})
_JOBLESS = frozenset(
    {"disoccupato", "disoccupata", "disoccupati", "licenziato", "licenziata", "licenziati",
     "unemployed", "jobless", "fired"}
)  # fmt: skip
_NO_MONEY = frozenset({("no", "money"), ("nessun", "soldo"), ("zero", "soldi")})
