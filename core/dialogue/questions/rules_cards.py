"""question_of's rules for the voucher card: lost (or another card lost), and not working;
and the phone the payment codes go to, lost or stolen."""

from __future__ import annotations

from core.dialogue import failure_words as failing
from core.dialogue.questions.asked import (
    READ_ON,
    Asked,
    ReadOn,
    Request,
)
from core.dialogue.questions.cards import (
    _CANT_FIND,
    _CARD,
    _CARD_KEYWORDS,
    _HANDSET,
    _LOST,
    _OTHER_CARD,
    _OTHER_CARD_PAIRS,
    _SURELY_OTHER_CARD,
    _WALLET,
    AND_CARD,
    WALLET,
)
from core.dialogue.questions.codes_and_calls import _CODE_WORDS as _CODES


def card_lost(asked: Asked) -> Request | ReadOn:
    """The voucher card lost, or another card (a bank's) lost, else READ_ON."""
    said, pairs, keywords = asked.said, asked.pairs, asked.keywords
    lost = said & _LOST or pairs & _CANT_FIND
    if lost and said & _CARD and (said & _SURELY_OTHER_CARD or pairs & _OTHER_CARD_PAIRS):
        return ("other_card", "") if keywords <= _CARD_KEYWORDS | {"credito"} else None
    if lost and said & _HANDSET and said & (_CARD | _WALLET) and not said & _OTHER_CARD:
        # "Ho perso il telefono e la tessera", "mi hanno rubato portafoglio e telefono": the
        # phone's answer and the card's, never only one of them.
        return ("lost_phone", AND_CARD) if keywords <= _CARD_KEYWORDS else None
    if lost and said & _CARD and not said & _OTHER_CARD:
        return ("lost_card", "") if keywords <= _CARD_KEYWORDS else None
    if lost and said & _WALLET and not said & (_HANDSET | _OTHER_CARD | _CODES):
        # "Ho perso il portafoglio", "mi hanno rubato la borsa": what becomes of the vouchers,
        # and of the card if she has one (it was likely in it).
        return ("lost_card", WALLET) if not keywords else None
    if lost and said & _HANDSET and not said & (_CARD | _CODES):
        # "Ho perso il telefono", "mi hanno rubato il cellulare": the codes go to it.
        return ("lost_phone", "") if not keywords else None
    return READ_ON


def card_not_working(asked: Asked) -> Request | ReadOn:
    """The voucher card not working (read without another card's words), else READ_ON."""
    said, keywords = asked.said, asked.keywords
    card_fails = (said & failing.CARD_WORKS and said & failing.NEGATION) or said & failing.REFUSED
    if said & _CARD and card_fails and not said & _LOST:
        return ("card_trouble", "") if keywords <= _CARD_KEYWORDS else None
    return READ_ON
