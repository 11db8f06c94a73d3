"""A shop named in a message with nothing asked: the shops where vouchers are spent
(NEGOZI), or a shopkeeper's own shop to register. "negozi" and "dove posso spendere" are
NEGOZI's (commands.parse, questions.question_of); "negozio" alone could be either, and is
asked; "ho un negozio", "voglio registrare il mio negozio" are a shopkeeper's; "ho un
codice cassiere" a cashier's, joining a shop (INVITO)."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from core.dialogue.words.text import as_said, has_digits, plain_words

ShopSaid = Literal["ask", "register", "shopkeeper", "join", "new_cashier_code"]

# The word alone, or with an article or "mio": a citizen after the shops, or a shopkeeper
# after registering, as likely. Asked, with a button for each.
_EITHER = frozenset(
    {("negozio",), ("il", "negozio"), ("un", "negozio"), ("il", "mio", "negozio"),
     ("mio", "negozio"), ("my", "shop"), ("a", "shop")}
)  # fmt: skip
# What a shopkeeper calls the shop.
_A_SHOP = frozenset({"negozio", "attivita", "esercizio", "bottega", "shop", "store", "business"})
_ARTICLES = frozenset({"un", "una", "il", "la", "mio", "mia", "a", "an", "my"})
# "Ho un negozio (di alimentari)", "ho una attività", "I have a shop", "I own a shop".
_HAVE = frozenset({("ho",), ("i", "have"), ("i", "own"), ("ive", "got")})
# Registering it: "voglio registrare il mio negozio", "come iscrivo la mia attività",
# "vorrei aderire col negozio", "register my shop".
_REGISTER = frozenset(
    {"registrare", "registro", "registrarmi", "registrarlo", "registrarla", "iscrivere",
     "iscrivo", "iscrivermi", "iscriverlo", "iscriverla", "aderire", "aderisco",
     "convenzionare", "convenzionarmi", "convenzionarlo", "register", "registering",
     "enrol", "enroll", "signup"}
)  # fmt: skip
# "Ho un codice cassiere", "mi hanno dato il codice cassiere", "I have a cashier code":
# INVITO, which asks for it (the code itself in the message is INVITO with it, see
# otp.invite_code_in).
_CASHIER_CODE = frozenset(
    {("codice", "cassiere"), ("codice", "cassa"), ("codice", "invito"), ("cashier", "code"),
     ("invite", "code")}
)  # fmt: skip
# Asking for one to be made: "nuovo codice cassiere", "crea un codice cassiere": the
# owner's CASSIERE (which tells anyone else how a cashier joins), unless it was given
# ("ho un nuovo codice cassiere", "mi hanno dato …": INVITO).
_MAKE_ONE = frozenset(
    {"nuovo", "nuova", "crea", "crei", "creare", "creami", "genera", "generare", "new",
     "create", "make"}
)  # fmt: skip
_GIVEN = frozenset({"ho", "dato", "ricevuto", "have", "got", "received", "given"})
# Wanting one is asking for one to be made: "vorrei un codice cassiere", "mi serve un
# codice per il cassiere", "ho bisogno di un codice cassiere" (not "ho" a code), "I need a
# cashier code". An owner was asked for the code it did not have.
_WANT = frozenset(
    {"vorrei", "voglio", "volevo", "serve", "servirebbe", "bisogno", "dammi", "datemi",
     "mandami", "fammi", "need", "want", "like", "give", "send"}
)  # fmt: skip
_HAVING = frozenset({"ho", "have"})
# Wanting to join with it ("vorrei entrare, ho il codice cassiere"): INVITO.
_TO_JOIN = frozenset({"entrare", "unirmi", "accedere", "join", "enter"})
# "Un codice per il cassiere", "a code for my cashier": the words between the code and
# the cashier.
_CODE = frozenset({"codice", "code"})
_FOR = frozenset({"per", "for"})
_BEFORE_A_CASHIER = frozenset(
    {"il", "la", "lo", "un", "una", "mio", "mia", "nuovo", "nuova", "a", "the", "my", "new"}
)
_A_CASHIER = frozenset({"cassiere", "cassiera", "cashier"})
# Not having it: "il codice cassiere non funziona", "ho perso il codice cassiere" are
# no request to join (the help answers them).
_TROUBLE = frozenset(
    {"non", "perso", "dimenticato", "scaduto", "sbagliato", "not", "lost", "forgot", "expired",
     "wrong", "doesnt", "dont"}
)  # fmt: skip
# "Sono un negoziante", "sono la titolare", "I am a shopkeeper": what NEGOZIANTE answers.
_I_AM = frozenset({("sono",), ("i", "am"), ("im",)})
_SHOPKEEPER = frozenset(
    {"negoziante", "commerciante", "esercente", "titolare", "shopkeeper", "shop owner",
     "titolare del negozio", "titolare di un negozio", "proprietario del negozio",
     "proprietaria del negozio"}
)  # fmt: skip


def _code_for_a_cashier(words: list[str]) -> bool:
    """Whether the words say a code for a cashier ("codice per il cassiere", "code for my
    new cashier")."""
    for at, word in enumerate(words[:-2]):
        if word in _CODE and words[at + 1] in _FOR:
            rest = words[at + 2 :]
            while rest and rest[0] in _BEFORE_A_CASHIER:
                rest = rest[1:]
            if rest and rest[0] in _A_CASHIER:
                return True
    return False


def _after(words: list[str], leads: frozenset[tuple[str, ...]]) -> list[str] | None:
    """The words after one of `leads` the message starts with, articles left out; None
    when it starts with none."""
    for lead in leads:
        if tuple(words[: len(lead)]) == lead:
            rest = words[len(lead) :]
            while rest and rest[0] in _ARTICLES:
                rest = rest[1:]
            return rest
    return None


def shop_or_shops(text: str | None) -> ShopSaid | None:
    """What a message says of a shop: "ask" (which of the two is meant), "register" (the
    writer's shop, to register), "shopkeeper" (the writer is one: register, or join with a
    cashier code), "join" (with a cashier code), "new_cashier_code" (one to be made),
    else None."""
    words = as_said(plain_words(text))
    if not words or has_digits(words):
        return None
    if tuple(words) in _EITHER:
        return "ask"
    said = set(words)
    if said & _REGISTER and said & _A_SHOP:
        return "register"
    owned = _after(words, _HAVE)
    if owned and owned[0] in _A_SHOP:
        return "register"
    wants = bool(said & _WANT) and not said & _TO_JOIN
    given = said & (_GIVEN - _HAVING) or (said & _HAVING and not wants)
    if _code_for_a_cashier(words) and wants and not said & (_TROUBLE | _GIVEN - _HAVING):
        return "new_cashier_code"
    if set(pairwise(words)) & _CASHIER_CODE and not said & _TROUBLE:
        return "new_cashier_code" if said & _MAKE_ONE | _WANT and not given else "join"
    being = _after(words, _I_AM)
    if being and " ".join(being) in _SHOPKEEPER:
        return "shopkeeper"
    return None
