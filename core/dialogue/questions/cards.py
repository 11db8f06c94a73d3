"""The voucher card in a question's words: lost ("ho perso la tessera"), or another card named
("carta d'identità", "carta di credito"), whose words are no keyword (another_card)."""

from __future__ import annotations

from itertools import pairwise

# "Ho perso la tessera", "tessera persa", "non trovo più la carta", "lost my card": how to
# replace it (at the office), not the card's number.
_LOST = frozenset(
    {"perso", "persa", "perduto", "perduta", "smarrito", "smarrita", "smarrimento", "rubato",
     "rubata", "furto", "lost", "lose", "stolen", "missing"}
)  # fmt: skip
_CANT_FIND = frozenset({("non", "trovo"), ("cant", "find"), ("not", "find")})
# The phone itself, lost or stolen ("ho perso il telefono"; not "il numero", which may be
# the card's or a shop's).
_HANDSET = frozenset(
    {"telefono", "cellulare", "telefonino", "smartphone", "phone", "mobile", "cellphone"}
)
_CARD = frozenset({"tessera", "carta", "card", "tesserino"})
# Where the card is kept, lost or stolen with the phone ("mi hanno rubato portafoglio e
# telefono"): the card went with it. Alone (no phone named) it is read as before.
_WALLET = frozenset(
    {"portafoglio", "portafogli", "borsa", "borsetta", "borsellino", "wallet", "purse",
     "handbag"}
)  # fmt: skip
# The argument of "lost_card" when only a wallet or a bag was lost ("ho perso il portafoglio",
# "mi hanno rubato la borsa"): the card was likely in it, but she did not say so.
WALLET = "wallet"
# The argument of "lost_phone" when the card was lost with the phone ("ho perso il telefono e
# la tessera"): both answers, in one reply where it fits.
AND_CARD = "and_card"
# Another card lost: "carta d'identità", "carta di credito", "tessera sanitaria".
_OTHER_CARD = frozenset(
    {"didentita", "identita", "credito", "bancomat", "sanitaria", "identity", "id", "credit",
     "debit", "bank", "health"}
)  # fmt: skip
# The words that surely name another card ("credito" alone may be the vouchers' credit:
# "ho perso la tessera, ho ancora credito?"): its loss is told the vouchers are unaffected,
# never shown the voucher card's code (the CARTA inside the sentence).
_SURELY_OTHER_CARD = frozenset(
    {"didentita", "identita", "bancomat", "sanitaria", "identity", "id", "debit", "health"}
)
_OTHER_CARD_PAIRS = frozenset({("di", "credito"), ("credit", "card"), ("bank", "card")})
# "La tessera nn funziona", "la carta non passa", "my card doesn't work": what to do.
_CARD_KEYWORDS = frozenset({"tessera", "carta", "card"})
# "Carta di credito", "credit card": its "credito" is no more the vouchers' credit than its
# "carta" is the voucher card.
_CREDIT_CARD_PAIRS = frozenset({("di", "credito"), ("credit", "card")})
_CREDIT = frozenset({"credito", "credit"})


def another_card(words: list[str]) -> frozenset[str]:
    """The words of a sentence that name a card other than the voucher card, when it names
    one ("la carta d'identità", "tessera sanitaria", "carta di credito"): its card words,
    and "credito" of a credit card. Read as no keyword (question_of, in_sentence): CARTA
    there would show the voucher card's code, CREDITO the balance. Empty otherwise ("ho
    ancora credito sulla carta?" asks the balance)."""
    said, pairs = frozenset(words), set(pairwise(words))
    if not said & _CARD or not (said & _SURELY_OTHER_CARD or pairs & _OTHER_CARD_PAIRS):
        return frozenset()
    credit = said & _CREDIT if pairs & _CREDIT_CARD_PAIRS else frozenset()
    return (said & _CARD) | credit
