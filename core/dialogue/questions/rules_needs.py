"""question_of's rules for what a citizen needs or fears: a code forgotten, late or failing,
who may apply and how much is given, a new number, a scam, the household changed, a shop
refusing the vouchers, bills, a payment refused, money short, a lost job, until when."""

from __future__ import annotations

from core.dialogue import failure_words as failing
from core.dialogue.questions.application import (
    _APPLYING,
    _ENTITLED,
    _GIVEN_OUT,
    _HAD,
    _MAY_APPLY,
    _PROGRESS,
    _STATUS_KEYWORDS,
    _TO_APPLY,
    _TO_GET,
    _VOUCHERS,
    _WANT,
    _WINDOW_EDGE,
)
from core.dialogue.questions.asked import (
    _APPLY_KEYWORDS,
    _BALANCE_KEYWORDS,
    READ_ON,
    Asked,
    ReadOn,
    Request,
)
from core.dialogue.questions.cards import (
    _CARD,
    _CARD_KEYWORDS,
    _LOST,
)
from core.dialogue.questions.codes_and_calls import (
    _CALLS,
    _CANT_REMEMBER,
    _CHANGED,
    _CODE_CAME,
    _CODE_WORDS,
    _FEAR,
    _FEAR_WORDS,
    _FORGOT,
    _MESSAGES,
    _NOT_CAME,
    _PHONE_WORDS,
    _PIN,
    _SCAM,
    _STRANGE,
    _TELL,
    _THE_SMS,
    _WHO,
)
from core.dialogue.questions.family import (
    _DIED,
    _DIED_PAIRS,
    _LIVES,
    _MOVED,
    _MOVED_PAIRS,
    _WITH_US,
    _names_someone,
)
from core.dialogue.questions.money import (
    _BILLS,
    _CASH,
    _CUT_OFF,
    _ENGLISH_HOW_MUCH,
    _ENOUGH,
    _HOW_MUCH,
    _INSUFFICIENT,
    _JOBLESS,
    _NEGATION,
    _NOT_HAVE,
    _TO_PAY_BILLS,
    _UTILITIES,
    _WITHOUT,
    _WORK,
    _payment_refused,
)
from core.dialogue.questions.shopkeeper import (
    _A_SHOP,
    _CASHIER,
    _WHEN,
)
from core.dialogue.questions.spending import (
    _EXPIRE,
    _NOT_THE_VOUCHERS,
    _SPEND,
    _SPENT_MONEY,
    _UNTIL_WHEN,
)


def need_or_worry(asked: Asked) -> Request | ReadOn:
    """The need or the worry a sentence says (the rules in their order), None where a
    rule's other keywords leave it to in_sentence, else READ_ON."""
    words, said, pairs, keywords = asked.words, asked.said, asked.pairs, asked.keywords
    forgot = said & _FORGOT or {"non", "ricordo"} <= said or pairs & _CANT_REMEMBER
    if forgot and said & (_CODE_WORDS | _PIN) and not said & {"fiscale"}:
        return ("forgot_code", "") if keywords <= _CARD_KEYWORDS else None
    how_much_given = said & _HOW_MUCH or pairs.intersection(_ENGLISH_HOW_MUCH)
    if how_much_given and said & _TO_GET and not said & (_NEGATION | _HAD):
        # Before who may apply: "a quanto ho diritto?" asks how much, not who.
        return ("how_much_given", "") if not keywords else None
    if pairs & _ENTITLED or (said & _WHO and said & _MAY_APPLY and said & (_VOUCHERS | {"apply"})):
        return ("who_can_apply", "") if keywords <= _APPLY_KEYWORDS else None
    if how_much_given and said & _GIVEN_OUT and not said & _NEGATION:
        return ("how_much_given", "") if not keywords else None
    told = said & _WHO and said & _TELL
    if said & _CODE_WORDS and (said & _CODE_CAME or told) and not said & (_NOT_CAME | {"fiscale"}):
        return ("code_came", "") if not keywords else None
    if said & _CHANGED and said & _PHONE_WORDS and not said & (_CODE_WORDS | _CASHIER):
        return ("new_number", "") if not keywords else None
    if said & _SCAM or (said & (_MESSAGES | _CALLS) and said & _STRANGE):
        return "scam", ""  # "ho ricevuto un messaggio strano": codes to the cashier only
    if said & _FEAR and len(words) <= _FEAR_WORDS and not keywords:
        return "scam", ""  # "ho paura": what this is, and that it never asks for money
    moved = said & _MOVED or pairs & _MOVED_PAIRS or (said & _LIVES and pairs & _WITH_US)
    wants_vouchers = said & _VOUCHERS and said & _WANT  # "… e vorrei i buoni": applying
    changed = said & _DIED or pairs & _DIED_PAIRS or moved
    if _names_someone(words) and changed and not wants_vouchers:
        return ("household_changed", "") if not keywords else None
    code_fails = (said & failing.CARD_WORKS and said & failing.NEGATION) or said & (
        failing.REFUSED | failing.WRONG
    )
    # "Il codice non mi arriva", "I didn't get the code", "non arriva l'sms": a payment code
    # late (whether a payment waits for it, and where it went); refused or failing, how a
    # code works and that PAGA again sends another.
    not_came = said & (_CODE_CAME | {"get"}) and said & _NOT_CAME
    if said & _CODE_WORDS and (code_fails or not_came) and not said & (_CARD | {"fiscale", "pin"}):
        name = "code_trouble" if code_fails else "code_late"
        return (name, "") if not keywords else None
    if said & _THE_SMS and not_came and not said & (_CARD | {"fiscale", "pin"}):
        return ("code_late", "") if not keywords else None
    refuses = (said & failing.REFUSE and said & failing.NEGATION) or said & failing.REFUSED
    if said & _A_SHOP and refuses and said & (_VOUCHERS | {"li", "them"}) and not keywords:
        return "shop_refuses", ""
    if said & _BILLS or (said & _UTILITIES and said & (_CUT_OFF | _TO_PAY_BILLS)):
        # "Mi hanno tagliato la luce", "non riesco a pagare l'affitto": what the vouchers
        # are for (not bills), how to apply or her status, and the office for other help.
        return ("bills", "") if keywords <= _APPLY_KEYWORDS | _STATUS_KEYWORDS else None
    if _payment_refused(said, pairs) and not said & (_CODE_WORDS | _CARD):
        # "Perché non posso pagare?", "mi hanno rifiutato il buono": why, from her own
        # state (a code's or a card's trouble keeps its own answer, below and above).
        return ("why_refused", "") if keywords <= _BALANCE_KEYWORDS else None
    short = said & _INSUFFICIENT or (said & _ENOUGH and said & (_NEGATION | _NOT_HAVE))
    if short and said & _CASH:
        return ("not_enough", "") if keywords <= _BALANCE_KEYWORDS else None
    jobless = said & _JOBLESS or (said & _WORK and said & (_LOST | _WITHOUT))
    if jobless and not wants_vouchers:  # "… ha perso il lavoro, vorrei i buoni": applying
        return ("job_lost", "") if keywords <= _APPLY_KEYWORDS | _STATUS_KEYWORDS else None
    until_when = pairs & _UNTIL_WHEN and said & _WHEN and said & _SPEND
    if (said & _EXPIRE or until_when) and said & _SPENT_MONEY and not said & _NOT_THE_VOUCHERS:
        return ("expiry", "") if keywords <= _BALANCE_KEYWORDS else None
    edge = said & _WINDOW_EDGE or pairs & _UNTIL_WHEN or (said & _WHEN and said & _TO_APPLY)
    if said & _APPLYING and edge and not said & _PROGRESS:
        return ("window", "") if keywords <= _APPLY_KEYWORDS else None
    return READ_ON
