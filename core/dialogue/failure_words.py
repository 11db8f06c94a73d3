"""The words that say a code or a card failed, or that someone refused it: one vocabulary
for the two readings of them, the questions in plain words (questions.question_of: "la
tessera non passa", "il codice è sbagliato", "il negozio non accetta i buoni") and a code
step's (words.says_the_code_fails: "il cliente dice che il codice non funziona").

Each reading keeps its own set, built here from the shared words: a card "passa" or is
"accettata", a code "vale" or is "scaduto"; the sets are the ones each reading always had."""

from __future__ import annotations

# It works, said of a code or a card (with a negation, it does not).
WORKS = frozenset({"funziona", "va", "work", "works"})
# A shop or a cashier takes it ("prende", "accetta"): a card that is taken works.
ACCEPTS = frozenset({"accetta", "accettano", "prende"})
CARD_WORKS = WORKS | ACCEPTS | {"funzionano", "passa", "legge", "working"}
CODE_WORKS = WORKS | {"funzionato", "vale", "valido", "worked", "valid"}
# "Non", "doesn't": a code's negations; a card's and a shop's have "don't" too ("I don't
# know why the card doesn't work", "they don't take them").
CODE_NEGATION = frozenset({"non", "not", "doesnt", "didnt", "isnt", "wont"})
NEGATION = CODE_NEGATION | {"dont"}
# Refused, wrong or expired, whatever the negation.
REFUSED = frozenset({"rifiutata", "rifiutato", "rifiuta", "rifiutano", "refused", "rejected"})
WRONG = frozenset({"sbagliato", "errato", "invalido", "wrong", "invalid"})
EXPIRED = frozenset({"scaduto", "expired"})
CODE_FAILS = WRONG | EXPIRED | {"rifiutato", "refused", "rejected"}
# What a shop that refuses the vouchers does not do ("il negozio non li accetta", "la
# cassiera non li vuole").
REFUSE = ACCEPTS | {
    "accettato", "prendono", "vuole", "vogliono", "accept", "accepts", "accepted", "take",
    "takes", "want", "wants",
}  # fmt: skip
