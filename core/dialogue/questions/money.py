"""The money in a question's words: the balance asked ("quanto mi resta?", "ho ancora
soldi?", "sono senza soldi"), money short ("credito insufficiente"), a payment refused
("perché non posso pagare?"), and the bills and the lost job the vouchers do not pay for
("non riesco a pagare la luce", "ho perso il lavoro")."""

from __future__ import annotations

from core.dialogue import failure_words as failing
from core.dialogue.questions.shopkeeper import _A_SHOP

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
# "Ho ancora buoni?", "do I still have vouchers?": the vouchers she has, i.e. the balance
# (with "ho", "have": "ci sono ancora buoni?" may ask whether one can still apply).
_VOUCHER_WORDS = frozenset({"buoni", "buono", "vouchers", "voucher"})
_I_HAVE = frozenset({"ho", "cho", "abbiamo", "have", "got"})
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


# "Perché non posso pagare", "non mi fa pagare", "why can't I pay", "mi hanno rifiutato il
# buono", "pagamento rifiutato", "il negozio dice che non ho soldi": her vouchers did not
# pay. Not an application refused ("domanda rifiutata": STATO's), nor bills (below).
_PAY_WORDS = frozenset(
    {"pagare", "pagato", "pagamento", "pagamenti", "pay", "paid", "payment"}
)  # fmt: skip
_CANT_PAY = frozenset({("non", "posso"), ("non", "riesco")})
# "Non mi fa pagare", "non mi fanno pagare" (without "non", a price: "mi fa pagare troppo").
_LETS_PAY = frozenset({("fa", "pagare"), ("fanno", "pagare")})
_WHY = frozenset({"perche", "perch", "why"})
_REFUSED_PAYMENT = failing.REFUSED | {
    "rifiutati", "rifiutate", "respinto", "respinta", "declined",
}  # fmt: skip
_SAYS = frozenset({"dice", "dicono", "detto", "says", "said", "tells", "told"})


def _payment_refused(said: frozenset[str], pairs: set[tuple[str, str]]) -> bool:
    """Whether a message says (or asks why) her vouchers did not pay (_PAY_WORDS)."""
    cant = (
        pairs & _CANT_PAY
        or said & {"cant", "cannot", "couldnt"}
        or (pairs & _LETS_PAY and said & _NEGATION)
    )
    if said & _PAY_WORDS and (cant or (said & _WHY and said & _NEGATION)):
        return True
    vouchers = said & {"buono", "buoni", "voucher", "vouchers"}
    if said & _REFUSED_PAYMENT and (said & (_PAY_WORDS | {"spesa"}) or vouchers):
        return True
    if vouchers and said & failing.CARD_WORKS and said & failing.NEGATION:
        return True  # "il buono non passa", "i buoni non funzionano"
    return bool(said & _A_SHOP and said & _SAYS and said & _CASH and said & _NEGATION)


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
