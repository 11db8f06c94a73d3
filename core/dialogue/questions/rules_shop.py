"""question_of's rules for a shop's own questions: its statement, the town's
reimbursements, a cashier added or removed, a payment undone, a customer to charge."""

from __future__ import annotations

from core.dialogue.questions.asked import (
    READ_ON,
    Asked,
    ReadOn,
    Request,
)
from core.dialogue.questions.money import (
    _HOW_MUCH,
)
from core.dialogue.questions.shopkeeper import (
    _ADD,
    _CANT,
    _CASHIER,
    _CASHIERS,
    _COMES,
    _GET_IN,
    _LAST,
    _MANY_CASHIERS,
    _MONTH,
    _NEW_CASHIER,
    _NEW_CHARGE,
    _OWES,
    _PAID,
    _REMOVE,
    _STATEMENT_WORDS,
    _TAKINGS,
    _THE_TOWN,
    _TODAY,
    _TOWN_PAYS,
    _WHAT_COMES,
    _WHEN,
    _WHICH_ONES,
    _YOU_OWE,
    CASHIER_CANT_JOIN,
    CHARGE_IN_WORDS,
    LAST_PAYMENT,
    _undoes_a_payment,
)
from core.dialogue.words import (
    customer_to_charge,
    month_named,
)


def shop_asks(asked: Asked) -> Request | ReadOn:
    """What a shop's chat asks in words (the rules in their order), None where a rule's
    other keywords leave it to in_sentence, else READ_ON."""
    words, said, pairs, keywords = asked.words, asked.said, asked.pairs, asked.keywords
    if pairs & {(last, paid) for last in _LAST for paid in _PAID}:
        return (LAST_PAYMENT, "") if not keywords else None
    if pairs & _NEW_CHARGE:
        return (CHARGE_IN_WORDS, "") if not keywords else None
    if said & (_TAKINGS | _STATEMENT_WORDS):
        month = month_named(words)
        if month is not None:
            return "statement", str(month)  # "il rendiconto di ottobre": that month's
        if said & _TODAY:
            return "statement", "oggi"
        if said & _TAKINGS and not said & _STATEMENT_WORDS:
            # "INCASSO", "quanto ha incassato Mario?": today's takings, by till for the
            # owner; "gli incassi del mese" this month's.
            return "statement", "mese" if said & _MONTH else "oggi"
        return "statement", ""
    if said & _WHEN and said & _TOWN_PAYS:
        return "reimbursement", ""
    if said & _WHEN and said & _COMES and said & _WHAT_COMES:
        return ("reimbursement", "") if not keywords else None
    if said & _HOW_MUCH and ((said & _OWES and said & _THE_TOWN) or said & _YOU_OWE):
        return "reimbursement", ""  # "quanto mi deve il comune?": what is still to reimburse
    if said & _CASHIER and said & _GET_IN and said & _CANT:
        return CASHIER_CANT_JOIN, ""
    if said & _MANY_CASHIERS and said & _WHICH_ONES and not said & _REMOVE:
        return "cashiers", ""
    if (said & _CASHIER and said & _ADD) or pairs & _NEW_CASHIER:
        return "cashier", ""
    if said & _CASHIERS and said & _REMOVE:
        return "cashiers", ""
    if _undoes_a_payment(said):
        return ("undo_payment", "") if not keywords else None
    if customer_to_charge(words):
        return (CHARGE_IN_WORDS, "") if not keywords else None
    return READ_ON
