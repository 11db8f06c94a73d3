"""question_of's rules for a delegate or the family asking, the price of the vouchers, and
the balance asked in words."""

from __future__ import annotations

from core.dialogue.questions.application import (
    _COST,
    _FREE,
    _PAID_FOR,
    _PRICE_KEYWORDS,
    _PRICED,
    _TO_PAY,
)
from core.dialogue.questions.asked import (
    _BALANCE_KEYWORDS,
    READ_ON,
    Asked,
    ReadOn,
    Request,
)
from core.dialogue.questions.family import (
    _BALANCE_WORDS,
    _DELEGATION,
    _FAMILY_ASKS,
    _HELPED_WITH,
    _HELPER,
    _KIN_ASKS,
    _NEAR_WHAT,
    _ON_BEHALF,
    _acts_for_writer,
    _names_a_parent,
    _names_kin_as_holder,
)
from core.dialogue.questions.money import (
    _ANYTHING,
    _CASH,
    _ENGLISH_HOW_MUCH,
    _HOW_MUCH,
    _I_HAVE,
    _MONEY,
    _NEGATION,
    _REMAINS,
    _RUN_OUT,
    _STILL,
    _VOUCHER_WORDS,
    _penniless,
)


def family_or_money(asked: Asked) -> Request | ReadOn:
    """A delegation, the price or the balance asked in words (the rules in their order),
    None where a rule's other keywords leave it to in_sentence, else READ_ON."""
    words, said, pairs, keywords = asked.words, asked.said, asked.pairs, asked.keywords
    if _acts_for_writer(words):
        return "delegation", "for_you"
    helper = said & _HELPER and said & _HELPED_WITH and not said & _NEAR_WHAT
    if said & _DELEGATION or pairs & _ON_BEHALF or helper:
        return "delegation", ""
    if _names_a_parent(words) and said & _FAMILY_ASKS:
        # A registered delegate asking the balance gets it (run: "balance").
        how_much = said & _HOW_MUCH and said & _MONEY
        asks_balance = how_much or said & (_BALANCE_WORDS | _REMAINS)
        return "delegation", "balance" if asks_balance else ""
    if _names_kin_as_holder(words) and said & _KIN_ASKS:
        asks_balance = said & (_BALANCE_WORDS | _REMAINS)
        return "delegation", "balance" if asks_balance else ""
    if (said & _COST and said & _PRICED) or (pairs & _TO_PAY and said & _PAID_FOR):
        return ("price", "") if keywords <= _PRICE_KEYWORDS else None
    if said & _FREE:
        return ("price", "") if keywords <= _PRICE_KEYWORDS else None
    if (said & _HOW_MUCH or pairs.intersection(_ENGLISH_HOW_MUCH)) and said & _MONEY:
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    if said & _STILL and said & _CASH and not said & _NEGATION:
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    if said & _STILL and said & _VOUCHER_WORDS and said & _I_HAVE and not said & _NEGATION:
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    run_out = said & _CASH and (
        {"non", "piu"} <= said or pairs & _RUN_OUT or {"no", "left"} <= said
    )
    if (said & _REMAINS and said & _ANYTHING) or run_out or _penniless(said, pairs):
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    return READ_ON
