"""Questions in plain words, read when nothing is being asked: question_of reads the counts
and the courtesy said alone, then checks its groups of rules in order (the rules_ sibling
modules, over the sets of the word modules); shop_question is the part a till's question
reads; unasked adds a payment refused in words and the keyword of a sentence. commands
runs what they name."""

from __future__ import annotations

import re
from collections.abc import Callable

from core.dialogue.context import ACKNOWLEDGED, DECLINED
from core.dialogue.questions.asked import READ_ON, Asked, ReadOn, Request
from core.dialogue.questions.cards import (
    another_card,
)
from core.dialogue.questions.courtesy import (
    _ACKNOWLEDGING_SIGNS,
    _GREETINGS,
    _THANKING_SIGNS,
    _THANKS,
    _YOURE_WELCOME,
    _signs,
)
from core.dialogue.questions.household_size import (
    _SIZE_ALONE,
    CHILDREN_ARG,
    _children,
    _household_size,
    _without_counts,
)
from core.dialogue.questions.rules_cards import card_lost, card_not_working
from core.dialogue.questions.rules_courtesy import courtesy_or_stop
from core.dialogue.questions.rules_family_and_money import family_or_money
from core.dialogue.questions.rules_needs import need_or_worry
from core.dialogue.questions.rules_shop import shop_asks
from core.dialogue.questions.rules_spending_and_status import spending_or_status
from core.dialogue.questions.sentence import in_sentence
from core.dialogue.questions.shopkeeper import CASHIER_CANT_JOIN, CLOSE_TILL, LAST_PAYMENT
from core.dialogue.refusal_words import (
    CONFIRM_NOT_ME,
    REFUSE_PAYMENT,
    not_me_challenge_of,
    refusal_of,
)
from core.dialogue.words import (
    ShopSaid,
    as_said,
    clean,
    fold,
    has_digits,
    is_currency,
    plain_words,
    shop_or_shops,
)

# Questions in plain words read by the words they hold, when nothing is being asked (see
# commands.of_answer): a handful of deterministic rules over small sets, checked in this
# order, each naming the keywords it may contain (another keyword in the sentence leaves it to
# in_sentence: "vorrei sapere lo stato della domanda" is no application). None of them
# leads to a payment (a charge said in words only asks who pays, as PAGA alone), and a
# message with a digit is never one of them, but for a household size after the amounts'
# question ("quanto danno a una famiglia di 4?", _household_size).
# Longer than a question: a story, read by its one keyword if any (in_sentence). An
# elderly person introduces herself first ("sono la signora Maria, vorrei sapere come si
# fa per avere i buoni spesa": 14 words).
_LONGEST_QUESTION = 16


def _question_asked(text: str | None) -> str | None:
    """In a story longer than a question, the question it ends with: the last sentence
    before a "?", and of a long one its last _LONGEST_QUESTION words ("Buongiorno, mi
    chiamo Fatima, ho tre bambini e mio marito non lavora da marzo. Come posso avere i
    buoni spesa?" asks "Come posso avere i buoni spesa"). None without a "?": a story
    that asks nothing is read by its one keyword (in_sentence)."""
    before, mark, _after = clean(text).rpartition("?")
    if not mark:
        return None
    sentence = re.split(r"[.!?;\n]", before)[-1].split()
    return " ".join(sentence[-_LONGEST_QUESTION:]) or None


def question_of(text: str | None) -> tuple[str, str] | None:
    """The request a question in plain words makes (its groups of rules, in order, in the
    rules_ modules, over the word sets of the package's modules: courtesy, household_size,
    money, family, application, spending, shopkeeper, codes_and_calls, cards; the keywords
    each rule may hold in asked), else None."""
    folded = fold(text).split()
    # Every word, courtesy included, without the punctuation after it ("grazie, buona…").
    every = {word.strip(",.'") for word in folded}
    said_words = as_said(plain_words(text))  # "quant'è che c'ho sui bbuoni?"
    size, without_size = _household_size(said_words)
    if size is not None and ("€" in (text or "") or any(map(is_currency, said_words))):
        return None  # "famiglia di 5 euro": an amount, no household size
    if size is not None:
        # "Quanto danno a una famiglia di 4?": only that question takes the number, or
        # the size said alone ("siamo in 4", "famiglia di 3"), which asks the same.
        asked = question_of(" ".join(without_size))
        alone = set(without_size) <= _SIZE_ALONE
        return ("how_much_given", str(size)) if asked == ("how_much_given", "") or alone else None
    children, without_children = _children(said_words)
    if children is not None and question_of(" ".join(without_children)) == ("how_much_given", ""):
        # "Ho 3 figli quanto mi danno": the household is her and them at least (other
        # questions read on: "ho 3 figli, come faccio a chiedere i buoni?" applies).
        return "how_much_given", f"{CHILDREN_ARG}{children}"
    words = _without_counts(said_words)
    if not words:
        # Only courtesy words: thanks, or a greeting (the welcome and the menu).
        signs = _signs(text)
        if every & _THANKS or signs & _THANKING_SIGNS:
            return "thanks", ""  # "🙏" alone too
        if signs and signs <= _ACKNOWLEDGING_SIGNS and not every & _GREETINGS:
            return ACKNOWLEDGED, ""  # "👍", "👌": as "ok"
        if every & _YOURE_WELCOME and not every & _GREETINGS:
            # "Prego!" after an answer: a courtesy, answered like a no to a suggestion ("All
            # right." and the menu), not "I did not understand".
            return DECLINED, ""
        return ("greeting", "") if every & _GREETINGS else None
    if len(words) > _LONGEST_QUESTION:
        last = _question_asked(text)
        return question_of(last) if last is not None else None
    if has_digits(words):
        return None
    sentence = Asked.of(folded, every, words)
    verdict = _first_answer(_BEFORE_ANOTHER_CARD, sentence)
    if verdict is not READ_ON:
        return verdict
    other_card = another_card(words)
    if other_card:
        # "Devo portare la carta d'identità?": the rules below read the sentence without
        # the other card's words, never as the voucher card nor its credit.
        sentence = sentence.without(other_card)
    verdict = _first_answer(_AFTER_ANOTHER_CARD, sentence)
    return None if verdict is READ_ON else verdict


def _first_answer(
    groups: tuple[Callable[[Asked], Request | ReadOn], ...], sentence: Asked
) -> Request | ReadOn:
    """The answer of the first group that answers (a request, or None), else READ_ON."""
    for rules in groups:
        verdict = rules(sentence)
        if verdict is not READ_ON:
            return verdict
    return READ_ON


# question_of's groups of rules, in their order (each group's rules in theirs); those after
# another card's words read the sentence without them.
_BEFORE_ANOTHER_CARD: tuple[Callable[[Asked], Request | ReadOn], ...] = (
    courtesy_or_stop,
    need_or_worry,
    shop_asks,
    card_lost,
)
_AFTER_ANOTHER_CARD: tuple[Callable[[Asked], Request | ReadOn], ...] = (
    card_not_working,
    family_or_money,
    spending_or_status,
)


# The questions in words a shop's chat asks about its own money (its takings, the town's
# reimbursements): read at a till's question too, where other words are an answer.
# A customer short of money too ("il cliente non ha abbastanza soldi" where who pays is
# asked): the shop's answer everywhere, never a payer's name.
# The owner's words about the till and its cashiers too ("ultimo pagamento", "ho finito",
# "quanti cassieri ho", "vorrei un codice cassiere"): never read as who pays.
_SHOP_QUESTIONS = frozenset(
    {"statement", "reimbursement", "not_enough", LAST_PAYMENT, CLOSE_TILL, "cashiers",
     "cashier", CASHIER_CANT_JOIN}
)  # fmt: skip


def shop_question(text: str | None) -> tuple[str, str] | None:
    """The statement or the reimbursements a question in words asks for ("quanto ho
    incassato oggi?", "quando paga il comune?"), a customer short of money, or the till's
    and its cashiers' words (_SHOP_QUESTIONS), else None (see question_of)."""
    if shop_or_shops(text) == "new_cashier_code":
        return "cashier", ""
    asked = question_of(text)
    return asked if asked is not None and asked[0] in _SHOP_QUESTIONS else None


def unasked(text: str | None) -> tuple[str, str] | None:
    """The request a message makes in words when nothing is being asked: a payment refused
    in words (refusal_of), a question of question_of, else the one keyword of a sentence
    (in_sentence). The general path (of_answer) and the one-trip plain turn
    (plain_turn.PlainTurn.candidate) both read it."""
    challenge = not_me_challenge_of(text)
    if challenge is not None:
        return CONFIRM_NOT_ME, challenge
    refusal = refusal_of(text)
    if refusal is not None:
        return REFUSE_PAYMENT, refusal
    shop = shop_or_shops(text)
    if shop is not None:
        # "negozio" alone: which of the two (SHOP_OR_SHOPS); "ho un negozio": REGISTRA;
        # "ho un codice cassiere": INVITO.
        return _SHOP_SAID[shop], ""
    return question_of(text) or in_sentence(text)


SHOP_OR_SHOPS = "shop_or_shops"
_SHOP_SAID: dict[ShopSaid, str] = {
    "ask": SHOP_OR_SHOPS,
    "register": "register",
    "shopkeeper": "shopkeeper",
    "join": "join",
    "new_cashier_code": "cashier",
}
