"""Questions in plain words, read when nothing is being asked: question_of checks its rules
in order over the sets of the sibling modules; shop_question is the part a till's question
reads; unasked adds a payment refused in words and the keyword of a sentence. commands
runs what they name."""

from __future__ import annotations

import re
from itertools import pairwise

from core.dialogue import failure_words as failing
from core.dialogue.context import ACKNOWLEDGED, DECLINED
from core.dialogue.keywords import KEYWORDS
from core.dialogue.questions.application import (
    _APPLICATION,
    _APPLYING,
    _ARRIVED,
    _COST,
    _ENTITLED,
    _FREE,
    _GIVEN,
    _GIVEN_OUT,
    _MAY_APPLY,
    _PAID_FOR,
    _PRICE_KEYWORDS,
    _PRICED,
    _PROGRESS,
    _STATUS_KEYWORDS,
    _TO_APPLY,
    _TO_PAY,
    _VOUCHERS,
    _WANT,
    _WINDOW_EDGE,
)
from core.dialogue.questions.cards import (
    _CANT_FIND,
    _CARD,
    _CARD_KEYWORDS,
    _LOST,
    _OTHER_CARD,
    _OTHER_CARD_PAIRS,
    _SURELY_OTHER_CARD,
    another_card,
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
    _NO_MORE,
    _NOT_CAME,
    _PHONE_WORDS,
    _PIN,
    _SCAM,
    _STRANGE,
    _TELL,
    _WHO,
)
from core.dialogue.questions.courtesy import (
    _ACKNOWLEDGED,
    _ACKNOWLEDGED_PAIRS,
    _ACKNOWLEDGING,
    _ACKNOWLEDGING_SIGNS,
    _APOLOGY_WORDS,
    _GREETINGS,
    _HELLO,
    _SORRY,
    _THANKING_SIGNS,
    _THANKS,
    _WHO_ARE_YOU,
    _WITH_THANKS,
    _YOURE_WELCOME,
    APOLOGY,
    _introduces_herself,
    _signs,
)
from core.dialogue.questions.family import (
    _BALANCE_WORDS,
    _DELEGATION,
    _DIED,
    _DIED_PAIRS,
    _FAMILY_ASKS,
    _HELPED_WITH,
    _HELPER,
    _KIN_ASKS,
    _LIVES,
    _MOVED,
    _MOVED_PAIRS,
    _NEAR_WHAT,
    _ON_BEHALF,
    _WITH_US,
    _acts_for_writer,
    _names_a_parent,
    _names_kin_as_holder,
    _names_someone,
)
from core.dialogue.questions.household_size import (
    _SIZE_ALONE,
    CHILDREN_ARG,
    _children,
    _household_size,
    _without_counts,
)
from core.dialogue.questions.money import (
    _ANYTHING,
    _BILLS,
    _CASH,
    _CUT_OFF,
    _ENGLISH_HOW_MUCH,
    _ENOUGH,
    _HOW_MUCH,
    _INSUFFICIENT,
    _JOBLESS,
    _MONEY,
    _NEGATION,
    _NOT_HAVE,
    _REMAINS,
    _RUN_OUT,
    _STILL,
    _TO_PAY_BILLS,
    _UTILITIES,
    _WITHOUT,
    _WORK,
    _payment_refused,
    _penniless,
)
from core.dialogue.questions.sentence import SENTENCE_KEYWORDS, in_sentence
from core.dialogue.questions.shopkeeper import (
    _A_SHOP,
    _ADD,
    _CANT,
    _CASHIER,
    _CASHIERS,
    _GET_IN,
    _LAST,
    _MANY_CASHIERS,
    _NEW_CASHIER,
    _OWES,
    _PAID,
    _REMOVE,
    _STATEMENT_WORDS,
    _TAKINGS,
    _THE_TOWN,
    _TODAY,
    _TOWN_PAYS,
    _WHEN,
    _WHICH_ONES,
    _YOU_OWE,
    CASHIER_CANT_JOIN,
    CHARGE_IN_WORDS,
    CLOSE_TILL,
    CLOSING,
    LAST_PAYMENT,
    _undoes_a_payment,
)
from core.dialogue.questions.spending import (
    _BUY,
    _EXPIRE,
    _HOW,
    _NOT_THE_VOUCHERS,
    _PAYING,
    _SPEND,
    _SPENT_MONEY,
    _UNTIL_WHEN,
    _WHAT_OR_MAY,
    _WHERE,
)
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
    customer_to_charge,
    fold,
    has_digits,
    is_currency,
    month_named,
    plain_words,
    shop_or_shops,
)
from core.domain.shops import searched_category

# Questions in plain words read by the words they hold, when nothing is being asked (see
# commands.of_answer): a handful of deterministic rules over small sets, checked in this
# order, each naming the keywords it may contain (another keyword in the sentence leaves it to
# in_sentence: "vorrei sapere lo stato della domanda" is no application). None of them
# leads to a payment (a charge said in words only asks who pays, as PAGA alone), and a
# message with a digit is never one of them, but for a household size after the amounts'
# question ("quanto danno a una famiglia di 4?", _household_size).
# The keywords each rule may hold: any other one leaves the sentence to in_sentence.
_BALANCE_KEYWORDS = frozenset({"saldo", "credito", "tessera", "carta", "balance", "card"})
_SHOPS_KEYWORDS = frozenset({"negozi", "shops", "tessera", "carta", "card"})
_APPLY_KEYWORDS = frozenset({"domanda", "apply"})
# "Dove si trova l'ufficio?", "dove sono i servizi sociali": where the office is, which
# UFFICIO says ("trova" would read it as a shop search). "Comune" is left out: "dove
# spendo i buoni del comune" asks for the shops.
_OFFICE_PLACE = frozenset(
    {"ufficio", "lufficio", "dellufficio", "allufficio", "uffici", "municipio", "sociali", "office"}
)
_ADDRESS = frozenset({"indirizzo", "address"})
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
    """The request a question in plain words makes (its rules below, in order, over the
    word sets of the package's modules: courtesy, household_size, money, family,
    application, spending, shopkeeper, codes_and_calls, cards; the keywords each rule may
    hold above), else None."""
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
    said = frozenset(words)
    if said <= _WITH_THANKS and every & _THANKS:
        return "thanks", ""  # "ok grazie", "va bene grazie mille", "grazie, gentilissimi"
    if said <= _ACKNOWLEDGING and (
        said & _ACKNOWLEDGED or set(pairwise(words)) & _ACKNOWLEDGED_PAIRS
    ):
        # "Ok", "va bene", "ricevuto" to a notice; with thanks ("ricevuto, grazie") thanks.
        return ("thanks", "") if every & _THANKS else (ACKNOWLEDGED, "")
    if " ".join(words) in CLOSING:
        return CLOSE_TILL, ""  # "ho finito": a shop's till closing (a citizen: not understood)
    if said <= _APOLOGY_WORDS and said & _SORRY:
        return APOLOGY, ""  # "scusi ho sbagliato": no harm done, the menu
    unhello = words[1:] if words[0] in _HELLO else words
    if not unhello or " ".join(unhello) in _WHO_ARE_YOU:
        return "greeting", ""  # "pronto?", "pronto, chi parla?", "chi siete?"
    if len(words) == 1 and KEYWORDS.get(words[0]) == "stop":
        # "Stop per favore": STOP acts only alone (EXACT_ONLY), so how to write it.
        return "stop_hint", ""
    keywords = said & SENTENCE_KEYWORDS
    pairs = set(pairwise(words))
    if said & _MESSAGES and said & _NO_MORE:
        return "stop_hint", ""
    forgot = said & _FORGOT or {"non", "ricordo"} <= said or pairs & _CANT_REMEMBER
    if forgot and said & (_CODE_WORDS | _PIN) and not said & {"fiscale"}:
        return ("forgot_code", "") if keywords <= _CARD_KEYWORDS else None
    if pairs & _ENTITLED or (said & _WHO and said & _MAY_APPLY and said & (_VOUCHERS | {"apply"})):
        return ("who_can_apply", "") if keywords <= _APPLY_KEYWORDS else None
    how_much_given = said & _HOW_MUCH or pairs.intersection(_ENGLISH_HOW_MUCH)
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
    # "Il codice non mi arriva", "I didn't get the code": a payment code late, the same
    # answer as one refused (the cashier writes PAGA again, a new code comes).
    not_came = said & (_CODE_CAME | {"get"}) and said & _NOT_CAME
    if said & _CODE_WORDS and (code_fails or not_came) and not said & (_CARD | {"fiscale", "pin"}):
        return ("code_trouble", "") if not keywords else None
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
    if pairs & {(last, paid) for last in _LAST for paid in _PAID}:
        return (LAST_PAYMENT, "") if not keywords else None
    if said & (_TAKINGS | _STATEMENT_WORDS):
        month = month_named(words)
        if month is not None:
            return "statement", str(month)  # "il rendiconto di ottobre": that month's
        return "statement", "oggi" if said & _TODAY else ""
    if said & _WHEN and said & _TOWN_PAYS:
        return "reimbursement", ""
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
    lost = said & _LOST or pairs & _CANT_FIND
    if lost and said & _CARD and (said & _SURELY_OTHER_CARD or pairs & _OTHER_CARD_PAIRS):
        return ("other_card", "") if keywords <= _CARD_KEYWORDS | {"credito"} else None
    if lost and said & _CARD and not said & _OTHER_CARD:
        return ("lost_card", "") if keywords <= _CARD_KEYWORDS else None
    other_card = another_card(words)
    if other_card:
        # "Devo portare la carta d'identità?": the rules below read the sentence without
        # the other card's words, never as the voucher card nor its credit.
        words = [word for word in words if word not in other_card]
        said, pairs = frozenset(words), set(pairwise(words))
        keywords = said & SENTENCE_KEYWORDS
    card_fails = (said & failing.CARD_WORKS and said & failing.NEGATION) or said & failing.REFUSED
    if said & _CARD and card_fails and not said & _LOST:
        return ("card_trouble", "") if keywords <= _CARD_KEYWORDS else None
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
    run_out = said & _CASH and (
        {"non", "piu"} <= said or pairs & _RUN_OUT or {"no", "left"} <= said
    )
    if (said & _REMAINS and said & _ANYTHING) or run_out or _penniless(said, pairs):
        return ("balance", "") if keywords <= _BALANCE_KEYWORDS else None
    # "Dove posso comprare il pane?": the bakeries, not the question of what to search.
    goods = [
        part
        for word in folded
        for part in word.split("'")  # "un'alimentari" (plain_words joins it)
        if searched_category(part) is not None
    ]
    if said & (_WHERE | _ADDRESS) and said & _OFFICE_PLACE and not goods and not keywords:
        return "office", ""
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
    return None


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
