"""Codes, calls and messages a person receives: a payment code that came or did not, a code
or PIN forgotten, a new phone number, a strange message or call (a scam?), fear, and STOP
asked in a sentence."""

from __future__ import annotations

# "Non voglio più messaggi", "stop non mandatemi più sms": STOP is a compliance word that
# acts only alone, so a sentence asking it is told how.
# "Mi è arrivato un codice, cosa devo fare?", "I got a code": what a code received is for
# (a payment waiting for it, the request left at its code step, else nothing to do with
# it). Not "non mi è arrivato il codice", nor the codice fiscale.
_CODE_WORDS = frozenset({"codice", "codici", "code", "codes"})
_CODE_CAME = frozenset(
    {"arrivato", "arrivata", "arrivati", "arriva", "arrivano", "ricevuto", "ricevuti",
     "giunto", "mandato", "mandati", "inviato", "inviati", "received", "got", "came",
     "arrived", "arrive", "arrives", "sent"}
)  # fmt: skip
_NOT_CAME = frozenset({"non", "mai", "nessun", "not", "didnt", "havent", "hasnt", "never"})
# "Me so scordato er codice", "ho dimenticato il pin", "non ricordo il codice", "I forgot
# the code": no code is to be remembered (each payment's comes by SMS); a card's, the office.
_FORGOT = frozenset(
    {"scordato", "scordata", "scordo", "dimenticato", "dimenticata", "dimentico", "forgot",
     "forgotten", "forget"}
)  # fmt: skip
_CANT_REMEMBER = frozenset({("dont", "remember"), ("cant", "remember"), ("not", "remember")})
_PIN = frozenset({"pin"})
# "Ho cambiato numero", "ho un telefono nuovo", "I changed my number": only the office
# records a new number (identity-and-consent.md), never a message from it.
_CHANGED = frozenset(
    {"cambiato", "cambiata", "cambiare", "cambio", "nuovo", "nuova", "changed", "change", "new"}
)
_PHONE_WORDS = frozenset({"numero", "telefono", "cellulare", "sim", "number", "phone"})
# "A chi devo dare il codice?", "il codice a chi lo do": to the cashier only, when paying;
# the same answer as a code that came (the payment waiting for it, or nothing waits).
_WHO = frozenset({"chi", "who"})
_TELL = frozenset(
    {"dare", "do", "dico", "dire", "dato", "detto", "darlo", "dirlo", "give", "tell"}
)  # fmt: skip
# "È una truffa?", "siete dei truffatori?", "is this a scam?".
_SCAM = frozenset(
    {"truffa", "truffe", "truffatori", "truffatore", "truffaldini", "imbroglio", "imbroglioni",
     "fregatura", "raggiro", "scam", "scams", "scammers", "fraud", "phishing"}
)  # fmt: skip
# "Ho paura", "sono preoccupata", "I'm scared", said alone or nearly: what this service is
# and that it never asks for money, as to "è una truffa?".
_FEAR = frozenset(
    {"paura", "spaventata", "spaventato", "preoccupata", "preoccupato", "afraid", "scared",
     "worried"}
)  # fmt: skip
_FEAR_WORDS = 4
_MESSAGES = frozenset({"messaggi", "messaggio", "sms", "messages", "texts"})
# "Non arriva l'sms", "the text did not come": the message that brings a payment code.
_THE_SMS = _MESSAGES | frozenset({"lsms", "messaggino", "message", "text"})
_NO_MORE = frozenset({"stop", "basta", "piu", "smettere", "smettete", "more", "unsubscribe"})
# "Ho ricevuto un messaggio strano", "una chiamata sospetta", "a weird text": the scam's
# answer (_MESSAGES, and a call or one message).
_CALLS = frozenset({"chiamata", "telefonata", "chiamato", "call", "called", "message", "text"})
_STRANGE = frozenset(
    {"strano", "strana", "strani", "strane", "sospetto", "sospetta", "sospetti", "weird",
     "strange", "suspicious", "odd"}
)  # fmt: skip
