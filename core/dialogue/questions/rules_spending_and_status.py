"""question_of's last rules: where to shop and what to buy, how to pay, the application's
status, applying, a kind of shop named alone, and a greeting with the writer's name."""

from __future__ import annotations

from core.dialogue.questions.application import (
    _APPLICATION,
    _ARRIVED,
    _GIVEN,
    _PROGRESS,
    _STATUS_KEYWORDS,
    _VOUCHERS,
    _WANT,
)
from core.dialogue.questions.asked import (
    _APPLY_KEYWORDS,
    _SHOPS_KEYWORDS,
    READ_ON,
    Asked,
    ReadOn,
    Request,
)
from core.dialogue.questions.cards import (
    _CARD_KEYWORDS,
)
from core.dialogue.questions.courtesy import (
    _GREETINGS,
    _introduces_herself,
)
from core.dialogue.questions.money import (
    _CASH,
)
from core.dialogue.questions.spending import (
    _BUY,
    _HOW,
    _NEAR,
    _PAYING,
    _SHOPS_OR_SHOPPING,
    _SPEND,
    _WHAT_OR_MAY,
    _WHERE,
)
from core.domain.shops import searched_category

# The search "near me" stands for (shop_finder.asks_near reads it so).
NEAR_ME = "vicino"

# "Dove si trova l'ufficio?", "dove sono i servizi sociali": where the office is, which
# UFFICIO says ("trova" would read it as a shop search). "Comune" is left out: "dove
# spendo i buoni del comune" asks for the shops.
_OFFICE_PLACE = frozenset(
    {"ufficio", "lufficio", "dellufficio", "allufficio", "uffici", "municipio", "sociali", "office"}
)
_ADDRESS = frozenset({"indirizzo", "address"})


def spending_or_status(asked: Asked) -> Request | ReadOn:
    """Where to shop, what to buy, how to pay, the status or applying (the rules in their
    order), None where a rule's other keywords leave it to in_sentence, else READ_ON."""
    folded, every = asked.folded, asked.every
    words, said, keywords = asked.words, asked.said, asked.keywords
    # "Dove posso comprare il pane?": the bakeries, not the question of what to search.
    goods = [
        part
        for word in folded
        for part in word.split("'")  # "un'alimentari" (plain_words joins it)
        if searched_category(part) is not None
    ]
    if said & (_WHERE | _ADDRESS) and said & _OFFICE_PLACE and not goods and not keywords:
        return "office", ""
    if said & _NEAR and said & _SHOPS_OR_SHOPPING and not goods:
        # "C'è un negozio vicino a me?": shops near her, as NEGOZI VICINO finds them.
        return ("shops", NEAR_ME) if keywords <= _SHOPS_KEYWORDS else None
    # "Dove sta il forno?", "dov'è la farmacia?": where a kind of shop is, a search too.
    if said & _WHERE and (said & _SPEND or goods):
        if not keywords <= _SHOPS_KEYWORDS:
            return None
        return "shops", goods[0] if goods else ""
    if said & _BUY and said & _WHAT_OR_MAY and keywords <= _CARD_KEYWORDS:
        return "what_to_buy", ""
    if said & _HOW and said & _PAYING:
        # With the card ("how do I pay with the card?") CARTA answers, as before.
        return ("how_to_pay", "") if not keywords else None
    if said & _PROGRESS and said & _APPLICATION and keywords <= _STATUS_KEYWORDS:
        return "status", ""
    if said & _GIVEN and said & _VOUCHERS and keywords <= _STATUS_KEYWORDS:
        return "status", ""
    if said & _ARRIVED and said & _CASH and keywords <= {"credito"}:
        # "Mi sono arrivati i soldi?": a citizen's status, a shop's reimbursements (run).
        return "reimbursement", ""
    if said & _VOUCHERS and said & _WANT and keywords <= _APPLY_KEYWORDS:
        return "apply", ""
    if len(words) == 1 and searched_category(words[0]) is not None:
        # "Farmacia", "alimentari?", "pane" alone, with nothing asked: the shop search for
        # it (it only reads), not "not understood".
        return "shops", words[0]
    if every & _GREETINGS and _introduces_herself(words):
        # "Ciao sono Maria", "buongiorno sono la signora Bianchi": a greeting with her name,
        # answered as the greeting alone (the welcome and the menu), not "not understood".
        return "greeting", ""
    return READ_ON
