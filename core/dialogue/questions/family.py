"""Someone else in a question: a delegate, a neighbour or someone of the family acting for
the writer or holding the vouchers asked about ("il saldo di mia madre", "mia figlia può
fare la spesa per me?"), and someone of the household who died, moved or was born."""

from __future__ import annotations

from itertools import pairwise

from core.dialogue.questions.application import _VOUCHERS
from core.dialogue.questions.money import _MONEY, _REMAINS
from core.dialogue.questions.spending import _WHERE

# "Posso fare la spesa per conto della mia vicina?", "delega", "il mio vicino può
# controllare il mio saldo?": how someone else may use a person's vouchers (a delegate,
# registered by the office), before any keyword of the sentence.
_DELEGATION = frozenset(
    {"delega", "delegato", "delegata", "delegare", "deleghe", "delegate", "delegation"}
)  # fmt: skip
_ON_BEHALF = {("per", "conto"), ("on", "behalf")}
# A neighbour with the vouchers or the shopping; not "negozi vicino a me" (shops near).
_HELPER = frozenset({"vicino", "vicina", "badante", "neighbour", "neighbor", "caregiver"})
_HELPED_WITH = frozenset({"saldo", "spesa", "buoni", "soldi", "balance", "shopping", "vouchers"})
_NEAR_WHAT = frozenset({"negozi", "negozio", "dove", "shops", "shop", "where"})
# A parent or grandparent named as someone else's ("il saldo di mia madre", "aiutare mia
# mamma con i buoni", "quanto resta a mio padre?"): a son or daughter helping from their own
# phone, who needs a delegation, not "no vouchers for this number, write DOMANDA" (an
# application of their own, where typing the parent's codice fiscale only alarms them).
# Not someone of the writer's household ("vivo con mia madre", "io e mia madre"): that
# is their own application.
_FAMILY = frozenset(
    {"madre", "mamma", "padre", "papa", "babbo", "nonna", "nonno", "suocera", "suocero",
     "genitori", "mother", "mum", "mom", "father", "dad", "parents", "grandmother",
     "grandfather", "grandma", "grandpa", "mothers", "mums", "moms", "fathers", "dads"}
)  # fmt: skip
# A child or spouse is usually of the writer's household, named for the application ("mio
# marito ha perso il lavoro", "vivo con mia figlia"): a delegation only when the sentence
# says so. Either they act for the writer (below), or they hold the vouchers asked about:
# named after "di" or "a" with the balance, the shopping or their use ("il saldo di mio
# marito", "quanto resta a mio figlio?", "posso usare i buoni di mia moglie?"), never after
# "per" ("vorrei i buoni per mia figlia", "comprare il latte per mio figlio": for them).
_KIN = frozenset(
    {"figlio", "figlia", "figli", "figlie", "marito", "moglie", "compagno", "compagna",
     "son", "daughter", "sons", "daughters", "husband", "wife", "husbands", "wifes"}
)  # fmt: skip
_POSSESSIVE = frozenset({"mia", "mio", "miei", "mie", "my"})
_TOGETHER = frozenset({"con", "e", "with", "and", "insieme"})
_BALANCE_WORDS = frozenset({"saldo", "credito", "balance", "credit"})
_FAMILY_ASKS = _HELPED_WITH | _MONEY | _VOUCHERS | {"aiutare", "aiuto", "help", "stato", "status"}
_OF_OR_TO = frozenset(
    {"di", "del", "della", "dei", "delle", "a", "al", "alla", "ai", "alle", "of", "to", "on"}
)  # fmt: skip
# What a delegate does with the vouchers: shop, pay, use them, ask the balance.
_DELEGATES_DO = frozenset(
    {"spesa", "spese", "comprare", "compra", "acquistare", "pagare", "paga", "usare", "usa",
     "usarli", "usarla", "utilizzare", "spendere", "spenderli", "saldo", "credito",
     "controllare", "vedere", "shop", "shopping", "buy", "pay", "use", "spend", "balance",
     "check"}
)  # fmt: skip
_KIN_ASKS = _DELEGATES_DO | _REMAINS | {"soldi", "money"}
# "Mia figlia può fare la spesa per me?", "può andare mio figlio a comprare?", "can my
# husband use my vouchers?", "il mio vicino può fare la spesa per me?": someone of the
# family (a child, a spouse, a parent) or a neighbour acting for the writer, who asks
# whether they may: the holder, told how from her side (DELEGATE_FOR_YOU).
_MAY = frozenset(
    {"puo", "possono", "potrebbe", "potrebbero", "vuole", "vogliono", "vorrebbe",
     "vorrebbero", "can", "could", "may"}
)  # fmt: skip
_FOR_ME = frozenset(
    {("per", "me"), ("al", "posto"), ("posto", "mio"), ("conto", "mio"), ("miei", "buoni"),
     ("mio", "saldo"), ("mia", "tessera"), ("mia", "carta"), ("mio", "credito"),
     ("for", "me"), ("my", "vouchers"), ("my", "balance"), ("my", "card")}
)  # fmt: skip
# Someone of the household who died: "mio marito è morto", "è venuta a mancare mia
# madre", "my husband passed away". Not the phone or the card ("il telefono è morto").
_DIED = frozenset(
    {"morto", "morta", "morti", "deceduto", "deceduta", "scomparso", "scomparsa", "died",
     "dead", "deceased"}
)  # fmt: skip
_DIED_PAIRS = frozenset(
    {("venuto", "a"), ("venuta", "a"), ("passed", "away"), ("ci", "ha"), ("ha", "lasciato")}
)


# Someone who came to live with the writer or left, or was born: "mia figlia vive con me
# adesso", "mio figlio è andato via di casa", "è nato mio nipote", "my son moved out".
_MOVED = frozenset(
    {"nato", "nata", "nati", "trasferito", "trasferita", "separato", "separata", "born",
     "moved"}
)  # fmt: skip
_MOVED_PAIRS = frozenset(
    {("andato", "via"), ("andata", "via"), ("venuto", "a"), ("venuta", "a"), ("e", "tornato"),
     ("e", "tornata"), ("moved", "in"), ("moved", "out")}
)  # fmt: skip
_LIVES = frozenset({"vive", "abita", "lives"})
_WITH_US = frozenset({("con", "me"), ("con", "noi"), ("with", "me"), ("with", "us")})
_RELATIVES = _KIN | _FAMILY | {"nipote", "nipoti", "fratello", "sorella", "grandson",
                               "granddaughter", "brother", "sister", "baby"}  # fmt: skip


def _names_someone(words: list[str]) -> bool:
    """Whether the words name a person of the family ("mio marito", "mia madre")."""
    return any(word in _RELATIVES for word in words)


def _named_apart(words: list[str], at: int) -> bool:
    """Whether the word at `at` names someone of the writer's ("mia madre", "mio figlio")
    as a person apart, not as one of a household they apply with ("vivo con mia madre",
    "io e mio marito")."""
    after_possessive = at > 0 and words[at - 1] in _POSSESSIVE
    return after_possessive and (at < 2 or words[at - 2] not in _TOGETHER)


def _names_a_parent(words: list[str]) -> bool:
    """Whether a sentence names the writer's parent or grandparent as another person ("di
    mia madre"), not as one of a household they apply with ("vivo con mia madre")."""
    return any(word in _FAMILY and _named_apart(words, at) for at, word in enumerate(words))


def _names_kin_as_holder(words: list[str]) -> bool:
    """Whether a sentence names the writer's child or spouse as the one whose vouchers are
    asked about: after "di" or "a" ("il saldo di mio marito", "quanto resta a mia figlia")."""
    return any(
        word in _KIN and _named_apart(words, at) and at >= 2 and words[at - 2] in _OF_OR_TO
        for at, word in enumerate(words)
    )


def _acts_for_writer(words: list[str]) -> bool:
    """Whether a sentence asks if someone of the writer's family (or their neighbour, their
    carer) may shop, pay or ask the balance for them: a child or spouse with "può" ("può
    andare mio figlio a comprare?"), anyone else with "per me" or the writer's own vouchers
    ("mia madre può fare la spesa per me?", "il mio vicino può fare la spesa per me?"). Not
    where to shop ("dove può fare la spesa mio marito?"), nor someone named as whose the
    vouchers are ("posso fare la spesa per mia madre?")."""
    said, pairs = frozenset(words), set(pairwise(words))
    if not said & _DELEGATES_DO or not said & _MAY or said & _WHERE:
        return False
    for at, word in enumerate(words):
        if word not in _KIN | _FAMILY | _HELPER or not _named_apart(words, at):
            continue
        if at >= 2 and words[at - 2] in _OF_OR_TO | {"per", "for"}:
            continue  # "per mia madre", "di mio marito": theirs, not the writer's
        if word in _KIN or pairs & _FOR_ME:
            return True
    return False
